"""What the browser-driven scripts share: the browser's flags, finding it,
step reporting (console_browser.py, console_admin.py, browser_login.py,
keycloak_js.py), screenshots and the console's form helpers."""

import os
import sys

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


def find_chromium(script):
    """The system's Chromium (IDP_TEST_CHROMIUM, default /usr/bin/chromium),
    or None once "SCRIPT: setup: no Chromium at PATH" is on stderr."""
    chromium = os.environ.get("IDP_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        print(f"{script}: setup: no Chromium at {chromium}", file=sys.stderr)
        return None
    return chromium


def report_failure(script, err):
    """Prints "SCRIPT: <step>: <reason>" to stderr for a walk that failed."""
    reason = str(err) if isinstance(err, StepFailed) else f"{type(err).__name__}: {err}"
    print(f"{script}: {current_step}: {reason}", file=sys.stderr)


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


