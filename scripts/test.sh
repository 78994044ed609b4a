#!/usr/bin/env bash
# The whole test suite. Installs the third-party consumers the tests drive the
# issuer with (PyJWT, Authlib, Playwright: tests/requirements.txt, into
# .venv-test) and then runs `cargo test`; extra args go to cargo.
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
if ! "$venv/bin/python" -c 'import jwt, cryptography, authlib, requests, playwright.sync_api' 2>/dev/null \
  || ! cmp -s tests/requirements.txt "$stamp"; then
  echo "scripts/test.sh: installing tests/requirements.txt into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$stamp"
fi
export IDP_TEST_PYTHON="$PWD/$venv/bin/python"
export IDP_TEST_CHROMIUM="${IDP_TEST_CHROMIUM:-/usr/bin/chromium}"

exec cargo test "$@"
