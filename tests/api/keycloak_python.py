"""python-keycloak's KeycloakOpenID, unmodified, against domino-idp.

Run by tests/api/keycloak_python.rs with SERVER_URL (the base the way
python-keycloak wants it: "<base>/auth/" for the default layout, "<base>/"
for http_relative_path = "/"), ISSUER, CLIENT_SECRET and PASSWORD. Prints one
line per call; exits non-zero on the first failure.
"""

import os

from keycloak import KeycloakOpenID

from client_checks import check

SERVER_URL = os.environ["SERVER_URL"]
ISSUER = os.environ["ISSUER"]
kc = KeycloakOpenID(
    server_url=SERVER_URL,
    realm_name="DominoRealm",
    client_id="domino-play",
    client_secret_key=os.environ["CLIENT_SECRET"],
)


state = {}


def well_known():
    doc = kc.well_known()
    assert doc["issuer"] == ISSUER, doc["issuer"]


def token():
    state["t"] = kc.token("doc", os.environ["PASSWORD"], scope="openid profile email")
    assert state["t"]["token_type"] == "Bearer"


def userinfo():
    info = kc.userinfo(state["t"]["access_token"])
    assert info["preferred_username"] == "doc", info


def userinfo_openid_alone():
    # The client's default scopes (Keycloak's profile, email, roles) apply
    # though the request names only openid: the claims are there, `scope`
    # lists what was asked, and the roles sit where Keycloak puts them.
    t = kc.token("doc", os.environ["PASSWORD"], scope="openid")
    info = kc.userinfo(t["access_token"])
    assert info["preferred_username"] == "doc", info
    assert info["email"] == "doctor.notes@projectkeep.io", info
    assert info["name"] == "Doctor Notes", info
    assert t["scope"] == "openid", t["scope"]
    claims = kc.decode_token(t["access_token"])
    roles = claims["realm_access"]["roles"]
    assert "default-roles-dominorealm" in roles and "offline_access" in roles, claims
    id_claims = kc.decode_token(t["id_token"], validate=False)
    assert id_claims["email"] == "doctor.notes@projectkeep.io", id_claims


def public_key_and_decode():
    assert kc.public_key()
    claims = kc.decode_token(state["t"]["access_token"])
    assert claims["iss"] == ISSUER and claims["typ"] == "Bearer", claims


def certs():
    assert kc.certs()["keys"]


def introspect():
    assert kc.introspect(state["t"]["access_token"])["active"] is True


def refresh():
    state["t"] = kc.refresh_token(state["t"]["refresh_token"])
    assert state["t"]["access_token"]


def refresh_token_is_a_jwt_the_jwks_cannot_verify():
    rt = state["t"]["refresh_token"]
    claims = kc.decode_token(rt, validate=False)
    assert claims["typ"] == "Refresh" and claims["iss"] == ISSUER, claims
    assert kc.introspect(rt, token_type_hint="refresh_token")["active"] is True
    try:
        kc.decode_token(rt)
    except Exception:  # noqa: BLE001 - any refusal will do
        return
    raise AssertionError("a refresh token verified against the JWKS")


def logout_ends_the_session():
    kc.logout(state["t"]["refresh_token"])
    assert kc.introspect(state["t"]["access_token"])["active"] is False
    try:
        kc.userinfo(state["t"]["access_token"])
    except Exception as e:  # noqa: BLE001 - python-keycloak raises on the 401
        assert "401" in str(getattr(e, "response_code", "")) or "401" in str(e), repr(e)
    else:
        raise AssertionError("userinfo still answers after logout")


def client_credentials():
    t = kc.token(grant_type="client_credentials")
    assert t["access_token"]


for name, fn in [
    ("well_known", well_known),
    ("token (password)", token),
    ("userinfo", userinfo),
    ("userinfo with openid alone", userinfo_openid_alone),
    ("public_key + decode_token", public_key_and_decode),
    ("certs", certs),
    ("introspect", introspect),
    ("refresh_token", refresh),
    ("refresh token: a JWT the JWKS cannot verify", refresh_token_is_a_jwt_the_jwks_cannot_verify),
    ("logout ends the session", logout_ends_the_session),
    ("token (client_credentials)", client_credentials),
]:
    check(name, fn)
print("python-keycloak: all passed")
