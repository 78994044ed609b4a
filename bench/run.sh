#!/usr/bin/env bash
# Benchmarks domino-idp against its own limits (raw RSA signing, argon2
# verification) and against oauth2-mock-server, all in one run so the ratios
# hold on a noisy machine. Prints a table and writes bench/results/<date>.md.
#
#   bench/run.sh                    # 8 s per measurement, about two minutes in all
#   BENCH_DURATION=15 bench/run.sh  # seconds per measurement
#   BENCH_SKIP_BUILD=1 bench/run.sh # measure target/release/domino-idp as built
#   IDP_BIN=/tmp/a BENCH_OUT=bench/results/x.md bench/run.sh
#                                   # measure another binary (no build), write elsewhere
#   BENCH_DATABASE=postgres bench/run.sh
#                                   # the same figures on a throwaway PostgreSQL (fsync on,
#                                   # on the same cores), written to <date>-postgres.md
#   BENCH_WRK_SCHED=batch bench/run.sh
#                                   # wrk under SCHED_BATCH (chrt -b 0): its wake-ups no longer
#                                   # preempt the process measured (docs/performance.md,
#                                   # "The load generator's wake-ups"); the paced client of (f)
#                                   # keeps the normal policy. Not the default, so runs compare.
#
# Installs what is missing: wrk (Debian package) and, when npm is there,
# oauth2-mock-server@9 into bench/.cache. See README.md, "Performance".
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
BIN=${IDP_BIN:-$ROOT/target/release/domino-idp}
MOCK_DIR=$BENCH/.cache/npm
MOCK_BIN=$MOCK_DIR/node_modules/.bin/oauth2-mock-server

DUR=${BENCH_DURATION:-8}
DUR=${DUR%s}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 3 ]] || { echo "BENCH_DURATION must be whole seconds, at least 3 (got ${BENCH_DURATION})" >&2; exit 2; }
THREADS=2
CONNS=50
WRK_OPTS=(-t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 5s --latency)
STARTUP_RUNS=7

REALM=/auth/realms/DominoRealm
OIDC=$REALM/protocol/openid-connect
USER_NAME=bench
USER_PASSWORD='bench-passw0rd-1'
CLIENT_ID=bench-client
CLIENT_SECRET='bench-client-secret-0123456789'

WRK_SCHED=${BENCH_WRK_SCHED:-other}
[[ $WRK_SCHED == other || $WRK_SCHED == batch ]] \
    || { echo "BENCH_WRK_SCHED must be other or batch (got ${BENCH_WRK_SCHED})" >&2; exit 2; }
WRK_PREFIX=()
if [[ $WRK_SCHED == batch ]]; then
    chrt -b 0 true 2>/dev/null \
        || { echo "BENCH_WRK_SCHED=batch needs chrt (util-linux) and SCHED_BATCH" >&2; exit 2; }
    WRK_PREFIX=(chrt -b 0)
fi

DATABASE=${BENCH_DATABASE:-sqlite}
[[ $DATABASE == sqlite || $DATABASE == postgres ]] \
    || { echo "BENCH_DATABASE must be sqlite or postgres (got ${BENCH_DATABASE})" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/domino-idp-bench.XXXXXX")
PG_DIR=
SERVER_PID=
MOCK_PID=
BG_PIDS=()

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

die() {
    echo "bench: $*" >&2
    for f in "$WORK/server.log" "$WORK/startup.log" "$WORK/mock.log"; do
        if [[ -s $f ]]; then
            echo "--- last lines of $(basename "$f"):" >&2
            tail -n 20 "$f" >&2
        fi
    done
    exit 1
}

# The exact commands of the run, for the results file.
COMMANDS=()
record() {
    local line
    line=$(printf '%q ' "$@")
    COMMANDS+=("${line% }")
}

stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do stop_pid "$pid"; done
    stop_pid "$MOCK_PID"
    stop_pid "$SERVER_PID"
    if [[ -n $PG_DIR ]]; then
        "$ROOT/scripts/pg.sh" stop "$PG_DIR" || true
        rm -rf "$PG_DIR"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_root() {
    if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

# ------------------------------------------------------------------ tools

if ! command -v wrk >/dev/null; then
    log "installing wrk (Debian package)"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi

MOCK_SKIPPED=
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    MOCK_SKIPPED="npm/node not available"
elif [[ ! -x $MOCK_BIN ]]; then
    log "installing oauth2-mock-server@9 into bench/.cache"
    mkdir -p "$MOCK_DIR"
    npm install --prefix "$MOCK_DIR" --no-audit --no-fund --loglevel=error oauth2-mock-server@9 >&2 \
        || MOCK_SKIPPED="npm install oauth2-mock-server@9 failed"
fi

if [[ -n ${BENCH_SKIP_BUILD:-} || -n ${IDP_BIN:-} ]]; then
    log "BENCH_SKIP_BUILD: measuring the existing $BIN"
else
    log "cargo build --release"
    cargo build --release >&2 || die "cargo build --release failed"
fi
"$BIN" bench sign --help >/dev/null 2>&1 && "$BIN" bench argon2 --help >/dev/null 2>&1 \
    || die "$BIN has no 'bench sign' / 'bench argon2' subcommands: the baselines cannot be measured with this build"

# ------------------------------------------------------------------ the database

# SQLite by default. BENCH_DATABASE=postgres: a throwaway PostgreSQL from
# scripts/pg.sh on the same cores, fsync on (the durability of SQLite's
# synchronous = FULL), pg_stat_statements loaded so that (d) can count its
# statements (`ss` counts its round trips). Its directory is outside $WORK,
# which the server user of Postgres cannot enter.
if [[ $DATABASE == postgres ]]; then
    PG_DIR=$(mktemp -d /tmp/domino-idp-bench-pg.XXXXXX)
    log "starting a throwaway PostgreSQL (scripts/pg.sh, fsync on)"
    PG_ADMIN_URL=$(PG_FSYNC=on PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements' \
        "$ROOT/scripts/pg.sh" start "$PG_DIR" 2>>"$WORK/pg.log") \
        || die "scripts/pg.sh start failed: $(tail -n 5 "$WORK/pg.log")"
    psql -qAtX "$PG_ADMIN_URL" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c 'CREATE DATABASE idp' \
        >/dev/null || die "cannot prepare the PostgreSQL database"
    DATABASE_URL=${PG_ADMIN_URL%/postgres}/idp
    PG_VERSION=$(psql -qAtX "$PG_ADMIN_URL" -c 'SHOW server_version' | awk '{print $1}')
else
    DATABASE_URL="sqlite://$WORK/data/idp.db"
fi

# ------------------------------------------------------------------ config and seed

PORT=$(python3 "$BENCH/helper.py" free-port)
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK/data" "$WORK/keys"
# Defaults everywhere else, brute-force protection included: correct
# passwords never trip it.
# A realistic seed in the file, applied by the server itself at start (argon2
# for each user): four users, two clients, two mappers.
cat > "$WORK/config.toml" <<EOF
listen = "127.0.0.1:$PORT"
database_url = "$DATABASE_URL"
keys_dir = "$WORK/keys"

[[users]]
username = "alice"
password = "alice-passw0rd-1"
email = "alice@example.com"
cn = "Alice Example"
scopes = "MAIL \$DATA"
groups = ["admins"]

[[users]]
username = "bob"
password = "bob-passw0rd-1"
email = "bob@example.com"

[[users]]
username = "carol"
password = "carol-passw0rd-1"
attributes = { dept = "R&D" }

[[users]]
username = "dave"
password = "dave-passw0rd-1"

[[clients]]
client_id = "web-app"
secret = "web-app-secret-0123456789"
redirect_uris = ["http://localhost:3000/callback"]

[[clients]]
client_id = "spa"
public = true
redirect_uris = ["http://localhost:5173/"]

[[roles]]
name = "analyst"
description = "reads reports"

[[roles]]
name = "reader"
client = "web-app"

[[groups]]
path = "/staff"
roles = ["analyst", "web-app:reader"]

[[mappers]]
name = "dept"
type = "user-attribute"
attribute = "dept"
claim = "dept"

[[mappers]]
name = "tier"
type = "hardcoded"
claim = "org.tier"
value = "gold"
EOF
# Only this run's settings apply: drop any DOMINO_IDP_* of the caller's shell.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^DOMINO_IDP_' || true)
export DOMINO_IDP_CONFIG=$WORK/config.toml
export RUST_LOG=info
if [[ $DATABASE == postgres ]]; then
    # Postgres keeps the signing keys in the database by default (as a fleet
    # does), sealed with a key that only the environment may carry.
    DOMINO_IDP_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
    export DOMINO_IDP_KEY_ENCRYPTION_KEY
fi

log "seeding user '$USER_NAME' and client '$CLIENT_ID'"
record export "DOMINO_IDP_CONFIG=$WORK/config.toml" RUST_LOG=info
if [[ $DATABASE == postgres ]]; then
    COMMANDS+=('export DOMINO_IDP_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)')
fi
COMMANDS+=("echo '$USER_PASSWORD' | $BIN user add $USER_NAME --cn 'Bench User' --org Bench --email bench@example.com --scope 'MAIL \$DATA' --group staff --password-stdin")
COMMANDS+=("echo '$CLIENT_SECRET' | $BIN client add $CLIENT_ID --secret-stdin --grant client_credentials --grant password --grant refresh_token")
printf '%s\n' "$USER_PASSWORD" | "$BIN" user add "$USER_NAME" --cn "Bench User" --org Bench \
    --email bench@example.com --scope 'MAIL $DATA' --group staff --password-stdin >>"$WORK/server.log" 2>&1 \
    || die "user add failed"
printf '%s\n' "$CLIENT_SECRET" | "$BIN" client add "$CLIENT_ID" --secret-stdin \
    --grant client_credentials --grant password --grant refresh_token >>"$WORK/server.log" 2>&1 \
    || die "client add failed"
BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"

record "$BIN" serve
start_server() {
    "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    WATCH_PID=$SERVER_PID
    for _ in $(seq 600); do
        if curl -fs -o /dev/null "$BASE/health/ready"; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
        sleep 0.05
    done
    die "the server was not ready after 30 s"
}

# ------------------------------------------------------------------ (h) start-up

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)

log "(h) first start (creates the signing key), then $STARTUP_RUNS timed restarts"
start_server
stop_pid "$SERVER_PID"
SERVER_PID=
python3 "$BENCH/helper.py" startup --bin "$BIN" --port "$PORT" --runs "$STARTUP_RUNS" \
    --log "$WORK/startup.log" > "$WORK/startup.json" || die "start-up measurement failed"
log "    $(cat "$WORK/startup.json")"

# ------------------------------------------------------------------ server, idle RSS

start_server
# Idle: each argon2 worker gives its memory back after 2 s without a job.
sleep 6
IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
log "(g) idle RSS ${IDLE_KB} kB (6 s after start)"

# ------------------------------------------------------------------ baselines

baseline() {
    local name=$1
    shift
    record "$BIN" "$@"
    log "baseline: domino-idp $*"
    "$BIN" "$@" > "$WORK/$name.out" 2>>"$WORK/server.log" || die "domino-idp $* failed"
    grep '^{' "$WORK/$name.out" | tail -n 1 > "$WORK/$name.json"
    [[ -s $WORK/$name.json ]] || die "domino-idp $* printed no JSON line"
    log "    $(cat "$WORK/$name.json")"
}
baseline sign bench sign --seconds 3
baseline argon2 bench argon2 --seconds 3

# ------------------------------------------------------------------ wrk runs

# wrk_start NAME URL [VAR=VALUE ...] -- WRK_OPTION...: starts wrk in the
# background (WRK_PID); wrk_finish NAME waits for it and keeps its JSON line.
wrk_start() {
    local name=$1 url=$2
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    # A paced client (BENCH_DELAY_MS) measures latency: its own wake-ups
    # keep the normal policy, or its waits for a core would count.
    local prefix=("${WRK_PREFIX[@]}")
    [[ " ${envs[*]} " == *" BENCH_DELAY_MS="* ]] && prefix=()
    local cmd=("${prefix[@]}" env "${envs[@]}" wrk "$@" -s "$BENCH/wrk.lua" "$url")
    record "${cmd[@]}"
    cpu_snapshot > "$WORK/$name.cpu0"
    times > "$WORK/$name.times0"
    "${cmd[@]}" > "$WORK/$name.txt" 2>&1 &
    WRK_PID=$!
    BG_PIDS+=("$WRK_PID")
}

# "<served process ticks> <machine ticks> <machine idle ticks> <ns>": with
# two snapshots the results show how many cores the server (WATCH_PID) really
# had during a run, and how busy the whole machine was.
cpu_snapshot() {
    local own=0
    if [[ -n ${WATCH_PID:-} && -r /proc/$WATCH_PID/stat ]]; then
        own=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$WATCH_PID/stat")
    fi
    awk -v own="$own" -v ns="$(date +%s%N)" -v db="$(db_ticks)" \
        '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print own, t, $5 + $6, ns, db; exit}' /proc/stat
}

# The CPU ticks of the PostgreSQL of this run (0 on SQLite): the postmaster,
# the children it has reaped, and its live children (the backends). A child
# reaped while they are read would count in neither, so the reading is taken
# again until the reaped children's ticks did not move meanwhile.
db_ticks() {
    local pm reaped before children
    if [[ -z $PG_DIR || ! -r $PG_DIR/data/postmaster.pid ]]; then echo 0; return; fi
    pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    reaped() { awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$pm/stat" 2>/dev/null || echo 0; }
    for _ in 1 2 3 4 5; do
        before=$(reaped)
        children=$(for child in $(pgrep -P "$pm"); do
            awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$child/stat" 2>/dev/null
        done | awk '{t += $1} END {print t + 0}')
        [[ $(reaped) == "$before" ]] && break
    done
    awk -v c="$children" -v r="$before" '{sub(/^.*\) /, ""); print $12 + $13 + r + c}' "/proc/$pm/stat" 2>/dev/null || echo 0
}

wrk_finish() {
    local name=$1
    wait "$WRK_PID" || die "wrk failed for $name: $(tail -n 5 "$WORK/$name.txt")"
    cpu_snapshot > "$WORK/$name.cpu1"
    # `times` in this shell (not a subshell): the CPU of the children it has
    # reaped, here the wrk run(s) since wrk_start.
    times > "$WORK/$name.times1"
    sed -n 's/^BENCH_JSON //p' "$WORK/$name.txt" > "$WORK/$name.wrk.json"
    [[ -s $WORK/$name.wrk.json ]] || die "no result from wrk for $name: $(cat "$WORK/$name.txt")"
    python3 "$BENCH/helper.py" add-cpu --workdir "$WORK" --name "$name" || die "cannot read the CPU figures of $name"
    log "    $name: $(cat "$WORK/$name.json")"
}

bench_wrk() {
    wrk_start "$@"
    wrk_finish "$1"
}

FORM=application/x-www-form-urlencoded

# ------------------------------------------------------------------ oauth2-mock-server, before

# The mock is measured before our figures and again after them, and the
# report takes the mean (as for the limits: the host drifts within a run).
# Between the two it sits idle.
MOCK_VERSION=
MOCK_ENV=(BENCH_METHOD=POST BENCH_CONTENT_TYPE=$FORM "BENCH_AUTH=Basic $(printf 'bench:bench' | base64 -w0)"
          BENCH_BODY=grant_type=client_credentials)
measure_mock() {
    local suffix=$1
    WATCH_PID=$MOCK_PID
    # Two seconds of warm-up each, so V8 has compiled the hot paths.
    wrk -t2 -c50 -d2s "$MBASE/jwks" >/dev/null
    log "mock JWKS ($suffix)"
    bench_wrk "mock_jwks$suffix" "$MBASE/jwks" -- "${WRK_OPTS[@]}"
    env "${MOCK_ENV[@]}" wrk -t2 -c50 -d2s -s "$BENCH/wrk.lua" "$MBASE/token" >/dev/null
    log "mock token ($suffix)"
    bench_wrk "mock_token$suffix" "$MBASE/token" "${MOCK_ENV[@]}" -- "${WRK_OPTS[@]}"
    WATCH_PID=$SERVER_PID
}
if [[ -z $MOCK_SKIPPED ]]; then
    MOCK_VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$MOCK_DIR/node_modules/oauth2-mock-server/package.json")
    MPORT=$(python3 "$BENCH/helper.py" free-port)
    MBASE=http://127.0.0.1:$MPORT
    log "oauth2-mock-server $MOCK_VERSION on $MBASE"
    record "$MOCK_BIN" -a 127.0.0.1 -p "$MPORT"
    "$MOCK_BIN" -a 127.0.0.1 -p "$MPORT" > "$WORK/mock.log" 2>&1 &
    MOCK_PID=$!
    for _ in $(seq 200); do
        curl -fs -o /dev/null "$MBASE/jwks" && break
        sleep 0.05
    done
    if curl -fs -o /dev/null "$MBASE/jwks"; then
        measure_mock _before
    else
        MOCK_SKIPPED="oauth2-mock-server did not start: $(tail -n 3 "$WORK/mock.log" | tr '\n' ' ')"
        log "$MOCK_SKIPPED"
        stop_pid "$MOCK_PID"
        MOCK_PID=
    fi
else
    log "oauth2-mock-server skipped: $MOCK_SKIPPED"
fi

log "(a) JWKS"
bench_wrk jwks "$BASE$OIDC/certs" -- "${WRK_OPTS[@]}"
log "(b) discovery"
bench_wrk discovery "$BASE$REALM/.well-known/openid-configuration" -- "${WRK_OPTS[@]}"
log "(c) client_credentials"
bench_wrk cc "$BASE$OIDC/token" BENCH_METHOD=POST BENCH_CONTENT_TYPE=$FORM "BENCH_AUTH=$BASIC" \
    BENCH_BODY=grant_type=client_credentials -- "${WRK_OPTS[@]}"

# Refresh tokens rotate and a replayed one revokes its family: each wrk
# thread starts with more unused tokens than it has connections, and every
# response hands the rotated token back to the pool.
PER_THREAD=$((CONNS / THREADS + 8))
log "(d) refresh_token: minting $((PER_THREAD * THREADS)) refresh tokens with the password grant"
record python3 "$BENCH/helper.py" mint-pool --url "$BASE$OIDC/token" --client-id "$CLIENT_ID" \
    --secret "$CLIENT_SECRET" --username "$USER_NAME" --password "$USER_PASSWORD" \
    --threads "$THREADS" --per-thread "$PER_THREAD" --out "$WORK/pool"
python3 "$BENCH/helper.py" mint-pool --url "$BASE$OIDC/token" --client-id "$CLIENT_ID" \
    --secret "$CLIENT_SECRET" --username "$USER_NAME" --password "$USER_PASSWORD" \
    --threads "$THREADS" --per-thread "$PER_THREAD" --out "$WORK/pool" >/dev/null \
    || die "minting refresh tokens failed"
# On Postgres, what (d) cost the database: its counters before and after
# (each read waits for the backends to flush their statistics).
if [[ $DATABASE == postgres ]]; then
    python3 "$BENCH/helper.py" db-counters --url "$PG_ADMIN_URL" --db idp > "$WORK/refresh_db0.json" \
        || die "cannot read PostgreSQL's counters"
fi
bench_wrk refresh "$BASE$OIDC/token" BENCH_METHOD=POST BENCH_CONTENT_TYPE=$FORM "BENCH_AUTH=$BASIC" \
    "BENCH_POOL=$WORK/pool" -- "${WRK_OPTS[@]}"
if [[ $DATABASE == postgres ]]; then
    python3 "$BENCH/helper.py" db-counters --url "$PG_ADMIN_URL" --db idp > "$WORK/refresh_db1.json" \
        || die "cannot read PostgreSQL's counters"
    python3 "$BENCH/helper.py" round-trips --url "$BASE$OIDC/token" --client-id "$CLIENT_ID" \
        --secret "$CLIENT_SECRET" --username "$USER_NAME" --password "$USER_PASSWORD" \
        --pg-url "$PG_ADMIN_URL" > "$WORK/refresh_trips.json" \
        || die "cannot count the round trips to PostgreSQL"
fi
# The limits are measured again around the figures judged by them; the
# report uses the mean of the runs on either side (the host drifts).
baseline sign_after_d bench sign --seconds 3

LOGIN_BODY=$(printf '{"username":"%s","password":"%s"}' "$USER_NAME" "$USER_PASSWORD")
LOGIN_ENV=(BENCH_METHOD=POST BENCH_CONTENT_TYPE=application/json "BENCH_BODY=$LOGIN_BODY")

log "(e) Keep logins, with RSS sampling"
# Writing 5 to clear_refs resets VmHWM, so it is the peak of this phase alone.
if echo 5 2>/dev/null > "/proc/$SERVER_PID/clear_refs"; then
    PEAK_HOW="VmHWM, reset just before (e), read after it (also sampled VmRSS every 20 ms)"
else
    PEAK_HOW="the higher of VmHWM (the process's whole life) and VmRSS sampled every 20 ms"
fi
python3 "$BENCH/helper.py" rss --pid "$SERVER_PID" --stop "$WORK/rss.stop" > "$WORK/rss.sampled" &
SAMPLER_PID=$!
BG_PIDS+=("$SAMPLER_PID")
bench_wrk login "$BASE/auth" "${LOGIN_ENV[@]}" -- "${WRK_OPTS[@]}"
touch "$WORK/rss.stop"
wait "$SAMPLER_PID"
HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
SAMPLED_KB=$(cat "$WORK/rss.sampled")
PEAK_KB=$((HWM_KB > SAMPLED_KB ? HWM_KB : SAMPLED_KB))
sleep 10
AFTER_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
printf '{"idle_kb":%d,"peak_kb":%d,"hwm_kb":%d,"sampled_kb":%d,"after_kb":%d,"peak_how":"%s"}\n' \
    "$IDLE_KB" "$PEAK_KB" "$HWM_KB" "$SAMPLED_KB" "$AFTER_KB" "$PEAK_HOW" > "$WORK/rss.json"
log "    $(cat "$WORK/rss.json")"
baseline argon2_after_e bench argon2 --seconds 3

log "(f) JWKS latency (1 thread, 4 connections, 5 ms pause between requests) while logins saturate the CPU"
F_JWKS_DUR=$((DUR - 2))
wrk_start f_login "$BASE/auth" "${LOGIN_ENV[@]}" -- "${WRK_OPTS[@]}"
F_LOGIN_PID=$WRK_PID
sleep 1
bench_wrk f_jwks "$BASE$OIDC/certs" BENCH_DELAY_MS=5 -- -t1 -c4 -d"${F_JWKS_DUR}s" --timeout 5s --latency
WRK_PID=$F_LOGIN_PID
wrk_finish f_login

log "(i) GET /v4/users/self with an API key"
record "$BIN" apikey create "$USER_NAME" --name bench
API_KEY=$("$BIN" apikey create "$USER_NAME" --name bench 2>>"$WORK/server.log" | tail -n 1) \
    || die "apikey create failed"
bench_wrk self_key "$BASE/v4/users/self" "BENCH_HEADER=X-Domino-Api-Key: $API_KEY" -- "${WRK_OPTS[@]}"

log "(j) GET /v4/users/self with a bearer Domino Token (exchanged for the API key)"
DOMINO_TOKEN=$(curl -fs "$BASE$OIDC/token" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
    -d "subject_token=$API_KEY" -d subject_token_type=urn:domino:params:oauth:token-type:api-key \
    -d client_id=domino-play | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') \
    || die "the token exchange failed"
bench_wrk self_bearer "$BASE/v4/users/self" "BENCH_AUTH=Bearer $DOMINO_TOKEN" -- "${WRK_OPTS[@]}"

log "(k) the same through domino-idp proxy (it exchanges the API key itself)"
PPORT=$(python3 "$BENCH/helper.py" free-port)
record env DOMINO_API_HOST="$BASE" DOMINO_USER_API_KEY=... "$BIN" proxy --proxy-listen "127.0.0.1:$PPORT"
DOMINO_API_HOST=$BASE DOMINO_USER_API_KEY=$API_KEY "$BIN" proxy --proxy-listen "127.0.0.1:$PPORT" \
    >>"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
BG_PIDS+=("$PROXY_PID")
for _ in $(seq 200); do
    curl -fs -o /dev/null "http://127.0.0.1:$PPORT/access-token" && break
    sleep 0.05
done
curl -fs -o /dev/null "http://127.0.0.1:$PPORT/v4/users/self" || die "the proxy does not answer"
bench_wrk self_proxy "http://127.0.0.1:$PPORT/v4/users/self" -- "${WRK_OPTS[@]}"
stop_pid "$PROXY_PID"

# The static pages are judged against the JWKS measured just before and just
# after them (their mean), not against (a) minutes earlier: the host's speed
# drifts more in that time than the pages and the JWKS differ.
log "(l)-(n) bracket: the JWKS, before the static pages"
bench_wrk jwks_before_static "$BASE$OIDC/certs" -- "${WRK_OPTS[@]}"
log "(l) keycloak-js's third-party-cookie page"
bench_wrk kc_page "$BASE$OIDC/3p-cookies/step1.html" -- "${WRK_OPTS[@]}"
log "(l) keycloak-js's session iframe"
bench_wrk kc_iframe "$BASE$OIDC/login-status-iframe.html" -- "${WRK_OPTS[@]}"
log "(m) a CORS preflight of the token endpoint from a registered web origin"
bench_wrk preflight "$BASE$OIDC/token" BENCH_METHOD=OPTIONS "BENCH_HEADER=Origin: http://localhost:5173" \
    "BENCH_HEADER2=Access-Control-Request-Method: POST" -- "${WRK_OPTS[@]}"
log "(n) the start page"
bench_wrk start_page "$BASE/" -- "${WRK_OPTS[@]}"
log "(l)-(n) bracket: the JWKS, after the static pages"
bench_wrk jwks_after_static "$BASE$OIDC/certs" -- "${WRK_OPTS[@]}"
baseline sign_before_o bench sign --seconds 3
log "(o) the token exchange of an API key for a Domino Token"
bench_wrk exchange "$BASE$OIDC/token" BENCH_METHOD=POST BENCH_CONTENT_TYPE=$FORM \
    "BENCH_BODY=grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=$API_KEY&subject_token_type=urn:domino:params:oauth:token-type:api-key&client_id=domino-play" \
    -- "${WRK_OPTS[@]}"
baseline sign_after_o bench sign --seconds 3

stop_pid "$SERVER_PID"
SERVER_PID=

# ------------------------------------------------------------------ oauth2-mock-server, after

if [[ -n $MOCK_PID ]]; then
    measure_mock _after
    stop_pid "$MOCK_PID"
    MOCK_PID=
fi

# ------------------------------------------------------------------ report

export B_DATABASE B_DATE B_CORES B_CPU B_MEM B_KERNEL B_WRK B_GIT B_RUSTC B_DUR B_MOCK_VERSION B_MOCK_SKIPPED B_STARTUP_HOW B_LOAD_BEFORE
B_LOAD_BEFORE=$LOAD_BEFORE
if [[ $DATABASE == postgres ]]; then
    B_DATABASE="PostgreSQL $PG_VERSION (scripts/pg.sh: fsync on, shared_buffers 64MB, on the same cores, loopback TCP)"
else
    B_DATABASE="SQLite (embedded; WAL, synchronous = FULL)"
fi
B_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
B_CORES=$(nproc)
B_CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
B_MEM=$(awk '/^MemTotal:/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)
B_KERNEL=$(uname -r)
B_WRK=$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}' || true)
B_GIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then B_GIT="$B_GIT + uncommitted changes"; fi
# Another binary than this tree's build: say which, the tree's commit is not it.
if [[ -n ${IDP_BIN:-} ]]; then B_GIT="$BIN (IDP_BIN; the tree is at $B_GIT)"; fi
B_RUSTC=$(rustc --version)
B_DUR="${DUR} s, wrk -t$THREADS -c$CONNS unless noted"
[[ $WRK_SCHED == batch ]] && B_DUR="$B_DUR; wrk under SCHED_BATCH (\`chrt -b 0\`) but the paced client of (f)"
B_MOCK_VERSION=$MOCK_VERSION
B_MOCK_SKIPPED=$MOCK_SKIPPED
B_STARTUP_HOW="bench/helper.py forks \`domino-idp serve\` on the data dir of this run (database and signing key already there) and polls GET /health/ready over a raw TCP socket every 1 ms; a sample is the time from just before the fork to the first 200, then the server is stopped with SIGTERM and started again."
# The run's API key and Domino Token are throwaway, but never written out.
printf '%s\n' "${COMMANDS[@]}" | sed "s#$WORK#\$WORK#g; s#$ROOT/##g; s#${API_KEY:-@@}#\$API_KEY#g; s#${DOMINO_TOKEN:-@@}#\$DOMINO_TOKEN#g" > "$WORK/commands.txt"
sed "s#$WORK#\$WORK#g" "$WORK/config.toml" > "$WORK/config.shown"
python3 - "$WORK" <<'EOF'
import json, os, sys
w = sys.argv[1]
e = os.environ
meta = {
    "date": e["B_DATE"], "cores": int(e["B_CORES"]), "cpu": e["B_CPU"], "mem": e["B_MEM"],
    "kernel": e["B_KERNEL"], "wrk": e["B_WRK"], "git": e["B_GIT"], "rustc": e["B_RUSTC"],
    "duration": e["B_DUR"], "mock_version": e["B_MOCK_VERSION"], "mock_skipped": e["B_MOCK_SKIPPED"],
    "startup_how": e["B_STARTUP_HOW"],
    "load_before": e["B_LOAD_BEFORE"], "database": e["B_DATABASE"],
    "config": open(os.path.join(w, "config.shown")).read(),
    "commands": open(os.path.join(w, "commands.txt")).read().splitlines(),
}
json.dump(meta, open(os.path.join(w, "meta.json"), "w"))
EOF

mkdir -p "$BENCH/results"
SUFFIX=
if [[ $DATABASE == postgres ]]; then SUFFIX=-postgres; fi
OUT=${BENCH_OUT:-$BENCH/results/$(date -u +%Y-%m-%d)$SUFFIX.md}
python3 "$BENCH/helper.py" report --workdir "$WORK" --out "$OUT"
log "written to ${OUT#"$ROOT"/}"
