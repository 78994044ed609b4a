"""How the scripts that drive an official client (domino_clients.py,
keycloak_python.py) report: one line per check, exit 1 on the first failure."""

import sys


def check(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report every failure the same way
        print(f"FAIL {name}: {type(e).__name__}: {e}")
        sys.exit(1)
    print(f"ok   {name}")
