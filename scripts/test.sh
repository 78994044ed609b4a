#!/usr/bin/env bash
# The whole test suite. Installs the third-party JWKS consumer the tests use
# (PyJWT, into .venv-test) and then runs `cargo test`; extra args go to cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-test
if ! "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
  echo "scripts/test.sh: installing tests/requirements.txt into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
export DOMINO_IDP_TEST_PYTHON="$PWD/$venv/bin/python"

exec cargo test "$@"
