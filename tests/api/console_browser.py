"""Walk the web console with a real headless Chromium, as a person would.

usage: console_browser.py INPUT_JSON

INPUT_JSON names the server (`base`), the accounts (`admin`, `user`, a
shared `password`) and tokens the test prepared (`expired`, `bad_signature`,
`wrong_issuer`, `unknown_kid`). Two browser contexts:

  developer  the start page: endpoints and copy buttons, get-a-token (wrong
             password, then both tokens), check-a-token (every verdict),
             <issuer>/, 360 px wide, the keyboard; admin sign-in as a
             non-admin (refused with a 403 page)
  admin      sign-in as an admin (a wrong password first); users (a bad
             create, a create, disable/enable, a bad and a good password);
             log in as the new user from the start page; mappers (a bad
             add, an add, the preview, the claim in a fresh token); keys
             (rotate: the JWKS gains a kid; retire it: the JWKS loses it;
             downloads); clients (a bad create, a create with its secret
             shown once, remove); sessions (end all of `user`); remove the
             new user; sign out (the console asks for a login again)

With IDP_SCREENSHOTS set to a directory, saves PNGs of the main pages there.
Prints a JSON object of what the Rust side checks next; on any failure
prints "console_browser: <step>: <reason>" to stderr and exits 1.
"""

import json
import os
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
current_step = "setup"
SHOTS = os.environ.get("IDP_SCREENSHOTS") or ""


class StepFailed(Exception):
    pass


def begin(step):
    global current_step
    current_step = step


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def submit(page, button):
    """Clicks a submit button and waits for the page it leads to."""
    with page.expect_navigation():
        page.click(button)


def alert_text(page, selector="[role=alert]"):
    loc = page.locator(selector)
    check(loc.count() >= 1, f"no {selector} on {page.url}")
    return loc.first.inner_text().strip()


def jwks_kids(page, base):
    doc = page.request.get(f"{base}/auth/realms/DominoRealm/protocol/openid-connect/certs").json()
    return sorted(k["kid"] for k in doc["keys"])


def get_tokens(page, base, username, password, scope=""):
    page.goto(f"{base}/")
    page.fill("#username", username)
    page.fill("#password", password)
    if scope:
        page.fill("#scope", scope)
    submit(page, "#get-token")


def check_verdict(page, base, token, expected):
    page.goto(f"{base}/")
    page.fill("#check-token", token)
    submit(page, "#check")
    got = page.locator("#verdict-word").inner_text().strip()
    check(got == expected, f"verdict {got!r} for a token that should be {expected!r}: "
          f"{page.locator('#verdict').inner_text()}")


def developer(page, cfg):
    base, user, password = cfg["base"], cfg["user"], cfg["password"]
    begin("start page")
    response = page.goto(f"{base}/")
    check(response.status == 200, f"GET / answered {response.status}")
    jwks_url = page.input_value("#ep-jwks")
    check(jwks_url == f"{base}/auth/realms/DominoRealm/protocol/openid-connect/certs",
          f"JWKS URL {jwks_url}")
    check(page.locator("button.copy[data-copy=ep-jwks]").is_visible(),
          "the copy buttons did not appear (console.js did not run)")
    check(page.locator("script:not([src])").count() == 0, "an inline script")
    shot(page, "start")

    begin("get a token: wrong password")
    get_tokens(page, base, user, password + "-wrong")
    check(alert_text(page, "#token-error") == "Invalid username or password.",
          "no error for a wrong password")
    check(page.input_value("#password") == "", "the password was echoed back")
    check(page.input_value("#username") == user, "the username was not kept")

    begin("get a token")
    get_tokens(page, base, user, password)
    check(page.locator("#keep").count() == 1, "no Keep token")
    check(page.locator("#oauth").count() == 1,
          f"no OAuth token: {page.locator('.tokens').inner_text()}")
    keep = page.input_value("#tok-keep")
    oauth = page.input_value("#tok-oauth")
    check(keep.count(".") == 2 and oauth.count(".") == 2, "the bearers are not JWTs")
    check(f'"{user}"' in page.locator("#keep .claims").inner_text(), "the Keep claims lack the user")
    page.wait_for_function("document.querySelector('#keep .countdown').textContent.startsWith('(in ')")
    check("curl -H 'Authorization: Bearer " in page.locator("#keep").inner_text(), "no curl command")
    check(page.input_value("#password") == "", "the password was echoed back")
    shot(page, "start-tokens")

    begin("check a token")
    check_verdict(page, base, keep, "valid")
    check(f'"{user}"' in page.locator("#check-claims").inner_text(), "the checked claims are not shown")
    check_verdict(page, base, oauth, "valid")
    check_verdict(page, base, cfg["expired"], "expired")
    check_verdict(page, base, cfg["bad_signature"], "bad signature")
    check_verdict(page, base, cfg["wrong_issuer"], "wrong issuer")
    check_verdict(page, base, cfg["unknown_kid"], "unknown kid")
    check_verdict(page, base, "not-a-jwt", "malformed")
    shot(page, "start-check")

    begin("issuer page")
    response = page.goto(f"{base}/auth/realms/DominoRealm/")
    check(response.status == 200 and page.locator("#get-token").count() == 1,
          "<issuer>/ is not the start page")

    begin("360 px")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{base}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    check(width <= 360, f"the start page is {width}px wide at 360px")
    shot(page, "start-360")
    page.set_viewport_size({"width": 1280, "height": 900})

    begin("keyboard")
    page.goto(f"{base}/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    check(page.evaluate("document.activeElement.id") == "username",
          "Tab never reached the username field")
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page.locator("#keep").count() == 1, "a keyboard-only get-a-token failed")

    begin("admin sign-in: not an admin")
    page.goto(f"{base}/admin")
    page.fill("#username", user)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login")
    check("/admin/callback" in page.url, f"ended on {page.url}")
    check(page.locator("h1").inner_text().strip() == "Not an administrator",
          f"a non-admin got {page.locator('h1').inner_text()!r}")
    return {"oauth": oauth}


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


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    chromium = os.environ.get("IDP_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        print(f"console_browser: setup: no Chromium at {chromium}", file=sys.stderr)
        return 1
    result = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                for role, walk in (("developer", developer), ("admin", admin)):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.set_default_timeout(TIMEOUT_MS)
                    result[role] = walk(context.new_page(), cfg)
                    context.close()
            finally:
                browser.close()
    except StepFailed as err:
        print(f"console_browser: {current_step}: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        print(f"console_browser: {current_step}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
