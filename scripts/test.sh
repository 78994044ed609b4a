#!/usr/bin/env bash
# The whole test suite, on both backends. Installs the third-party consumers
# the tests drive the issuer with (PyJWT, Authlib, Playwright:
# tests/requirements.txt, into .venv-test; the official Domino clients:
# tests/requirements-domino.txt, into .venv-domino; keycloak-connect,
# keycloak-js, express-jwt and jwks-rsa: tests/node/package-lock.json, into
# tests/node/node_modules), runs `cargo test` (SQLite), then
# runs the API suite and the Postgres store's own tests again on a throwaway
# PostgreSQL server (scripts/pg.sh; or the server IDP_TEST_POSTGRES_URL names),
# stopped on exit. Extra args go to every cargo test.
# The browser test drives Debian's Chromium (never a downloaded build) at
# $IDP_TEST_CHROMIUM, default /usr/bin/chromium, installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${IDP_TEST_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "scripts/test.sh: installing Debian's chromium for the browser test" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

venv=.venv-test
# Reinstall whenever an import fails or the pins changed since the last install.
stamp="$venv/.requirements.txt"
if ! "$venv/bin/python" -c 'import jwt, cryptography, authlib, requests, playwright.sync_api, keycloak' 2>/dev/null \
  || ! cmp -s tests/requirements.txt "$stamp"; then
  echo "scripts/test.sh: installing tests/requirements.txt into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$stamp"
fi
export IDP_TEST_PYTHON="$PWD/$venv/bin/python"

# The official Domino clients pin packaging==23.2: a virtualenv of their own.
dvenv=.venv-domino
dstamp="$dvenv/.requirements-domino.txt"
if ! "$dvenv/bin/python" -c 'import domino, domino_data.auth' 2>/dev/null \
  || ! cmp -s tests/requirements-domino.txt "$dstamp"; then
  echo "scripts/test.sh: installing tests/requirements-domino.txt into $dvenv" >&2
  python3 -m venv "$dvenv"
  "$dvenv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements-domino.txt
  cp tests/requirements-domino.txt "$dstamp"
fi
export IDP_TEST_DOMINO_PYTHON="$PWD/$dvenv/bin/python"

# The JavaScript consumers (keycloak-connect, keycloak-js, express-jwt,
# jwks-rsa), from tests/node/package-lock.json.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "scripts/test.sh: installing Debian's nodejs and npm for the keycloak-connect test" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
nstamp=tests/node/node_modules/.package-lock.json
if [ ! -d tests/node/node_modules/keycloak-connect ] || [ ! -d tests/node/node_modules/keycloak-js ] || ! cmp -s tests/node/package-lock.json "$nstamp.src" 2>/dev/null; then
  echo "scripts/test.sh: installing tests/node/package-lock.json into tests/node/node_modules" >&2
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/node/package-lock.json "$nstamp.src"
fi
export IDP_TEST_CHROMIUM="${IDP_TEST_CHROMIUM:-/usr/bin/chromium}"

pg_url="${IDP_TEST_POSTGRES_URL:-}"
unset IDP_TEST_POSTGRES_URL

echo "scripts/test.sh: cargo test on SQLite" >&2
cargo test "$@"

if [ -z "$pg_url" ]; then
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/domino-idp-test-pg.XXXXXX")"
  trap 'scripts/pg.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
  pg_url="$(scripts/pg.sh start "$pg_dir")"
fi
echo "scripts/test.sh: the API suite and the Postgres store's tests on $pg_url" >&2
export IDP_TEST_POSTGRES_URL="$pg_url"
cargo test --lib "$@"
cargo test --test api "$@"
