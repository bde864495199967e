"""PostgreSQL's planning and execution time for the product's hot statements.

    .venv/bin/python bench/explain.py --referrals 1000000

The statements are the product's own: the app (this work tree) serves a
sign-in, the API list, detail, name search and create and the web home page
in-process (Flask's test client) on the benchmark's database, and every
statement it sends to PostgreSQL is captured with its parameters
(SQLAlchemy's before_cursor_execute), as `bench/run.py --statements` shows
them from PostgreSQL's log. Each hot one (a SELECT, or the create's WITH)
is then run, in a transaction that first replays what the request ran
before it (the sign-in lookup's row-level-security setting) and is rolled
back afterwards, as:

- one-off: `EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) <statement>` with the
  parameters bound (an unnamed statement: a custom plan, planned for these
  values every time), the median of --repeat runs;
- prepared: `PREPARE p AS <statement>`, executed 6 times, then
  `EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) EXECUTE p(...)`, the median of
  --repeat runs. This is how the app runs them once warm: psycopg prepares
  a statement after 5 executions on a connection, and PostgreSQL then
  switches to a generic plan (planned once, its planning time near 0) when
  that is not estimated dearer than the custom plans it made the first 5
  times; the "plan" column says which the last EXPLAIN used
  (pg_prepared_statements' generic_plans and custom_plans counters).

The statements run on a connection the app's engine makes, so with the
app's session settings: without them (max_parallel_workers_per_gather=0,
referral_app/__init__._engine_options) the home page's worklists and the
name search got parallel plans at 1M and executed in 1,128 and 311 ms
instead of about 110 and 20. `--timing-off` adds TIMING OFF (per-node
timing made no difference that matters on this machine).

Planning and execution times are PostgreSQL's own (the SUMMARY), in ms.
Traffic: the benchmark's database on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-2026"
MANAGER = "manager0@bench-0001.example"
PREPARED_AFTER = 6  # executions before the prepared statement is explained


_APP: list[Any] = []  # the app capture() made; connect() uses its engine
_KEPT: list[Any] = []  # the pool's handle of the connection explain() uses


def connect() -> Any:
    """A psycopg connection made by the app's engine (its connect arguments:
    the session settings the app's requests run with)."""
    from referral_app.extensions import db

    with _APP[0].app_context():
        handle = db.engine.raw_connection()
    _KEPT.append(handle)  # checked out (not returned to the pool) while in use
    return handle.driver_connection


def capture(referrals: int) -> list[tuple[str, str, list[tuple[str, Any]]]]:
    """(scenario, hot statement label, [(statement, params) sent before it and it])."""
    os.environ.setdefault("APP_ENV", "development")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/referral_bench_{referrals}"
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from referral_app import create_app

    app = create_app()
    _APP.append(app)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(Engine, "before_cursor_execute")
    def _record(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not many:
            sent.append((statement, params))

    api = app.test_client()
    token = api.post(
        "/api/v1/auth/tokens", json={"email": MANAGER, "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    page = api.get("/api/v1/referrals?direction=incoming&page_size=25", headers=headers).get_json()
    me = api.get("/api/v1/me", headers=headers).get_json()
    orgs = api.get("/api/v1/organisations?page_size=5", headers=headers).get_json()
    other = next(o["id"] for o in orgs if o["id"] != me["organisation"]["id"])
    web = app.test_client()
    login = web.get("/login").get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|form_token)" value="([^"]+)"', login))
    web.post("/login", data={**form, "email": MANAGER, "password": PASSWORD, "otp": ""})
    create_body = {
        "child": {"first_name": "Bench", "last_name": "Child", "date_of_birth": "2012-05-01"},
        "receiving_organisation_id": other,
        "reason": "Benchmark.",
        "risk_level": "low",
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
    }
    scenarios: dict[str, Callable[[], Any]] = {
        "list": lambda: api.get(
            "/api/v1/referrals?direction=incoming&page_size=25", headers=headers
        ),
        "detail": lambda: api.get(f"/api/v1/referrals/{page[0]['id']}", headers=headers),
        "search": lambda: api.post(
            "/api/v1/referrals/search", headers=headers, json={"q": "Miller"}
        ),
        "create": lambda: api.post("/api/v1/referrals", headers=headers, json=create_body),
        "home": lambda: web.get("/"),
    }
    found = []
    for name, send in scenarios.items():
        send()  # warm: the statements built once per shape
        sent.clear()
        answer = send()
        if answer.status_code >= 300:
            sys.exit(f"{name} answered {answer.status_code}")
        for n, (statement, _params) in enumerate(sent):
            head = statement.lstrip().upper()
            if not head.startswith(("SELECT", "WITH")) or "SET_CONFIG('APP." in head[:60]:
                continue
            if "FROM AUTH_SESSION" in head:
                if name != "list":
                    continue  # one sign-in lookup is enough
                label = "sign-in lookup (sets RLS)"
            elif head.startswith("WITH BUMP"):
                label = "create: agency + counter (CTE)"
            elif name == "list" and "AS TOTAL" in head:
                label = "list page (count column)"
            elif name == "home" and "UNION ALL" in head:
                label = "home: the worklists (one statement, UNION ALL)"
            elif name == "search" and "UNION ALL" in head:
                label = "search: name search (UNION ALL)"
            else:
                label = f"{name}: {label_of(statement)}"
            found.append((name, label, sent[: n + 1]))
    return found


def label_of(statement: str) -> str:
    tables = re.findall(r"\bFROM (\w+)", statement)
    return (
        "SELECT from "
        + (tables[0] if tables else "?")
        + (" (UNION ALL)" if "UNION ALL" in statement else "")
    )


def positional(statement: str, params: Any) -> tuple[str, list[Any]]:
    """The statement with $n for SQLAlchemy's %(name)s (a name used twice is one $n)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%")
    return text, [params[name] for name in names]


def explain(
    found: list[tuple[str, str, list[tuple[str, Any]]]], repeat: int, timing: bool
) -> list[dict[str, Any]]:
    from psycopg import sql

    rows = []
    # A connection made as the app makes them (its engine's connect
    # arguments: no parallel plans for a request).
    with connect() as conn:
        for scenario, label, statements in found:
            *before, (statement, params) = statements
            one_off: list[tuple[float, float]] = []
            prepared: list[tuple[float, float]] = []
            generic = False
            options = "ANALYZE, SUMMARY, FORMAT JSON" + ("" if timing else ", TIMING OFF")
            for _ in range(repeat):
                for text, values in before:
                    conn.execute(text, values)
                plan = conn.execute(f"EXPLAIN ({options}) " + statement, params).fetchone()[0][0]
                one_off.append((plan["Planning Time"], plan["Execution Time"]))
                conn.rollback()
            text, values = positional(statement, params)
            for text_before, values_before in before:
                conn.execute(text_before, values_before)
            conn.execute("PREPARE bench_p AS " + text)
            literals = sql.SQL(", ").join(sql.Literal(v) for v in values).as_string(conn)
            execute = f"EXECUTE bench_p({literals})"
            for _ in range(PREPARED_AFTER):
                conn.execute(execute)
            generic_before = conn.execute(
                "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'bench_p'"
            ).fetchone()[0]
            for _ in range(repeat):
                plan = conn.execute(f"EXPLAIN ({options}) " + execute).fetchone()[0][0]
                prepared.append((plan["Planning Time"], plan["Execution Time"]))
                counters = conn.execute(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE name = 'bench_p'"
                ).fetchone()
                generic = counters is not None and counters[0] > generic_before
                generic_before = counters[0] if counters is not None else 0
            conn.rollback()  # undoes the CTE's bumps, and the PREPARE made in the transaction
            rows.append(
                {
                    "scenario": scenario,
                    "label": label,
                    "one_off": tuple(statistics.median(x) for x in zip(*one_off, strict=True)),
                    "prepared": tuple(statistics.median(x) for x in zip(*prepared, strict=True)),
                    "generic": generic,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each, the median kept")
    parser.add_argument("--timing-off", action="store_true", help="EXPLAIN with TIMING OFF")
    args = parser.parse_args()
    found = capture(args.referrals)
    rows = explain(found, args.repeat, not args.timing_off)
    print(
        "| statement | one-off: planning ms | one-off: execution ms "
        "| prepared (after 6): planning ms | prepared: execution ms | prepared plan |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        (plan1, exec1), (plan2, exec2) = row["one_off"], row["prepared"]
        kind = "generic" if row["generic"] else "custom"
        print(
            f"| {row['label']} | {plan1:.2f} | {exec1:.2f} | {plan2:.2f} | {exec2:.2f} | {kind} |"
        )


if __name__ == "__main__":
    main()
