"""Sign in to domino-idp with a real headless Chromium, as a person would.

usage: browser_login.py AUTHORIZE_URL USERNAME PASSWORD [AGAIN_URL]

AUTHORIZE_URL is a complete authorization request (response_type=code, a
state, a redirect_uri the test listens on). In one browser context:
  1. xss       AUTHORIZE_URL with state = '"><script>window.pwned=1</script>':
               the login page shows, the payload sits inert in the hidden
               state input, no <script> element exists, window.pwned is unset
  2. wrong     a wrong password re-renders the form with the role=alert
               message "Invalid username or password." and no redirect
  3. login     AUTHORIZE_URL: the form is filled in, #login clicked, and the
               browser lands on the redirect_uri with a code
  4. again     AGAIN_URL (if given): the session cookie from step 3 skips the
               form and the browser lands on the redirect_uri directly
Prints a JSON object with the URL each of steps 3 and 4 ended on; on any
failure prints "browser_login: <step>: <reason>" to stderr and exits 1.

The browser is the system's Chromium (IDP_TEST_CHROMIUM, default
/usr/bin/chromium), never one downloaded by `playwright install`.
"""

import json
import sys
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from playwright.sync_api import sync_playwright

from console_common import CHROMIUM_ARGS, TIMEOUT_MS, begin, check, find_chromium, report_failure

XSS_STATE = '"><script>window.pwned=1</script>'
BAD_CREDENTIALS = "Invalid username or password."


def with_param(url, name, value):
    """`url` with query parameter `name` replaced by `value`."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query[name] = [value]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def same_endpoint(a, b):
    """Whether two URLs differ at most in their query and fragment."""
    return urlsplit(a)[:3] == urlsplit(b)[:3]


def expect_login_form(page):
    """The page is the login form: username, password, the #login button."""
    check(page.locator("form").count() == 1, f"no login form at {page.url}")
    for selector in ("input#username", "input#password[type=password]", "#login",
                     "input[type=hidden][name=csrf_token]"):
        check(page.locator(selector).count() == 1, f"login form lacks {selector}")


def run(page, authorize_url, username, password, again_url):
    redirect_uri = parse_qs(urlsplit(authorize_url).query)["redirect_uri"][0]
    on_callback = lambda url: url.startswith(redirect_uri + "?")  # noqa: E731
    result = {}

    begin("xss")
    response = page.goto(with_param(authorize_url, "state", XSS_STATE))
    check(response.status == 200, f"login page: HTTP {response.status}")
    expect_login_form(page)
    check(page.evaluate("typeof window.pwned") == "undefined", "the state's script ran")
    check(page.locator("script").count() == 0, "the state's <script> became an element")
    echoed = page.locator("input[type=hidden][name=state]").get_attribute("value")
    check(echoed == XSS_STATE, f"state echoed as {echoed!r}")

    begin("wrong")
    page.goto(authorize_url)
    expect_login_form(page)
    page.fill("#username", username)
    page.fill("#password", password + "-wrong")
    with page.expect_navigation():
        page.click("#login")
    check(not on_callback(page.url), f"a wrong password reached the client: {page.url}")
    alert = page.locator("[role=alert]")
    check(alert.count() == 1, "no role=alert message after a wrong password")
    check(alert.inner_text().strip() == BAD_CREDENTIALS, f"alert says {alert.inner_text()!r}")
    expect_login_form(page)
    check(page.input_value("#username") == username, "the typed username was not kept")
    check(page.input_value("#password") == "", "the password was echoed back")

    begin("login")
    page.goto(authorize_url)
    expect_login_form(page)
    check(page.locator("[role=alert]").count() == 0, "a fresh login page shows an error")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_url(on_callback)
    check(page.locator("body").inner_text() != "", "the callback page is empty")
    result["login"] = page.url

    if again_url:
        begin("again")
        response = page.goto(again_url)
        check(on_callback(page.url), f"second authorization ended on {page.url}")
        # Exactly one hop: the authorization endpoint redirected straight to
        # the client, with no login page in between.
        first = response.request.redirected_from
        check(first is not None and same_endpoint(first.url, again_url),
              "the callback was not reached by a redirect from the authorize URL")
        check(first.redirected_from is None, "more than one redirect before the callback")
        result["again"] = page.url

    return result


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    authorize_url, username, password = sys.argv[1:4]
    again_url = sys.argv[4] if len(sys.argv) == 5 else None
    chromium = find_chromium("browser_login")
    if chromium is None:
        return 1

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                result = run(page, authorize_url, username, password, again_url)
            finally:
                browser.close()
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        report_failure("browser_login", err)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
