#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against the OpenAPI document the server
# serves at /openapi.json: every operation, positive and negative inputs, and
# fails on any 5xx, any status code or content type the document does not list,
# any documented header missing, and any body that violates its schema.
#
# Installs a pinned schemathesis into .venv-schemathesis (git-ignored), builds
# the debug binary, runs it on a temporary directory with a seeded user and
# client, fetches a bearer token for userinfo, and runs schemathesis with the
# settings in scripts/schemathesis.toml. Extra args go to `schemathesis run`
# (e.g. --max-examples 200, --seed 1). Not part of CI: it takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=.venv-schemathesis
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "scripts/schemathesis.sh: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The debug build: it builds in a fraction of the release build's time, shares
# its artifacts with `cargo test`, and the profile already optimises the hot
# paths (argon2, aws-lc, SQLite), so requests are fast enough for fuzzing.
cargo build --quiet --bin domino-idp
bin="$PWD/target/debug/domino-idp"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export IDP_FUZZ_CLIENT_ID=domino-play
export IDP_FUZZ_CLIENT_SECRET=fuzz-secret-0123456789
# The user and client the document's examples name (as in README.md), so the
# examples phase reaches the success paths. Brute-force protection stays on
# with a threshold the run cannot reach: fuzzing sends thousands of wrong
# passwords from one address, and a locked `doc` (or 127.0.0.1) would turn
# every later login into 429/400 and leave the token paths unexercised.
cat >"$work/config.toml" <<EOF
listen = "127.0.0.1:0"
database_url = "sqlite://$work/data/idp.db"
keys_dir = "$work/keys"
# Long enough for the bearer token fetched below to outlive the run.
access_token_ttl = 3600

[brute_force]
max_failures = 10000
ip_max_failures = 0
quick_login_check_ms = 0

[[users]]
username = "doc"
password = "passw0rd"
email = "doctor.notes@projectkeep.io"
cn = "Doctor Notes"
org = "ProjectKeep"
scopes = "MAIL \$DATA"

[[clients]]
client_id = "$IDP_FUZZ_CLIENT_ID"
secret = "$IDP_FUZZ_CLIENT_SECRET"
redirect_uris = ["http://localhost:3000/callback"]
post_logout_redirect_uris = ["http://localhost:3000/"]
grant_types = ["authorization_code", "refresh_token", "password", "client_credentials"]
EOF

# Only the config file configures it: no DOMINO_IDP_* from this shell.
unset_idp=$(env | sed -n 's/^\(DOMINO_IDP_[A-Za-z0-9_]*\)=.*/-u \1/p')
# shellcheck disable=SC2086
(cd "$work" && env $unset_idp RUST_LOG=warn,domino_idp::cli=info "$bin" serve --config "$work/config.toml") \
  >"$work/server.log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "scripts/schemathesis.sh: the server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
base="http://$addr"
oidc="$base/auth/realms/DominoRealm/protocol/openid-connect"

IDP_FUZZ_BEARER=$(curl -sf -u "$IDP_FUZZ_CLIENT_ID:$IDP_FUZZ_CLIENT_SECRET" "$oidc/token" \
  -d grant_type=password -d username=doc -d password=passw0rd -d scope='openid profile email' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
export IDP_FUZZ_BEARER

status=0
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
  --max-examples 100 \
  --workers 1 \
  "$@" || status=$?

# A panic or a 5xx logs an error; show them whatever schemathesis concluded.
if grep -E ' ERROR |panicked' "$work/server.log" >&2; then
  echo "scripts/schemathesis.sh: the server logged errors (above)" >&2
  status=1
fi
exit "$status"
