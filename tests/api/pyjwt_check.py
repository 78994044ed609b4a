"""Verify a domino-idp token the way a third-party Python service would.

usage: pyjwt_check.py JWKS_URL REALM_URL TOKEN ISSUER AUDIENCE
Prints the claims as JSON when the token verifies both with the key PyJWKClient
fetched from the JWKS and with the realm's public_key; exits 1 otherwise.
"""
import base64
import json
import sys
import urllib.request

import jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

jwks_url, realm_url, token, issuer, audience = sys.argv[1:6]

try:
    signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    from_jwks = jwt.decode(token, signing_key.key, algorithms=["RS256"],
                           audience=audience, issuer=issuer)

    with urllib.request.urlopen(realm_url) as resp:
        realm = json.load(resp)
    realm_key = load_der_public_key(base64.b64decode(realm["public_key"]))
    from_realm = jwt.decode(token, realm_key, algorithms=["RS256"],
                            audience=audience, issuer=issuer)
except jwt.PyJWTError as err:
    print(f"rejected: {err!r}", file=sys.stderr)
    sys.exit(1)

assert from_jwks == from_realm
print(json.dumps(from_jwks))
