#!/usr/bin/env bash
# docker-compose.yml's topology as local processes (Docker needs an engine
# the build machines do not have): one PostgreSQL (scripts/pg.sh), N issuers
# on one database, and nginx balancing between them.
#
#   scripts/cluster.sh start DIR [N]  start everything under DIR (N issuers,
#                                      default 2) and print the balancer's URL
#   scripts/cluster.sh restart DIR I  stop issuer I (SIGTERM: it drains) and
#                                      start it again on its port
#   scripts/cluster.sh stop DIR       stop everything started under DIR
#   scripts/cluster.sh run [N]        start in a temp dir, wait for Ctrl-C, stop
#
# The binary is $IDP_BIN (default: target/release/domino-idp, built when
# missing). DIR/env holds the settings every issuer runs with, so the CLI
# reaches the same database:  (. DIR/env && domino-idp user add ...)
# nginx comes from Debian's packages (installed with apt-get when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

need_nginx() {
  if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return; fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "scripts/cluster.sh: installing nginx from Debian's packages" >&2
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >&2 ||
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >&2
  # The package starts a system nginx on port 80; this script runs its own.
  $sudo service nginx stop >/dev/null 2>&1 || true
}

wait_ready() {
  local url="$1" i
  for i in $(seq 1 200); do
    if curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "scripts/cluster.sh: $url did not become ready" >&2
  return 1
}

# Starts issuer I of DIR on its recorded port, with DIR/env's settings.
start_issuer() {
  local dir="$1" i="$2" port
  port="$(cat "$dir/idp$i.port")"
  (
    # shellcheck disable=SC1091
    . "$dir/env"
    export DOMINO_IDP_LISTEN="127.0.0.1:$port"
    cd "$dir"
    exec "$(cat "$dir/bin")" serve >>"$dir/idp$i.log" 2>&1
  ) &
  echo $! >"$dir/idp$i.pid"
}

# A rolling restart's step: SIGTERM issuer I (it stops accepting, finishes
# what it holds and exits), then start it again on the same port.
restart() {
  local dir="${1:-}" i="${2:-}" pid t
  [ -n "$dir" ] && [ -n "$i" ] && [ -f "$dir/idp$i.port" ] || usage
  if [ -f "$dir/idp$i.pid" ]; then
    pid="$(cat "$dir/idp$i.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for t in $(seq 1 400); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  fi
  start_issuer "$dir" "$i"
  wait_ready "http://127.0.0.1:$(cat "$dir/idp$i.port")"
}

start() {
  local dir="${1:-}" n="${2:-2}" bin="${IDP_BIN:-$root/target/release/domino-idp}"
  [ -n "$dir" ] || usage
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --bin domino-idp >&2)
  fi
  need_nginx

  local pg_url db_url proxy_port
  pg_url="$(PG_FSYNC=on "$root/scripts/pg.sh" start "$dir/pg")"
  psql -q "$pg_url" -c "CREATE DATABASE idp" >/dev/null 2>&1 || true
  db_url="${pg_url%/postgres}/idp"
  proxy_port="$(free_port)"
  if [ ! -f "$dir/kek" ]; then
    (umask 077 && head -c32 /dev/urandom | base64 >"$dir/kek")
  fi
  cat >"$dir/env" <<ENV
export DOMINO_IDP_DATABASE_URL='$db_url'
export DOMINO_IDP_KEY_ENCRYPTION_KEY='$(cat "$dir/kek")'
export DOMINO_IDP_PUBLIC_URL='http://127.0.0.1:$proxy_port'
export DOMINO_IDP_BRUTE_FORCE__TRUSTED_PROXIES='["127.0.0.1"]'
ENV
  chmod 600 "$dir/env"

  local upstreams="" i port
  echo "$bin" >"$dir/bin"
  for i in $(seq 1 "$n"); do
    port="$(free_port)"
    echo "$port" >"$dir/idp$i.port"
    start_issuer "$dir" "$i"
    upstreams="$upstreams        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;
"
  done
  for i in $(seq 1 "$n"); do
    wait_ready "http://127.0.0.1:$(cat "$dir/idp$i.port")" || {
      tail -n 20 "$dir/idp$i.log" >&2
      exit 1
    }
  done

  mkdir -p "$dir/nginx"
  local user=""
  if [ "$(id -u)" -eq 0 ]; then user="user root;"; fi
  # The same proxy settings as deploy/nginx.conf, on local ports.
  cat >"$dir/nginx/nginx.conf" <<CONF
$user
daemon on;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events {}
http {
    log_format upstream '\$remote_addr "\$request" \$status upstream=\$upstream_addr';
    access_log $dir/nginx/access.log upstream;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    upstream domino_idp {
$upstreams    }
    server {
        listen 127.0.0.1:$proxy_port;
        client_max_body_size 64k;
        location / {
            proxy_pass http://domino_idp;
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }
    }
}
CONF
  local nginx_bin
  nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  "$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -e "$dir/nginx/error.log"
  echo "$proxy_port" >"$dir/proxy.port"
  wait_ready "http://127.0.0.1:$proxy_port"
  echo "scripts/cluster.sh: $n issuers behind http://127.0.0.1:$proxy_port, Postgres at $db_url; stop with: scripts/cluster.sh stop $dir" >&2
  echo "http://127.0.0.1:$proxy_port"
}

stop() {
  local dir="${1:-}" pidfile
  [ -n "$dir" ] || usage
  if [ -f "$dir/nginx/nginx.pid" ]; then
    kill "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
  fi
  for pidfile in "$dir"/idp*.pid; do
    [ -f "$pidfile" ] || continue
    kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  "$root/scripts/pg.sh" stop "$dir/pg"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  restart) shift; restart "$@" ;;
  run)
    shift
    dir="$(mktemp -d "${TMPDIR:-/tmp}/domino-idp-cluster.XXXXXX")"
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    start "$dir" "${1:-2}"
    echo "scripts/cluster.sh: Ctrl-C stops it; settings for the CLI: . $dir/env" >&2
    while sleep 3600; do :; done
    ;;
  *) usage ;;
esac
