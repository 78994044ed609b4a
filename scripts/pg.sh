#!/usr/bin/env bash
# A throwaway local PostgreSQL server for development and tests, from Debian's
# packages (installed with apt-get when missing; no system cluster is created).
#
#   scripts/pg.sh start [DIR [PORT]]  initialise DIR (default: a new temp dir)
#                                      on first use, start the server on
#                                      127.0.0.1:PORT (default: the port DIR
#                                      used before, else a free one) and print
#                                      postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop DIR            stop it (fast shutdown); the data stays,
#                                      so `start DIR` brings the same server back
#   scripts/pg.sh url DIR             print the URL again
#
# With PG_SSL_CERT and PG_SSL_KEY (PEM files) the server also speaks TLS with
# that certificate (copied into DIR/data); plain connections still work.
#
# Only the URL goes to stdout. Trust authentication on 127.0.0.1, no Unix
# socket: it is for tests on this machine, never for a deployment. fsync is
# off unless PG_FSYNC=on: the data is thrown away anyway, and with it on every
# DROP DATABASE (one per test) waits about a second for a checkpoint. Postgres
# refuses to run as root, so as root the server runs as the `postgres` user
# (DIR/data is chowned to it). PG_OPTIONS adds server options, e.g.
# PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements' (bench/scaling.sh).
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

find_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "scripts/pg.sh: installing PostgreSQL from Debian's packages" >&2
  # The tests start their own servers: keep the package from creating (and
  # starting) a system cluster on port 5432.
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" |
    $sudo tee /etc/postgresql-common/createcluster.d/domino-idp.conf >/dev/null
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >&2 ||
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

# Runs a PostgreSQL program as the user that owns the data directory.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000))
}

url_of() {
  echo "postgres://postgres@127.0.0.1:$(cat "$1/port")/postgres"
}

start() {
  local dir="${1:-}" port="${2:-}" bin
  bin="$(find_bin)" || { install_postgres && bin="$(find_bin)"; } || {
    echo "scripts/pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql" >&2
    exit 1
  }
  if [ -z "$dir" ]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/domino-idp-pg.XXXXXX")"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/port" ] && [ -f "$dir/data/postmaster.pid" ] &&
    as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "scripts/pg.sh: already running in $dir" >&2
    url_of "$dir"
    return 0
  fi
  if [ -z "$port" ]; then
    if [ -f "$dir/port" ]; then port="$(cat "$dir/port")"; else port="$(free_port)"; fi
  fi
  echo "$port" >"$dir/port"
  if [ "$(id -u)" -eq 0 ]; then
    # The server user must be able to reach DIR/data.
    chmod a+x "$dir"
    if ! runuser -u postgres -- test -x "$dir"; then
      echo "scripts/pg.sh: user postgres cannot enter $dir (a parent directory is private); use a directory under /tmp" >&2
      exit 1
    fi
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    mkdir -p "$dir/data"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/data"; fi
    chmod 700 "$dir/data"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  # Settings that vary per start go on the command line; the log sits beside
  # the data so `stop` + `start` keeps one history.
  local ssl=""
  if [ -n "${PG_SSL_CERT:-}" ] && [ -n "${PG_SSL_KEY:-}" ]; then
    cp "$PG_SSL_CERT" "$dir/data/server.crt"
    cp "$PG_SSL_KEY" "$dir/data/server.key"
    chmod 600 "$dir/data/server.crt" "$dir/data/server.key"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/data/server.crt" "$dir/data/server.key"; fi
    ssl=" -c ssl=on"
  fi
  touch "$dir/server.log"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/server.log"; fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=300 -c shared_buffers=64MB -c fsync=${PG_FSYNC:-off}$ssl ${PG_OPTIONS:-}" \
    start >/dev/null || {
    tail -n 30 "$dir/server.log" >&2
    exit 1
  }
  echo "scripts/pg.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on 127.0.0.1:$port; stop with: scripts/pg.sh stop $dir" >&2
  url_of "$dir"
}

stop() {
  local dir="${1:-}" bin
  [ -n "$dir" ] || usage
  bin="$(find_bin)" || exit 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  url) [ -n "${2:-}" ] || usage; url_of "$2" ;;
  *) usage ;;
esac
