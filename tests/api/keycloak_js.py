"""keycloak-js 26, unmodified, with default options, in headless Chromium.

usage: keycloak_js.py APP_URL USERNAME PASSWORD

APP_URL is a page on its own origin that loads keycloak-js and calls
`init({onLoad: 'login-required', pkceMethod: 'S256'})`, storing the outcome
in `window.kcResult` and the instance in `window.keycloak`. Steps:
  1. login    the page checks third-party cookies (3p-cookies/step1.html),
              redirects to the login page (response_mode=fragment, PKCE);
              the form is filled in; back on the app, init resolves
              authenticated after the code exchange (a credentialed CORS
              fetch) with the session iframe set up
  2. iframe   the session iframe's init call answered 204
  3. refresh  updateToken(-1): the session iframe says "unchanged", the
              refresh grant (another credentialed fetch) gives a new token
  4. status   fresh session iframes asked directly: this session's id is
              "unchanged", another id "changed", and a client whose web
              origins do not include the app's origin "error"
  5. logout   logout() ends the session and comes back to the app, which
              (login-required) lands on the login page again
Prints a JSON object with the tokens seen; on any failure prints
"keycloak_js: <step>: <reason>" and the browser console to stderr, exits 1.
"""

import json
import sys

from playwright.sync_api import sync_playwright

from console_common import begin, check, find_chromium, report_failure

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
LOGIN_PAGE = "/protocol/openid-connect/auth"


# A fresh session iframe, asked one question the way keycloak-js asks it.
ASK_IFRAME = """async ([message]) => {
    const src = keycloak.endpoints.checkSessionIframe();
    const iframe = document.createElement("iframe");
    iframe.src = src;
    iframe.style.display = "none";
    const loaded = new Promise((resolve) => iframe.addEventListener("load", resolve));
    document.body.appendChild(iframe);
    await loaded;
    const answer = await new Promise((resolve) => {
        const onMessage = (event) => {
            if (event.source === iframe.contentWindow) {
                window.removeEventListener("message", onMessage);
                resolve(event.data);
            }
        };
        window.addEventListener("message", onMessage);
        iframe.contentWindow.postMessage(message, new URL(src).origin);
    });
    iframe.remove();
    return answer;
}"""


def run(page, app_url, username, password, seen):
    result = {}

    begin("login")
    page.goto(app_url)
    page.wait_for_url(lambda url: LOGIN_PAGE in url)
    check("response_mode=fragment" in page.url, f"not keycloak-js's default mode: {page.url}")
    check("code_challenge_method=S256" in page.url, f"no PKCE: {page.url}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_url(lambda url: url.startswith(app_url))
    page.wait_for_function("window.kcResult !== undefined")
    outcome = page.evaluate("window.kcResult")
    check(outcome.get("authenticated") is True, f"init gave {outcome}")
    state = page.evaluate(
        """() => ({
            authenticated: keycloak.authenticated,
            token: keycloak.token,
            refreshToken: keycloak.refreshToken,
            sessionId: keycloak.sessionId,
            refreshTyp: keycloak.refreshTokenParsed && keycloak.refreshTokenParsed.typ,
            allowedOrigins: keycloak.tokenParsed["allowed-origins"],
            username: keycloak.tokenParsed.preferred_username,
            idTyp: keycloak.idTokenParsed && keycloak.idTokenParsed.typ,
        })"""
    )
    check(state["authenticated"] is True, "keycloak.authenticated is not true")
    check(state["refreshTyp"] == "Refresh", f"refresh token parsed as {state['refreshTyp']!r}")
    check(state["idTyp"] == "ID", f"ID token typ {state['idTyp']!r}")
    check(state["sessionId"], "no session id (sid) in the token")
    result["login"] = state

    begin("iframe")
    page.wait_for_function("document.querySelector('iframe[title=keycloak-session-iframe]') !== null")
    check(
        not page.evaluate("document.querySelector('iframe[title=keycloak-3p-check-iframe]')"),
        "the third-party cookie check never answered",
    )

    begin("refresh")
    refreshed = page.evaluate(
        """async () => {
            const refreshed = await keycloak.updateToken(-1);
            return { refreshed, token: keycloak.token, refreshToken: keycloak.refreshToken,
                     authenticated: keycloak.authenticated };
        }"""
    )
    check(refreshed["refreshed"] is True, f"updateToken(-1) gave {refreshed}")
    check(refreshed["authenticated"] is True, "no longer authenticated after the refresh")
    check(refreshed["token"] != state["token"], "the token did not change")
    check(refreshed["refreshToken"] != state["refreshToken"], "the refresh token was not rotated")
    inits = [s for (u, s) in seen if "/login-status-iframe.html/init" in u]
    check(inits == [204], f"session iframe init answers: {inits}")
    result["refresh"] = refreshed

    begin("status")
    for client, sid, expected in [
        ("kcjs-app", state["sessionId"], "unchanged"),
        ("kcjs-app", "another-session", "changed"),
        ("domino-play", state["sessionId"], "error"),
    ]:
        answer = page.evaluate(ASK_IFRAME, [f"{client} {sid}"])
        check(answer == expected, f"{client} {sid}: {answer!r}, expected {expected!r}")

    begin("logout")
    page.evaluate("keycloak.logout()")
    page.wait_for_url(lambda url: LOGIN_PAGE in url)
    logouts = [s for (u, s) in seen if "/protocol/openid-connect/logout" in u]
    check(logouts == [302], f"logout answers: {logouts}")
    result["after_logout"] = page.url
    return result


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    app_url, username, password = sys.argv[1:4]
    chromium = find_chromium("keycloak_js")
    if chromium is None:
        return 1
    console = []
    seen = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
                context.on("response", lambda r: seen.append((r.url, r.status)))
                result = run(page, app_url, username, password, seen)
            finally:
                browser.close()
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        report_failure("keycloak_js", err)
        for line in console:
            print(f"  console {line}", file=sys.stderr)
        for url, status in seen:
            print(f"  {status} {url[:160]}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
