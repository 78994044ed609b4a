"""Drive domino-idp with Authlib, an OAuth 2 / OpenID Connect client this
project did not write, the way a third-party Python application would.

usage: interop_authlib.py ISSUER CLIENT_ID CLIENT_SECRET USERNAME PASSWORD [REDIRECT_URI]
Each argument may instead come from the environment: DOMINO_IDP_ISSUER,
DOMINO_IDP_CLIENT_ID, DOMINO_IDP_CLIENT_SECRET, DOMINO_IDP_USERNAME,
DOMINO_IDP_PASSWORD, DOMINO_IDP_REDIRECT_URI.

Everything is found through the discovery document. Steps, in order:
  discovery           GET ISSUER/.well-known/openid-configuration
  password            password grant, scope "openid profile email"; the ID
                      token is checked against the JWKS (iss, aud, at_hash)
  userinfo            the access token at the userinfo endpoint
  refresh             Authlib's refresh_token(); the refresh token rotates and
                      the old one is refused afterwards
  client_credentials  a service token for the client itself
  authorization_code  code flow with PKCE S256 and a nonce; the login form is
                      filled in with `requests` (cookies and csrf_token kept),
                      the 303 to the redirect URI is read, not followed
  introspect/revoke   RFC 7662 / RFC 7009 on the code flow's tokens
Prints a JSON summary on success; on any failure prints
"interop_authlib: <step>: <reason>" to stderr and exits 1.

The redirect URI is never contacted: only its Location is read.
"""

import argparse
import contextlib
import json
import os
import secrets
import sys
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken

# authlib.jose still works in Authlib 1.x but warns that joserfc replaces it.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, JsonWebToken

TIMEOUT = 10
DEFAULT_REDIRECT_URI = "http://127.0.0.1:9/callback"


class StepFailed(Exception):
    pass


_current_step = "setup"


@contextlib.contextmanager
def step(name):
    """Names the step that any failure inside is reported under."""
    global _current_step
    _current_step = name
    yield


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def parse_args():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("issuer", nargs="?", default=env("DOMINO_IDP_ISSUER"))
    p.add_argument("client_id", nargs="?", default=env("DOMINO_IDP_CLIENT_ID"))
    p.add_argument("client_secret", nargs="?", default=env("DOMINO_IDP_CLIENT_SECRET"))
    p.add_argument("username", nargs="?", default=env("DOMINO_IDP_USERNAME"))
    p.add_argument("password", nargs="?", default=env("DOMINO_IDP_PASSWORD"))
    p.add_argument(
        "redirect_uri",
        nargs="?",
        default=env("DOMINO_IDP_REDIRECT_URI", DEFAULT_REDIRECT_URI),
    )
    args = p.parse_args()
    missing = [k for k, v in vars(args).items() if not v]
    if missing:
        p.error("missing " + ", ".join(missing))
    return args


class LoginFormParser(HTMLParser):
    """Collects the first <form>'s action and its <input> names and values."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.method = None
        self.fields = {}
        self.input_types = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self._done:
            self._in_form = True
            self.action = a.get("action")
            self.method = (a.get("method") or "get").lower()
        elif tag == "input" and self._in_form and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
            self.input_types[a["name"]] = a.get("type", "text")

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def load_jwks(metadata):
    resp = requests.get(metadata["jwks_uri"], timeout=TIMEOUT)
    resp.raise_for_status()
    return JsonWebKey.import_key_set(resp.json())


def verify_id_token(id_token, jwks, metadata, client_id, access_token, nonce=None):
    """Signature against the JWKS, then the OIDC Core §3.1.3.7 claim checks."""
    algs = metadata.get("id_token_signing_alg_values_supported", ["RS256"])
    claims = JsonWebToken(algs).decode(
        id_token,
        jwks,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": client_id},
        },
        claims_params={
            "client_id": client_id,
            "access_token": access_token,
            "nonce": nonce,
        },
    )
    claims.validate(leeway=5)
    check(claims.header.get("alg") == "RS256", f"alg {claims.header.get('alg')!r}")
    aud = claims["aud"]
    check(
        aud == client_id or (isinstance(aud, list) and client_id in aud),
        f"aud {aud!r} is not {client_id!r}",
    )
    if nonce is not None:
        check(claims.get("nonce") == nonce, f"nonce {claims.get('nonce')!r} != {nonce!r}")
    return dict(claims)


def follow_login_form(authorize_url, username, password, redirect_uri):
    """Plays the browser: GET the login page, submit the form, and return the
    Location of the 303 back to the client (not followed)."""
    browser = requests.Session()
    page = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    check(page.status_code == 200, f"authorize page: HTTP {page.status_code}: {page.text[:300]}")
    check(
        page.headers.get("content-type", "").startswith("text/html"),
        f"authorize page content-type {page.headers.get('content-type')!r}",
    )
    form = LoginFormParser()
    form.feed(page.text)
    check(form.action, "no <form> on the login page")
    check(form.method == "post", f"login form method {form.method!r}")
    check("csrf_token" in form.fields, "login form has no csrf_token")
    check("username" in form.fields and "password" in form.fields, "no username/password inputs")
    data = dict(form.fields)
    data["username"] = username
    data["password"] = password
    resp = browser.post(
        urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=TIMEOUT
    )
    check(
        resp.status_code == 303,
        f"login POST: expected 303, got HTTP {resp.status_code}: {resp.text[:300]}",
    )
    location = resp.headers.get("location", "")
    check(location.startswith(redirect_uri + "?"), f"redirected to {location!r}")
    return location


def run(args):
    summary = {}
    issuer = args.issuer.rstrip("/")
    scope = "openid profile email"

    with step("discovery"):
        resp = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
        resp.raise_for_status()
        metadata = resp.json()
        check(metadata.get("issuer") == issuer, f"issuer {metadata.get('issuer')!r}")
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
            check(metadata.get(key), f"no {key}")
        check("S256" in metadata.get("code_challenge_methods_supported", []), "no S256")
        jwks = load_jwks(metadata)
        summary["discovery"] = {"issuer": metadata["issuer"]}

    token_endpoint = metadata["token_endpoint"]

    def new_session(**kwargs):
        s = OAuth2Session(
            args.client_id,
            args.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            **kwargs,
        )
        s.metadata.update(metadata)
        return s

    with step("password"):
        client = new_session(scope=scope)
        token = client.fetch_token(
            token_endpoint,
            grant_type="password",
            username=args.username,
            password=args.password,
        )
        check(token.get("token_type", "").lower() == "bearer", f"token_type {token.get('token_type')!r}")
        for key in ("access_token", "refresh_token", "id_token", "expires_in"):
            check(key in token, f"token response has no {key}")
        check("openid" in token.get("scope", "").split(), f"scope {token.get('scope')!r}")
        id_claims = verify_id_token(
            token["id_token"], jwks, metadata, args.client_id, token["access_token"]
        )
        summary["password"] = {
            "scope": token["scope"],
            "expires_in": token["expires_in"],
            "id_token": id_claims,
        }

    with step("userinfo"):
        resp = client.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
        check(resp.status_code == 200, f"HTTP {resp.status_code}: {resp.text[:300]}")
        userinfo = resp.json()
        check(userinfo.get("sub") == id_claims["sub"], f"sub {userinfo.get('sub')!r} != ID token's")
        summary["userinfo"] = userinfo

    with step("refresh"):
        old_refresh = token["refresh_token"]
        refreshed = client.refresh_token(token_endpoint, refresh_token=old_refresh)
        check(refreshed.get("access_token"), "no access_token after refresh")
        check(
            refreshed.get("refresh_token") and refreshed["refresh_token"] != old_refresh,
            "refresh token did not rotate",
        )
        if "id_token" in refreshed:
            verify_id_token(
                refreshed["id_token"], jwks, metadata, args.client_id, refreshed["access_token"]
            )
        resp = client.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
        check(resp.status_code == 200, f"userinfo with the refreshed token: HTTP {resp.status_code}")
        # A rotated refresh token must be refused.
        try:
            new_session(scope=scope).refresh_token(token_endpoint, refresh_token=old_refresh)
        except OAuthError as err:
            check(err.error == "invalid_grant", f"reuse refused with {err.error!r}, not invalid_grant")
        else:
            raise StepFailed("a rotated refresh token was accepted again")
        summary["refresh"] = {"rotated": True, "old_token_refused": True}

    with step("client_credentials"):
        service = new_session()
        cc = service.fetch_token(token_endpoint, grant_type="client_credentials")
        check(cc.get("access_token"), "no access_token")
        check(cc.get("token_type", "").lower() == "bearer", f"token_type {cc.get('token_type')!r}")
        summary["client_credentials"] = {
            "expires_in": cc.get("expires_in"),
            "scope": cc.get("scope"),
            "refresh_token": "refresh_token" in cc,
        }

    with step("authorization_code"):
        code_client = new_session(
            scope=scope, redirect_uri=args.redirect_uri, code_challenge_method="S256"
        )
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = code_client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        query = parse_qs(urlsplit(url).query)
        check(query.get("code_challenge_method") == ["S256"], f"authorize URL {url}")
        location = follow_login_form(url, args.username, args.password, args.redirect_uri)
        returned = parse_qs(urlsplit(location).query)
        check(returned.get("state") == [state], f"state {returned.get('state')!r} != {state!r}")
        check(returned.get("iss") == [issuer], f"iss {returned.get('iss')!r} (RFC 9207)")
        code_token = code_client.fetch_token(
            token_endpoint, authorization_response=location, code_verifier=verifier
        )
        check("id_token" in code_token, "no id_token")
        code_claims = verify_id_token(
            code_token["id_token"], jwks, metadata, args.client_id,
            code_token["access_token"], nonce=nonce,
        )
        check("at_hash" in code_claims, "ID token has no at_hash")
        check("auth_time" in code_claims, "ID token has no auth_time")
        check(code_claims["sub"] == id_claims["sub"], "code flow sub differs from password grant's")
        # The code is single use.
        try:
            new_session(scope=scope, redirect_uri=args.redirect_uri).fetch_token(
                token_endpoint, authorization_response=location, state=state,
                code_verifier=verifier,
            )
        except OAuthError as err:
            check(err.error == "invalid_grant", f"code reuse refused with {err.error!r}")
        else:
            raise StepFailed("an authorization code was accepted twice")
        summary["authorization_code"] = {
            "scope": code_token.get("scope"),
            "id_token": code_claims,
            "nonce_ok": True,
        }

    if metadata.get("introspection_endpoint") and metadata.get("revocation_endpoint"):
        with step("introspect"):
            resp = code_client.introspect_token(
                metadata["introspection_endpoint"], token=code_token["access_token"]
            )
            check(resp.status_code == 200, f"HTTP {resp.status_code}: {resp.text[:300]}")
            info = resp.json()
            check(info.get("active") is True, f"access token not active: {info}")
            check(info.get("client_id") == args.client_id, f"client_id {info.get('client_id')!r}")
        with step("revoke"):
            resp = code_client.revoke_token(
                metadata["revocation_endpoint"],
                token=code_token["refresh_token"],
                token_type_hint="refresh_token",
            )
            check(resp.status_code == 200, f"HTTP {resp.status_code}: {resp.text[:300]}")
            resp = code_client.introspect_token(
                metadata["introspection_endpoint"],
                token=code_token["refresh_token"],
                token_type_hint="refresh_token",
            )
            check(resp.status_code == 200, f"introspect: HTTP {resp.status_code}")
            check(resp.json().get("active") is False, f"revoked token still active: {resp.text}")
            summary["revoke"] = {"refresh_token_inactive": True}

    return summary


def main():
    args = parse_args()
    try:
        summary = run(args)
    except OAuthError as err:
        print(
            f"interop_authlib: {_current_step}: OAuth error {err.error}: {err.description}",
            file=sys.stderr,
        )
        return 1
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        print(f"interop_authlib: {_current_step}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
