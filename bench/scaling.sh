#!/usr/bin/env bash
# Several instances on one Postgres: what each token costs the database, what
# that predicts for a fleet, and a rolling restart behind nginx under load.
# Writes bench/results/scaling-<date>.md and prints it.
#
#   bench/scaling.sh                    # the release binary (built when missing)
#   IDP_BIN=target/debug/domino-idp bench/scaling.sh
#   SCALING_N=500 SCALING_DURATION=20 bench/scaling.sh
#
# Uses scripts/cluster.sh (Postgres from Debian's packages, nginx, two
# issuers), pgbench for the Postgres's own commit rate, wrk for the load.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${IDP_BIN:-$ROOT/target/release/domino-idp}
N=${SCALING_N:-200}
DUR=${SCALING_DURATION:-24}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 20 ]] || { echo "SCALING_DURATION: whole seconds, at least 20" >&2; exit 2; }
# nginx marks an upstream that refused a connection down for fail_timeout
# (deploy/nginx.conf: 5 s); the next instance restarts only after that.
FAIL_TIMEOUT=5

if [[ ! -x $BIN ]]; then cargo build --release --bin domino-idp >&2; fi
command -v wrk >/dev/null || { echo "bench/scaling.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/domino-idp-scaling.XXXXXX)
chmod 755 "$WORK"
cleanup() { IDP_BIN=$BIN scripts/cluster.sh stop "$WORK" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '[scaling %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

log "starting Postgres (fsync on, pg_stat_statements), two issuers and nginx"
export PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on'
LB=$(IDP_BIN=$BIN scripts/cluster.sh start "$WORK" 2)
DB_URL=$(sed -n "s/^export DOMINO_IDP_DATABASE_URL='\(.*\)'$/\1/p" "$WORK/env")
ADMIN_URL=${DB_URL%/idp}/postgres
psql -qAtX "$ADMIN_URL" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
cli() { (. "$WORK/env" && "$BIN" "$@"); }
CLIENT_SECRET='scaling-client-secret-0123456789'
USER_PASSWORD='scaling-passw0rd-1'
printf '%s\n' "$CLIENT_SECRET" | cli client add scaling --secret-stdin \
  --grant client_credentials --grant password --grant refresh_token >/dev/null
printf '%s\n' "$USER_PASSWORD" | cli user add scaler --cn "Scale Tester" \
  --email scaler@example.com --password-stdin >/dev/null
cli mapper add dept --type hardcoded --claim department --value research >/dev/null
ONE="http://127.0.0.1:$(cat "$WORK/idp1.port")"

log "database work per token, $N of each flow against one issuer"
python3 bench/dbwork.py --base "$ONE" --admin-url "$ADMIN_URL" --n "$N" \
  --client-id scaling --client-secret "$CLIENT_SECRET" \
  --user scaler --password "$USER_PASSWORD" >"$WORK/dbwork.json"

log "this Postgres's own rate: pgbench simple-update, 8 clients, 8 s, fsync on"
psql -qAtX "$ADMIN_URL" -c 'CREATE DATABASE pgbench' >/dev/null
pgbench -q -i -s 4 "${DB_URL%/idp}/pgbench" >/dev/null 2>&1
PGB_TPS=$(pgbench -n -b simple-update -c 8 -j 2 -T 8 "${DB_URL%/idp}/pgbench" 2>/dev/null |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)

log "rolling restart behind nginx: client_credentials for ${DUR}s, issuer 1 restarted, then issuer 2"
: >"$WORK/nginx/access.log"
BASIC=$(printf '%s' "scaling:$CLIENT_SECRET" | base64 -w0)
BENCH_METHOD=POST BENCH_BODY='grant_type=client_credentials' \
  BENCH_CONTENT_TYPE='application/x-www-form-urlencoded' BENCH_AUTH="Basic $BASIC" \
  wrk -t1 -c8 -d"${DUR}s" --timeout 5s --latency -s bench/wrk.lua \
  "$LB/auth/realms/DominoRealm/protocol/openid-connect/token" >"$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
sleep 3
t1=$(date +%s.%N)
IDP_BIN=$BIN scripts/cluster.sh restart "$WORK" 1
t1=$(python3 -c "import time; print(round(time.time() - $t1, 2))")
sleep $((FAIL_TIMEOUT + 1))
t2=$(date +%s.%N)
IDP_BIN=$BIN scripts/cluster.sh restart "$WORK" 2
t2=$(python3 -c "import time; print(round(time.time() - $t2, 2))")
wait "$WRK_PID"
WRK_JSON=$(sed -n 's/^BENCH_JSON //p' "$WORK/wrk.txt")
[[ -n $WRK_JSON ]] || { cat "$WORK/wrk.txt" >&2; exit 1; }
P1=$(cat "$WORK/idp1.port")
P2=$(cat "$WORK/idp2.port")
SPLIT=$(python3 - "$WORK/nginx/access.log" "$P1" "$P2" <<'EOF'
import collections, re, sys
log, p1, p2 = sys.argv[1:]
counts = collections.Counter()
for line in open(log):
    m = re.search(r'" (\d{3}) upstream=(.*)$', line)
    if not m:
        continue
    status, ups = m.group(1), m.group(2).strip()
    last = ups.split(",")[-1].strip()
    who = "1" if last.endswith(":" + p1) else "2" if last.endswith(":" + p2) else "?"
    counts["via_" + who] += 1
    counts["status_" + status] += 1
    if "," in ups:
        counts["retried"] += 1
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
EOF
)

DATE=$(date +%F)
OUT=bench/results/scaling-$DATE.md
python3 - "$WORK/dbwork.json" "$PGB_TPS" "$WRK_JSON" "$SPLIT" "$t1" "$t2" "$DUR" "$N" >"$OUT" <<'EOF'
import json, sys
dbwork = json.load(open(sys.argv[1]))
tps = float(sys.argv[2] or 0)
wrk = json.loads(sys.argv[3])
split = dict(kv.split("=") for kv in sys.argv[4].split())
t1, t2, dur, n = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
# pgbench's simple-update: BEGIN, UPDATE, SELECT, INSERT, COMMIT: five
# statements, two of which write, in one transaction.
PGB_STATEMENTS, PGB_WRITES = 5, 2
print("# Several instances on one Postgres\n")
print(f"`bench/scaling.sh`, {n} requests of each flow, sequential, against one of two issuers on")
print("one PostgreSQL 15 (fsync on) on this machine. *Statements* are what `pg_stat_statements`")
print("counted (BEGIN and COMMIT included); *writes* are the INSERT/UPDATE/DELETE among them;")
print("*round trips* are the data segments the issuers sent Postgres (`ss`): the statements, and")
print("the ping before a statement that could not safely run twice (docs/postgres.md,")
print("\"A login's statements without the ping\"); *transactions* and *rows written* (inserted + updated +")
print("deleted) come from `pg_stat_database` (read-only transactions included), *WAL bytes* from")
print("`pg_stat_wal`. What the issuers do idle over the same time is subtracted (idle:")
print(f"{dbwork['idle_per_second']['statements']} statements/s, {dbwork['idle_per_second']['transactions']} transactions/s: the key-reload poll of two instances).\n")
print("| flow | statements | round trips | writes | transactions | rows written | WAL bytes | predicted ceiling |")
print("|---|---|---|---|---|---|---|---|")
for flow in ["client_credentials", "password", "refresh_token", "keep_login"]:
    f = dbwork[flow]
    bounds = []
    if tps and f["statements"] > 0.05:
        bounds.append(tps * PGB_STATEMENTS / f["statements"])
    if tps and f["write_statements"] > 0.05:
        bounds.append(tps * PGB_WRITES / f["write_statements"])
    ceiling = f"{min(bounds):,.0f} tokens/s" if bounds else "none"
    print(f"| {flow} | {f['statements']} | {f['round_trips']} | {f['write_statements']} | {f['transactions']} | {f['rows_written']} | {f['wal_bytes']:,} | {ceiling} |")
print()
print(f"This Postgres ran pgbench's simple-update at **{tps:,.0f} transactions/s** (8 clients, fsync")
print(f"on; {PGB_STATEMENTS} statements, {PGB_WRITES} of them writes, one commit each). The predicted ceiling")
print("scales that rate by each flow's statements and by its writes and takes the lower: it is")
print("what one such Postgres can carry for the whole fleet, however many instances share it.")
print("Signing (client_credentials) and argon2 (password, Keep) are per instance, so instances")
print("add capacity until the fleet's token rate reaches that ceiling; a faster Postgres (more")
print("cores, faster fsync) moves it in proportion to its own pgbench rate. The ceiling counts")
print("statements: a ping is a round trip and a wake-up of its backend, but nothing to plan,")
print("run or commit.\n")
print("## Rolling restart behind nginx\n")
print(f"wrk (1 thread, 8 connections, {dur} s) sent client_credentials grants through the repo's")
print("nginx settings (`proxy_next_upstream error timeout`) to two issuers; issuer 1 was stopped")
print(f"with SIGTERM and started again ({t1} s until ready), then, once nginx's `fail_timeout`")
print(f"(5 s) had passed, issuer 2 ({t2} s).\n")
errors = sum(wrk[k] for k in ["connect_errors", "read_errors", "write_errors", "timeouts", "status_errors"]) + wrk["lua_non2xx"]
print("| requests | req/s | p99 | errors (socket + non-2xx) | via issuer 1 | via issuer 2 | retried on the other |")
print("|---|---|---|---|---|---|---|")
print(f"| {wrk['requests']:,} | {wrk['rps']:,.0f} | {wrk['p99_ms']:.1f} ms | {errors} | {split.get('via_1', 0)} | {split.get('via_2', 0)} | {split.get('retried', 0)} |")
print()
statuses = ", ".join(f"{k[7:]}: {v}" for k, v in sorted(split.items()) if k.startswith("status_"))
print(f"Statuses nginx logged: {statuses}.")
EOF
cat "$OUT"
