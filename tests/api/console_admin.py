"""The admin half of the console's browser walk (see console_browser.py)."""

import json

from console_common import alert_text, begin, check, get_tokens, jwks_kids, shot, submit


def admin(page, cfg):
    base, name, password, user = cfg["base"], cfg["admin"], cfg["password"], cfg["user"]
    out = {}
    begin("admin sign-in: wrong password")
    page.goto(f"{base}/admin")
    check(page.locator("#login").count() == 1, f"no login page at {page.url}")
    page.fill("#username", name)
    page.fill("#password", password + "-wrong")
    submit(page, "#login")
    check(alert_text(page) == "Invalid username or password.", "no error for a wrong password")

    begin("admin sign-in")
    page.fill("#username", name)
    page.fill("#password", password)
    submit(page, "#login")
    check(page.url == f"{base}/admin/users", f"signed in to {page.url}")
    check(page.locator("#signed-in-as").inner_text() == name, "not signed in as the admin")
    shot(page, "admin-users")

    begin("users: bad create")
    page.fill("#new-username", "bad/name")
    page.fill("#new-password", password)
    submit(page, "#create-user-button")
    check("username" in alert_text(page, "#create-error"), "no username error")
    check(page.get_attribute("#new-username", "aria-invalid") == "true", "the field is not marked")
    check(page.input_value("#new-password") == "", "the password was echoed back")

    begin("users: create")
    page.fill("#new-username", "newbie")
    page.fill("#new-password", password)
    page.fill("#new-email", "newbie@example.com")
    page.fill("#new-groups", "devs")
    submit(page, "#create-user-button")
    check(page.url.startswith(f"{base}/admin/users/newbie"), f"created user page is {page.url}")
    check(page.locator("#notice").count() == 1, "no notice after the create")

    begin("users: search")
    page.goto(f"{base}/admin/users?q=newbie%40example")
    rows = page.locator("#users tbody tr")
    check(rows.count() == 1 and "newbie" in rows.first.inner_text(), "the search did not find newbie")

    begin("users: disable and enable")
    page.goto(f"{base}/admin/users/newbie")
    submit(page, "#disable-user")
    check(page.locator("#user-enabled").inner_text() == "no", "not disabled")
    submit(page, "#enable-user")
    check(page.locator("#user-enabled").inner_text() == "yes", "not enabled")

    begin("users: set password")
    page.evaluate("document.getElementById('set-password').removeAttribute('required')")
    submit(page, "#set-password-button")
    check(page.locator("#password-error").count() == 1, "no error for an empty password")
    page.fill("#set-password", password + "-2")
    submit(page, "#set-password-button")
    check("password was changed" in page.locator("#notice").inner_text(), "no notice")

    begin("users: edit")
    page.fill("#edit-email", "not-an-email")
    submit(page, "#save-user")
    check("email" in alert_text(page, "#edit-error"), "no error for a bad email")
    check(page.get_attribute("#edit-email", "aria-invalid") == "true", "the email field is not marked")
    page.fill("#edit-email", "newbie2@example.com")
    page.fill("#edit-groups", "devs testers")
    submit(page, "#save-user")
    check(page.locator("#notice").inner_text().strip() == "Saved.", "no notice after the edit")
    check(page.input_value("#edit-groups") == "devs testers", "the groups were not saved")
    shot(page, "admin-user")

    begin("log in as the new user")
    get_tokens(page, base, "newbie", password + "-2")
    check(page.locator("#keep").count() == 1, "the new user could not get a token")

    begin("mappers: bad add")
    page.goto(f"{base}/admin/mappers")
    page.fill("#mapper-name", "broken")
    page.select_option("#mapper-type", "user-attribute")
    page.fill("#mapper-claim", "dept")
    submit(page, "#add-mapper-button")
    check(page.locator("#mapper-error").count() == 1, "no error for a mapper without attribute")

    begin("mappers: add")
    page.fill("#mapper-name", "team")
    page.select_option("#mapper-type", "hardcoded")
    page.fill("#mapper-claim", "team")
    page.fill("#mapper-value", "blue")
    submit(page, "#add-mapper-button")
    check("team" in page.locator("#mappers").inner_text(), "the mapper is not listed")

    begin("mappers: preview")
    page.fill("#preview-user", "newbie")
    submit(page, "#preview-button")
    preview = json.loads(page.locator("#preview").inner_text())
    check(preview.get("team") == "blue", f"the preview lacks the claim: {preview}")
    page.fill("#preview-user", "nobody-here")
    submit(page, "#preview-button")
    check("no user" in alert_text(page, "#preview-error"), "no error for an unknown user")
    page.fill("#preview-user", "newbie")
    submit(page, "#preview-button")
    shot(page, "admin-mappers")
    get_tokens(page, base, "newbie", password + "-2")
    check('"team": "blue"' in page.locator("#keep .claims").inner_text(),
          "a fresh token lacks the mapper's claim")

    begin("keys: rotate")
    before = jwks_kids(page, base)
    page.goto(f"{base}/admin/keys")
    submit(page, "#rotate")
    after = jwks_kids(page, base)
    check(len(after) == len(before) + 1, f"the JWKS did not gain a key: {before} -> {after}")
    new_kid = [k for k in after if k not in before][0]
    check("published ahead" in page.locator("#keys").inner_text(), "the new key is not published ahead")
    dl = page.request.get(f"{base}/admin/keys/jwks.json")
    check(dl.ok and len(dl.json()["keys"]) == len(after), "the JWKS download differs")
    pem = page.request.get(f"{base}/admin/keys/{new_kid}/pem")
    check(pem.ok and pem.text().startswith("-----BEGIN PUBLIC KEY-----"), "no PEM download")
    submit(page, "#rotate")
    check(page.locator("#keys-error").count() == 1, "a second rotation was not refused")
    shot(page, "admin-keys")

    begin("keys: retire")
    page.goto(f"{base}/admin/keys")
    page.once("dialog", lambda d: d.accept())
    submit(page, f"button[aria-label='Retire key {new_kid}']")
    check(jwks_kids(page, base) == before, "the retired key is still published")

    begin("clients: bad create")
    page.goto(f"{base}/admin/clients")
    page.fill("#client_id", "webapp")
    page.fill("#redirect_uris", "not-a-uri")
    submit(page, "#create-client-button")
    check(page.locator("#client-error").count() == 1, "no error for a bad redirect URI")

    begin("clients: create")
    page.fill("#client_id", "webapp")
    page.fill("#redirect_uris", "https://app.example/callback")
    submit(page, "#create-client-button")
    secret = page.input_value("#client-secret-once")
    check(len(secret) >= 32, "the secret is not shown")
    out["client_secret"] = secret
    shot(page, "admin-clients")
    page.goto(f"{base}/admin/clients")
    check(page.locator("#client-secret-once").count() == 0, "the secret is shown twice")

    begin("clients: edit")
    page.goto(f"{base}/admin/clients/webapp")
    page.fill("#edit-redirect-uris", "not-a-uri")
    submit(page, "#save-client")
    check(page.locator("#client-edit-error").count() == 1, "no error for a bad redirect URI")
    page.fill("#edit-redirect-uris", "https://app.example/cb2")
    page.check("#grant_client_credentials")
    submit(page, "#save-client")
    check(page.locator("#notice").inner_text().strip() == "Saved.", "no notice after the edit")
    check(page.input_value("#edit-redirect-uris") == "https://app.example/cb2", "not saved")

    begin("clients: rotate the secret")
    page.once("dialog", lambda d: d.accept())
    submit(page, "#rotate-secret")
    check(page.locator("#client-secret-once").count() == 1,
          f"no new secret: {page.locator('main').inner_text()[:300]}")
    rotated = page.input_value("#client-secret-once")
    check(len(rotated) >= 32 and rotated != secret, "no new secret shown")
    token_url = f"{base}/auth/realms/DominoRealm/protocol/openid-connect/token"
    for presented, status in ((secret, 401), (rotated, 200)):
        r = page.request.post(token_url, form={
            "grant_type": "client_credentials", "client_id": "webapp", "client_secret": presented})
        check(r.status == status, f"client_credentials with the {'old' if status == 401 else 'new'} "
              f"secret: HTTP {r.status}")

    begin("clients: remove")
    page.once("dialog", lambda d: d.accept())
    submit(page, "#remove-client")
    check("webapp" not in page.locator("#clients").inner_text(), "the client is still listed")

    begin("sessions: end all of a user")
    page.goto(f"{base}/admin/sessions")
    check(user in page.locator("#sessions").inner_text(), "the user's sessions are not listed")
    shot(page, "admin-sessions")
    submit(page, f"button[aria-label='End all sessions of {user}']")
    check(user not in (page.locator("#sessions").inner_text()
                       if page.locator("#sessions").count() else ""),
          "the user's sessions are still listed")

    begin("users: remove")
    page.goto(f"{base}/admin/users/newbie")
    page.once("dialog", lambda d: d.accept())
    submit(page, "#remove-user")
    check("newbie" not in page.locator("#users").inner_text(), "the user is still listed")

    begin("sign out")
    submit(page, "#sign-out")
    check(page.locator("h1").inner_text().strip() == "Signed out", "not signed out")
    page.goto(f"{base}/admin")
    check(page.locator("#login").count() == 1, f"after sign-out /admin is {page.url}")
    return out
