"""The official Domino clients, unmodified, against domino-idp.

Run by tests/api/domino_run.rs with the virtualenv of
tests/requirements-domino.txt (dominodatalab==2.2.0, dominodatalab-data==6.7.4,
which pin packaging==23.2 and so live apart from the other consumers).

Environment (set by the Rust test):
  HOST        the issuer's base URL (the Domino API is served at the root)
  API_KEY     a valid API key of user doc
  TOKEN_FILE  a token file kept fresh by `domino-idp agent`
  PROXY       the API proxy, host:port
  USER_ID     doc's stable id
Prints one line per check; exits non-zero on the first failure.
"""

import os

import domino
from domino import Domino
from domino_data.auth import AuthenticatedClient

from client_checks import check

HOST = os.environ["HOST"]
API_KEY = os.environ["API_KEY"]
TOKEN_FILE = os.environ["TOKEN_FILE"]
PROXY = os.environ["PROXY"]
USER_ID = os.environ["USER_ID"]

DOMINO_ENV = ("DOMINO_API_HOST", "DOMINO_USER_API_KEY", "DOMINO_TOKEN_FILE", "DOMINO_API_PROXY")


def clean_env(**values):
    for name in DOMINO_ENV:
        os.environ.pop(name, None)
    os.environ.update(values)


def expect_user_ids(d):
    assert d.get_user_id("doc") == USER_ID, "get_user_id by username"
    assert d.get_user_id("doctor.notes@projectkeep.io") == USER_ID, "get_user_id by email"
    assert d.get_user_id("nobody") is None


def with_api_key_argument():
    clean_env()
    expect_user_ids(Domino("doc/project", host=HOST, api_key=API_KEY))


def with_api_key_from_env():
    clean_env(DOMINO_API_HOST=HOST, DOMINO_USER_API_KEY=API_KEY)
    expect_user_ids(Domino("doc/project"))


def with_auth_token():
    clean_env()
    token = open(TOKEN_FILE).readline().rstrip()
    expect_user_ids(Domino("doc/project", host=HOST, auth_token=token))


def with_token_file():
    clean_env(DOMINO_API_HOST=HOST, DOMINO_TOKEN_FILE=TOKEN_FILE)
    d = Domino("doc/project")
    expect_user_ids(d)
    # The client re-reads the file on every request: it keeps working while
    # the agent replaces the token (the Rust test waits for a refresh).
    first = open(TOKEN_FILE).readline().rstrip()
    import time

    deadline = time.time() + 20
    while open(TOKEN_FILE).readline().rstrip() == first:
        assert time.time() < deadline, "the agent never refreshed the token file"
        time.sleep(0.2)
    expect_user_ids(d)


def with_api_proxy_argument():
    clean_env()
    expect_user_ids(Domino("doc/project", host=HOST, api_proxy=PROXY))


def with_proxy_env_over_a_bogus_key():
    clean_env(
        DOMINO_API_HOST=HOST,
        DOMINO_API_PROXY=f"http://{PROXY}",
        DOMINO_USER_API_KEY="bogus-key-that-must-lose",
    )
    expect_user_ids(Domino("doc/project"))


def a_bogus_key_is_refused():
    clean_env()
    try:
        Domino("doc/project", host=HOST, api_key="bogus").get_user_id("doc")
    except Exception as e:  # noqa: BLE001
        status = getattr(getattr(e, "response", None), "status_code", None)
        assert status != 409, f"a credential problem must never be a 409: {e}"
        assert status == 401, f"expected 401, got {status}: {e}"
        return
    raise AssertionError("a bogus key was accepted")


def data_client_picks(env, header):
    """domino_data's AuthenticatedClient, configured as its DataSourceClient
    does from the environment, reaches /v4/users/self with `header`."""
    clean_env(**env)
    client = AuthenticatedClient(
        base_url=f"{os.environ.get('DOMINO_API_PROXY', HOST)}/v4",
        api_key=os.getenv("DOMINO_USER_API_KEY"),
        token_file=os.getenv("DOMINO_TOKEN_FILE"),
        token_url=os.getenv("DOMINO_API_PROXY"),
        token=None,
    ).with_auth_headers()
    headers = client._get_auth_headers()
    assert header in headers, f"expected {header} in {list(headers)}"
    http = client.get_httpx_client()
    resp = http.get("/users/self")
    assert resp.status_code == 200, f"{resp.status_code} {resp.text}"
    body = resp.json()
    assert body["userName"] == "doc" and body["id"] == USER_ID, body
    assert set(body) == {"firstName", "lastName", "fullName", "userName", "email", "avatarUrl", "id"}, body


check("python-domino with api_key=", with_api_key_argument)
check("python-domino with DOMINO_USER_API_KEY", with_api_key_from_env)
check("python-domino with auth_token=", with_auth_token)
check("python-domino with DOMINO_TOKEN_FILE across a refresh", with_token_file)
check("python-domino with api_proxy=", with_api_proxy_argument)
check("python-domino: DOMINO_API_PROXY wins over a bogus key", with_proxy_env_over_a_bogus_key)
check("python-domino: a bogus key is refused, never 409", a_bogus_key_is_refused)
check("domino_data with DOMINO_USER_API_KEY", lambda: data_client_picks({"DOMINO_USER_API_KEY": API_KEY}, "X-Domino-Api-Key"))
check("domino_data with DOMINO_TOKEN_FILE", lambda: data_client_picks({"DOMINO_TOKEN_FILE": TOKEN_FILE}, "Authorization"))
check("domino_data with DOMINO_API_PROXY (/access-token)", lambda: data_client_picks({"DOMINO_API_PROXY": f"http://{PROXY}"}, "Authorization"))
print(f"domino clients: python-domino {domino.__version__} and domino_data all passed")
