"""Round trips to PostgreSQL per request, counted by the database itself:
with `log_statement = 'all'` on the test database, every statement the
server receives is a line of its log (BEGIN and COMMIT included, and any
liveness ping the pool would send). Budgets (issue 14): at most 5 for the
list and a detail, 7 for a create."""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from referral_app.extensions import db
from tests.conftest import migrated_app
from tests.factories import Factory
from tests.referral_helpers import create, make_world, referral_body

BUDGETS = {"list": 5, "detail": 5, "create": 7}


def _server_log(dsn: str) -> Path | None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute("SELECT pg_current_logfile()").fetchone()
        data_directory = connection.execute("SHOW data_directory").fetchone()
    if row and row[0]:
        path = Path(row[0])
        return path if path.is_absolute() else Path(data_directory[0]) / path
    # Debian's clusters write their log through pg_ctlcluster, not the collector.
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*-main.log"), key=os.path.getmtime)
    return Path(found[-1]) if found else None


@pytest.fixture
def logged(postgres_url: str) -> Iterator[tuple[FlaskClient, Callable[[], int], str]]:
    """A client of an app on a fresh database that logs every statement,
    and a function that says how many statements the database has logged
    for that database so far."""
    url = make_url(postgres_url)
    dsn = url.set(drivername="postgresql").render_as_string(False)
    log = _server_log(dsn)
    if log is None or not os.access(log, os.R_OK):
        if os.environ.get("CI"):
            pytest.fail(f"the PostgreSQL server's log is not readable here ({log})")
        pytest.skip("the PostgreSQL server's log is not readable here")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE \"{url.database}\" SET log_statement = 'all'")
    app = migrated_app(postgres_url, AUDIT_SEAL_AFTER_REQUEST=False)
    with app.app_context():
        db.engine.dispose()  # new connections take the setting
    line = re.compile(rf"\] \S*@{re.escape(url.database)} LOG:  (statement|execute [^:]*):")

    def statements() -> int:
        time.sleep(0.3)  # the server writes its log as it goes; let it catch up
        with log.open(errors="replace") as lines:
            return sum(1 for text in lines if line.search(text))

    try:
        yield app.test_client(), statements, url.database
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_list_detail_and_create_stay_within_their_round_trips(logged) -> None:
    client, statements, _database = logged
    factory = Factory(client.application)
    world = make_world(client, factory)
    referral = create(client, world.officer, world.yjs)
    requests = {
        "list": lambda: client.get("/api/v1/referrals", headers=world.officer.headers),
        "detail": lambda: client.get(
            f"/api/v1/referrals/{referral['id']}", headers=world.officer.headers
        ),
        "create": lambda: client.post(
            "/api/v1/referrals", json=referral_body(world.yjs), headers=world.officer.headers
        ),
    }
    counted = {}
    for name, send in requests.items():
        assert send().status_code < 300  # warm: the pool has its connection
        before = statements()
        answer = send()
        assert answer.status_code < 300, answer.json
        counted[name] = statements() - before
    assert counted["list"] >= 3  # the log is really being read: BEGIN, a read, COMMIT
    over = {name: n for name, n in counted.items() if n > BUDGETS[name]}
    assert not over, f"round trips {counted} over the budgets {BUDGETS}"
