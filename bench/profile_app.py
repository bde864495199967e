"""Where the app's CPU goes for an API list and detail, in-process.

    .venv/bin/python bench/profile_app.py postgresql 1000000
    .venv/bin/python bench/profile_app.py sqlite 100000

On the benchmark's database (bench/run.py's), the app (this work tree)
serves the list and the detail through Flask's test client (no gunicorn,
no HTTP): first the process CPU per request over N requests, then, over N
more under cProfile, each package's share of the own time (wall clock:
psycopg's share includes its waits on PostgreSQL; "C calls" includes
sqlite3's work on SQLite), scaled to the CPU per request. Used for
bench/RESULTS.md's targets table.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import logging
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def group(path: str) -> str:
    found = re.search(r"site-packages/([A-Za-z_0-9]+)", path)
    if found:
        return found.group(1)
    if str(ROOT) + "/" in path:
        return "/".join(path.split(str(ROOT) + "/")[1].split("/")[:2])
    if path.startswith("~") or "<" in path:
        return "C calls (sqlite3; psycopg's I/O)"
    return "stdlib"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", choices=["postgresql", "sqlite"])
    parser.add_argument("referrals", type=int)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "development")
    os.environ["DATABASE_URL"] = (
        f"sqlite:////tmp/referral-bench/bench-{args.referrals}.db"
        if args.database == "sqlite"
        else f"postgresql://postgres@127.0.0.1:5432/referral_bench_{args.referrals}"
    )
    from referral_app import create_app

    app = create_app()
    logging.disable(logging.CRITICAL)
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/tokens",
        json={"email": "manager0@bench-0001.example", "password": "bench-password-2026"},
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    listing = "/api/v1/referrals?direction=incoming&page_size=25"
    first = client.get(listing, headers=headers).get_json()[0]["id"]
    scenarios = {
        "list": lambda: client.get(listing, headers=headers),
        "detail": lambda: client.get(f"/api/v1/referrals/{first}", headers=headers),
    }
    n = args.requests
    for name, send in scenarios.items():
        for _ in range(30):
            send()
        started = time.process_time()
        for _ in range(n):
            send()
        per_request = (time.process_time() - started) * 1000 / n
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            send()
        profile.disable()
        shares: collections.Counter[str] = collections.Counter()
        for (path, _line, _fn), (_cc, _nc, own, _cum, _callers) in pstats.Stats(
            profile
        ).stats.items():  # type: ignore[attr-defined]
            shares[group(path)] += own
        total = sum(shares.values())
        print(f"\n{name}: {per_request:.2f} ms of CPU a request in-process; own time by package:")
        for package, own in shares.most_common(12):
            print(f"  {package:34s} {100 * own / total:5.1f} %  {per_request * own / total:.2f} ms")


if __name__ == "__main__":
    main()
