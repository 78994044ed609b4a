#!/usr/bin/env python3
"""The database work per token, for bench/scaling.sh: runs N requests of each
flow against one issuer and reads what Postgres counted meanwhile
(pg_stat_statements: statements, and those that write; pg_stat_database:
transactions and rows written; pg_stat_wal: WAL bytes) and the round trips
(`ss`: data segments sent on the connections to Postgres: a statement, or
the ping an issuer sends before some of them, is one each), less what the
issuers do when idle over the same time (the key-reload poll).
The stats query itself runs in another database and is not counted.
Prints one JSON object. Standard library only; psql for the counters."""

import argparse
import base64
import json
import re
import subprocess
import time
import urllib.parse
import urllib.request

STATS = """
SELECT (SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements s
          JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{db}'),
       (SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements s
          JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{db}'
           AND s.query ~* '^\s*(insert|update|delete)'),
       xact_commit, tup_inserted + tup_updated + tup_deleted,
       (SELECT wal_bytes FROM pg_stat_wal)
FROM pg_stat_database WHERE datname = '{db}'
"""


def psql(url, sql):
    out = subprocess.run(
        ["psql", "-qAtX", "-F", " ", url, "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return out.strip()


def segments(port):
    """Data segments sent so far on the connections open to Postgres at
    `port` (the issuers' sets; psql's own have closed). sqlx flushes each
    statement, and each ping, once: one segment a round trip."""
    out = subprocess.run(
        ["ss", "-tinH", "state", "established", f"( dport = :{port} )"],
        check=True, capture_output=True, text=True,
    ).stdout
    return sum(int(n) for n in re.findall(r"\bdata_segs_out:(\d+)", out))


def counters(admin_url, db):
    # Round trips now, before the wait below adds the issuers' idle polls.
    trips = segments(urllib.parse.urlparse(admin_url).port or 5432)
    # A busy backend flushes its statistics at most once a second, an idle
    # one after ten seconds: wait for the last of them.
    time.sleep(11)
    statements, writes, transactions, rows, wal = psql(admin_url, STATS.format(db=db)).split()
    return [int(statements), int(writes), int(transactions), int(rows), int(float(wal)), trips]


def post(url, form, headers=None):
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def basic(client_id, secret):
    raw = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="one issuer's base URL")
    p.add_argument("--admin-url", required=True, help="Postgres URL of a database to read stats from")
    p.add_argument("--db", default="idp")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()
    token_url = a.base + "/auth/realms/DominoRealm/protocol/openid-connect/token"
    auth = basic(a.client_id, a.client_secret)
    psql(a.admin_url, "SELECT pg_stat_statements_reset()")

    last = [counters(a.admin_url, a.db)]

    def measure(run):
        started = time.monotonic()
        for _ in range(a.n):
            run()
        seconds = time.monotonic() - started
        after = counters(a.admin_url, a.db)
        before, last[0] = last[0], after
        return [x - y for x, y in zip(after, before)], seconds

    idle, idle_seconds = measure(lambda: time.sleep(10.0 / a.n))

    def per_token(delta, seconds):
        scale = seconds / idle_seconds
        net = [d - i * scale for d, i in zip(delta, idle)]
        return {
            "statements": round(net[0] / a.n, 2),
            "write_statements": round(net[1] / a.n, 2),
            "transactions": round(net[2] / a.n, 2),
            "rows_written": round(net[3] / a.n, 2),
            "wal_bytes": round(net[4] / a.n),
            "round_trips": round(net[5] / a.n, 2),
        }

    results = {"n": a.n, "idle_per_second": {
        "statements": round(idle[0] / idle_seconds, 2),
        "transactions": round(idle[2] / idle_seconds, 2),
    }}

    cc = {"grant_type": "client_credentials"}
    results["client_credentials"] = per_token(*measure(lambda: post(token_url, cc, auth)))

    pw = {"grant_type": "password", "username": a.user, "password": a.password, "scope": "openid"}
    results["password"] = per_token(*measure(lambda: post(token_url, pw, auth)))

    refresh = [post(token_url, pw, auth)["refresh_token"]]

    def rotate():
        body = post(token_url, {"grant_type": "refresh_token", "refresh_token": refresh[0]}, auth)
        refresh[0] = body["refresh_token"]

    results["refresh_token"] = per_token(*measure(rotate))

    keep = json.dumps({"username": a.user, "password": a.password}).encode()

    def keep_login():
        req = urllib.request.Request(a.base + "/auth", data=keep,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    results["keep_login"] = per_token(*measure(keep_login))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
