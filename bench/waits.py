"""What the benchmark database's busy backends wait on, sampled.

    .venv/bin/python bench/waits.py referral_bench_1000000 --out waits.txt &
    ... run a scenario ...
    touch waits.txt.stop

Every 20 ms, pg_stat_activity (read from the `postgres` database, so the
benchmark's database can be dropped and loaded meanwhile) gives the wait
event of each active client backend of the database; only samples with 2
or more active backends count (the scenario's phase, not a load, a VACUUM
or the counting pass). Reported: per wait event (and, for a lock, the
statement waiting), the backends waiting on it on average. Used for
bench/RESULTS.md's chain-lock measurement (runs 6 and 7): the chain's
advisory lock shows as `Lock:advisory [SELECT seq, hash FROM
audit_chain_head(...)]`, the reference counter's row as `Lock:transactionid`.
Traffic: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import collections
import os
import time

import psycopg

QUERY = """\
SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') ||
  CASE WHEN wait_event_type = 'Lock'
       THEN ' [' || left(regexp_replace(query, '\\s+', ' ', 'g'), 60) || ']' ELSE '' END
FROM pg_stat_activity
WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--out", required=True, help="the report; OUT.stop ends the sampling")
    parser.add_argument("--seconds", type=float, default=900, help="at most this long")
    args = parser.parse_args()
    assert args.database.startswith("referral_bench_")
    counts: collections.Counter[str] = collections.Counter()
    samples = 0
    deadline = time.monotonic() + args.seconds
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        while time.monotonic() < deadline and not os.path.exists(args.out + ".stop"):
            rows = conn.execute(QUERY, (args.database,)).fetchall()
            if len(rows) >= 2:
                samples += 1
                counts.update(row[0] for row in rows)
            time.sleep(0.02)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(f"samples with 2 or more active backends: {samples}\n")
        for wait, n in counts.most_common():
            handle.write(f"{wait}: {n / max(samples, 1):.3f} backends on average\n")


if __name__ == "__main__":
    main()
