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
import sys

from playwright.sync_api import sync_playwright

import console_common as common
from console_common import alert_text, begin, check, get_tokens, shot, submit
from console_admin import admin


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


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    chromium = common.find_chromium("console_browser")
    if chromium is None:
        return 1
    result = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=common.CHROMIUM_ARGS)
            try:
                for role, walk in (("developer", developer), ("admin", admin)):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.set_default_timeout(common.TIMEOUT_MS)
                    result[role] = walk(context.new_page(), cfg)
                    context.close()
            finally:
                browser.close()
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        common.report_failure("console_browser", err)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
