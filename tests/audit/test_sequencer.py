"""The audit sequencer: a request writes its events unsealed, holding no chain
lock; the sequencer seals them into the gap-free chain in commit order; a
waiting event that was edited is refused, and one left waiting past the
bound fails verification. Several sealers at once (threads, or hosts) never
fork the chain, and a sequencer killed mid-run and restarted loses nothing.

These tests run with AUDIT_SEAL_AFTER_REQUEST off (the suite's other tests
seal at the end of each request)."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.models import AuditEvent
from referral_app.models.audit import GENESIS_HASH, chain_hash
from referral_app.services import audit, audit_sequencer, audit_verify
from tests import test_row_level_security
from tests.audit.test_audit_trail import drop_append_only_triggers
from tests.conftest import migrated_app
from tests.factories import Factory, token_for

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITERS = 8


@pytest.fixture
def unsealed(app: Flask) -> Iterator[Flask]:
    """The suite's app, with requests leaving their events for the sequencer."""
    app.config["AUDIT_SEAL_AFTER_REQUEST"] = False
    yield app
    app.config["AUDIT_SEAL_AFTER_REQUEST"] = True


def rows(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        db.session.remove()
        return found


def seal(app: Flask, *, wait: bool = True) -> int:
    """One pass; waiting for the chain lock by default (another test run on
    the same PostgreSQL database holds it for the length of a test)."""
    with app.app_context():
        try:
            return audit_sequencer.seal(db.session, wait=wait)
        finally:
            db.session.remove()


def verify(app: Flask) -> audit.Verification:
    with app.app_context():
        try:
            return audit.verify(db.session)
        finally:
            db.session.remove()


def assert_chain_whole(found: list[AuditEvent]) -> None:
    """Every event sealed, seq 1..N without a gap, each linked to the one before."""
    chain = sorted(found, key=lambda row: row.seq or 0)
    assert [row.seq for row in chain] == list(range(1, len(chain) + 1))
    assert [row.prev_hash for row in chain] == [GENESIS_HASH, *(row.hash for row in chain[:-1])]


# --- writing -----------------------------------------------------------------


def test_a_request_writes_its_events_unsealed_in_one_insert(unsealed, client, factory):
    user = factory.user()
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", remember)
    try:
        token_for(client, user)  # a sign-in: two events, auth.login and auth.token_created
    finally:
        event.remove(Engine, "before_cursor_execute", remember)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT")]
    assert len(inserts) == 1, inserts
    written = [row for row in rows(unsealed) if row.action.startswith("auth.")]
    assert [row.action for row in written] == ["auth.login", "auth.token_created"]
    for row in written:
        assert (row.seq, row.prev_hash, row.hash) == (None, None, None)
        assert row.mac
        assert row.written_at is not None
    assert not any("pg_advisory" in s or "pg_try_advisory" in s for s in statements)
    assert verify(unsealed).ok  # waiting, but well within the bound


def test_sealing_gives_a_gap_free_chain_that_verifies(unsealed, client, factory):
    for _ in range(3):
        token_for(client, factory.user())
    waiting = [row for row in rows(unsealed) if row.seq is None]
    assert len(waiting) >= 6
    sealed = seal(unsealed)
    assert sealed == len(waiting)
    found = rows(unsealed)
    assert_chain_whole(found)
    assert {row.id for row in found} >= {row.id for row in waiting}
    assert seal(unsealed) == 0  # nothing left
    result = verify(unsealed)
    assert (result.ok, result.checked) == (True, len(found))


def test_sealing_continues_a_chain_already_sealed(unsealed, client, factory):
    token_for(client, factory.user())
    seal(unsealed)
    head = max(row.seq for row in rows(unsealed))
    token_for(client, factory.user())
    assert seal(unsealed) > 0
    assert_chain_whole(rows(unsealed))
    assert max(row.seq for row in rows(unsealed)) > head
    assert verify(unsealed).ok


def test_seal_takes_at_most_its_limit_in_one_pass(unsealed, client, factory):
    for _ in range(2):
        token_for(client, factory.user())
    waiting = sum(1 for row in rows(unsealed) if row.seq is None)
    with unsealed.app_context():
        assert audit_sequencer.seal(db.session, limit=3) == 3
        assert audit_sequencer.seal(db.session) == waiting - 3
    assert_chain_whole(rows(unsealed))


def test_the_cli_seals_and_says_how_many(unsealed, client, factory):
    token_for(client, factory.user())
    waiting = sum(1 for row in rows(unsealed) if row.seq is None)
    result = unsealed.test_cli_runner().invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    assert f"sealed {waiting} events" in result.output
    assert all(row.seq is not None for row in rows(unsealed))


# --- tampering while waiting ---------------------------------------------------


def test_the_database_refuses_to_edit_a_waiting_event_or_to_seal_one_twice(unsealed, factory):
    factory.user()
    waiting = next(row for row in rows(unsealed) if row.seq is None)
    with unsealed.app_context():
        for statement in (
            "UPDATE audit_event SET action = 'nothing' WHERE id = :id",
            "UPDATE audit_event SET seq = 999, prev_hash = 'x', hash = 'y', "
            "action = 'nothing' WHERE id = :id",
            "DELETE FROM audit_event WHERE id = :id",
        ):
            with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
                db.session.execute(text(statement), {"id": waiting.id})
        db.session.remove()
    seal(unsealed)
    with unsealed.app_context():
        with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
            db.session.execute(
                text("UPDATE audit_event SET seq = 999, hash = 'f' WHERE id = :id"),
                {"id": waiting.id},
            )
        db.session.remove()
    assert verify(unsealed).ok


def test_an_event_edited_while_waiting_is_not_sealed_and_verify_fails(
    unsealed, client, factory, caplog
):
    token_for(client, factory.user())
    waiting = [row for row in rows(unsealed) if row.seq is None]
    edited = waiting[len(waiting) // 2]
    with unsealed.app_context():
        drop_append_only_triggers(db.session.connection())
        db.session.execute(
            text("UPDATE audit_event SET actor_user_id = NULL WHERE id = :id"), {"id": edited.id}
        )
        db.session.commit()
        db.session.remove()
    with caplog.at_level(logging.ERROR, logger="referral_app.audit_sequencer"):
        sealed = seal(unsealed)
    assert sealed == len(waiting) - 1
    assert f"audit event id {edited.id} has been changed" in caplog.text
    found = rows(unsealed)
    assert [row.id for row in found if row.seq is None] == [edited.id]
    assert_chain_whole([row for row in found if row.seq is not None])
    result = verify(unsealed)
    assert not result.ok
    assert result.first_bad_seq is None
    assert result.problem == (
        f"event id {edited.id} has been changed since it was written "
        "(its MAC does not match): the sequencer will not seal it"
    )


def test_an_event_inserted_without_the_key_is_not_sealed(unsealed, factory):
    """Someone with the database's rights but not AUDIT_HMAC_KEY adds an event."""
    factory.user()
    with unsealed.app_context():
        db.session.execute(
            text(
                "INSERT INTO audit_event (occurred_at, written_at, action, outcome, mac) "
                "VALUES (:now, :now, 'referral.read', 'success', :mac)"
            ),
            {"now": audit_verify.utcnow().replace(tzinfo=None), "mac": "0" * 64},
        )
        db.session.commit()
        db.session.remove()
    forged = max(row.id for row in rows(unsealed))
    seal(unsealed)
    assert [row.id for row in rows(unsealed) if row.seq is None] == [forged]
    result = verify(unsealed)
    assert not result.ok
    assert result.problem.startswith(f"event id {forged} has been changed")


# --- the bound ---------------------------------------------------------------------


@pytest.fixture
def later(monkeypatch):
    """Move verify's clock on."""

    def move(by: timedelta) -> None:
        now = audit_verify.utcnow()
        monkeypatch.setattr(audit_verify, "utcnow", lambda: now + by)

    return move


def test_an_event_waiting_within_the_bound_verifies(unsealed, factory, later):
    factory.user()
    later(timedelta(seconds=4))
    assert verify(unsealed).ok


def test_an_event_waiting_past_the_bound_fails_verification(unsealed, factory, later):
    factory.user()
    first = min(row.id for row in rows(unsealed) if row.seq is None)
    later(timedelta(seconds=6))
    result = verify(unsealed)
    assert not result.ok
    assert result.first_bad_seq is None
    assert result.problem == (
        f"event id {first} has waited more than 5 seconds to be sealed: is the sequencer running?"
    )
    seal(unsealed)
    assert verify(unsealed).ok


def test_the_bound_is_a_setting(unsealed, factory, later):
    factory.user()
    unsealed.config["AUDIT_SEAL_BOUND"] = timedelta(seconds=30)
    try:
        later(timedelta(seconds=20))
        assert verify(unsealed).ok
        later(timedelta(seconds=40))
        assert "waited more than 30 seconds" in verify(unsealed).problem
    finally:
        unsealed.config["AUDIT_SEAL_BOUND"] = TestingConfig.AUDIT_SEAL_BOUND


def test_the_cli_and_the_api_fail_on_an_event_left_unsealed(unsealed, client, factory, later):
    from referral_app.models import Role
    from tests.factories import bearer

    auditor = factory.user(Role.AUDITOR)
    headers = bearer(token_for(client, auditor))
    later(timedelta(minutes=1))
    cli = unsealed.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 1
    assert "to be sealed: is the sequencer running?" in cli.output
    answer = client.get("/api/v1/audit-events/verify", headers=headers)
    assert answer.json["ok"] is False
    assert "to be sealed: is the sequencer running?" in answer.json["problem"]


def test_the_audit_page_says_an_event_is_waiting_not_that_the_trail_was_cut(
    unsealed, factory, later
):
    from referral_app.models import Role
    from tests.blueprints.web.test_referral_pages import sign_in
    from tests.conftest import csrf_token

    auditor = sign_in(unsealed, factory.user(Role.AUDITOR))
    listed = auditor.get("/audit").get_data(as_text=True)
    assert "Waiting to be sealed" in listed  # not "Event None"
    later(timedelta(minutes=1))
    verified = auditor.post("/audit/verify", data={"csrf_token": csrf_token(auditor, "/audit")})
    text = verified.get_data(as_text=True)
    assert "An audit event has not been sealed into the trail" in text
    assert "to be sealed: is the sequencer running?" in text
    assert "cut short" not in text


# --- readers ---------------------------------------------------------------------


def test_the_trail_lists_events_not_yet_sealed(unsealed, client, factory):
    from referral_app.models import Role
    from tests.factories import bearer

    admin = factory.user(Role.SYSTEM_ADMIN)
    headers = bearer(token_for(client, admin))
    listed = client.get("/api/v1/audit-events?page_size=5", headers=headers)
    assert listed.status_code == 200
    newest = listed.json[0]
    assert newest["seq"] is None
    assert newest["hash"] is None
    assert newest["action"] == "auth.token_created"
    assert [event["id"] for event in listed.json] == sorted(
        (event["id"] for event in listed.json), reverse=True
    )


# --- no lock held by writers ------------------------------------------------------


@pytest.fixture
def live_unsealed(fresh_database_url: str) -> Iterator[Flask]:
    """An app over a database of the suite's kind, real commits, no sealing
    at the end of requests."""
    live = migrated_app(fresh_database_url, AUDIT_SEAL_AFTER_REQUEST=False)
    yield live
    with live.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_postgres(postgres_url: str) -> Iterator[Flask]:
    live = migrated_app(postgres_url, AUDIT_SEAL_AFTER_REQUEST=False)
    yield live
    with live.app_context():
        db.session.remove()
        db.engine.dispose()


def write_events(app: Flask, label: str, count: int) -> None:
    """`count` audited transactions, one event each, named by record_id."""
    with app.app_context():
        try:
            for n in range(count):
                audit.record("test.write", None, record_type="test", record_id=f"{label}-{n}")
                db.session.commit()
        finally:
            db.session.remove()


@pytest.mark.postgres_only
def test_a_request_commits_while_another_connection_holds_the_chain_lock(live_postgres):
    import psycopg
    from sqlalchemy.engine import make_url

    user = Factory(live_postgres).user()
    url = make_url(live_postgres.config["SQLALCHEMY_DATABASE_URI"])
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (audit_sequencer.CHAIN_LOCK_KEY,))
        answers: list[int] = []
        client = live_postgres.test_client()
        request = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/api/v1/auth/tokens", json={"email": user.email, "password": user.password}
                ).status_code
            )
        )
        request.start()
        request.join(timeout=20)
        assert not request.is_alive(), "the request waited for the chain lock"
        assert answers == [201]
        # A sealer finds the lock taken: it seals nothing, and does not wait.
        started = time.monotonic()
        assert seal(live_postgres, wait=False) == 0
        assert time.monotonic() - started < 5
        holder.execute("SELECT pg_advisory_unlock(%s)", (audit_sequencer.CHAIN_LOCK_KEY,))
    assert seal(live_postgres) >= 2
    assert_chain_whole(rows(live_postgres))
    assert verify(live_postgres).ok


def test_two_sealers_at_once_never_fork_the_chain(live_unsealed):
    """Writers commit while two threads seal in a loop; each event ends up in
    the chain exactly once, seq 1..N."""
    writing = [
        threading.Thread(target=write_events, args=(live_unsealed, f"w{index}", 40))
        for index in range(4)
    ]
    stop = threading.Event()
    sealed: list[int] = []
    errors: list[BaseException] = []

    def sealer() -> None:
        with live_unsealed.app_context():
            try:
                while not stop.is_set():
                    sealed.append(audit_sequencer.seal(db.session, limit=7))
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in [*writing, *sealers]:
        thread.start()
    for thread in writing:
        thread.join(timeout=120)
    stop.set()
    for thread in sealers:
        thread.join(timeout=60)
    assert errors == []
    seal(live_unsealed)
    found = rows(live_unsealed)
    assert_chain_whole(found)
    written = [row.record_id for row in found if row.action == "test.write"]
    assert sorted(written) == sorted(f"w{i}-{n}" for i in range(4) for n in range(40))
    assert sum(sealed) > 0
    assert verify(live_unsealed).ok


def test_the_watch_loop_survives_a_lost_database_and_stops_when_asked(
    live_unsealed, monkeypatch, caplog
):
    real_seal = audit_sequencer.seal
    failures = iter([True, True])

    def flaky(session, **kwargs):
        if next(failures, False):
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
        return real_seal(session, **kwargs)

    monkeypatch.setattr(audit_sequencer, "seal", flaky)
    stop = threading.Event()
    totals: list[int] = []
    with caplog.at_level(logging.WARNING, logger="referral_app.audit_sequencer"):
        watcher = threading.Thread(
            target=lambda: totals.append(
                audit_sequencer.watch(live_unsealed, interval=0.05, stop_event=stop)
            )
        )
        watcher.start()
        write_events(live_unsealed, "w", 5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(row.seq is None for row in rows(live_unsealed)):
            time.sleep(0.05)
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert caplog.text.count("database error (ConnectionError)") == 2
    found = rows(live_unsealed)
    assert all(row.seq is not None for row in found)
    assert totals == [len(found)]
    assert_chain_whole(found)


# --- the sequencer as its own process, killed and restarted --------------------------


def sequencer_process(app: Flask) -> subprocess.Popen[str]:
    """`flask audit seal --watch`, as `make run` or an operator starts it,
    with the deployment's database and audit key."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FLASK_APP", "QUERY_COUNT_HEADER", "REDIS_URL")
    }
    environment.update(
        APP_ENV="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        AUDIT_HMAC_KEY=app.config["AUDIT_HMAC_KEY"],
        PYTHONUNBUFFERED="1",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "referral_app",
            "audit",
            "seal",
            "--watch",
            "--interval",
            "0.05",
        ],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def counts(app: Flask) -> tuple[int, int]:
    """(sealed, waiting)."""
    with app.app_context():
        try:
            sealed, total = db.session.execute(
                select(func.count(AuditEvent.seq), func.count(AuditEvent.id))
            ).one()
        finally:
            db.session.remove()
    return sealed, total - sealed


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres_only
def test_eight_writers_and_a_sequencer_killed_and_restarted_leave_a_whole_chain(
    live_postgres,
):
    per_writer = 150
    go_on = threading.Event()  # the writers' second half waits for the kill
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            write_events(live_postgres, f"w{index}a", per_writer // 2)
            go_on.wait(timeout=60)
            write_events(live_postgres, f"w{index}b", per_writer - per_writer // 2)
        except BaseException as error:
            errors.append(error)

    sequencer = sequencer_process(live_postgres)
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    try:
        for thread in writers:
            thread.start()
        # Killed mid-run: once it has sealed some, while the writers write.
        assert wait_for(lambda: counts(live_postgres)[0] > 50), sequencer.poll()
        os.killpg(sequencer.pid, signal.SIGKILL)
        sequencer.communicate(timeout=10)
        assert sequencer.returncode == -signal.SIGKILL
        go_on.set()
        # The writers go on without it: events wait.
        assert wait_for(lambda: counts(live_postgres)[1] > 20)
        sequencer = sequencer_process(live_postgres)
        for thread in writers:
            thread.join(timeout=180)
        assert errors == []
        assert wait_for(lambda: counts(live_postgres)[1] == 0), counts(live_postgres)
    finally:
        go_on.set()
        if sequencer.poll() is None:
            os.killpg(sequencer.pid, signal.SIGTERM)
        output, _ = sequencer.communicate(timeout=30)
    # SIGTERM is a clean stop.
    assert sequencer.returncode == 0, output
    assert re.search(r"sealed \d+ events", output), output
    found = rows(live_postgres)
    assert_chain_whole(found)
    written = [row.record_id for row in found if row.action == "test.write"]
    expected = [
        f"w{i}{half}-{n}"
        for i in range(WRITERS)
        for half, count in (("a", per_writer // 2), ("b", per_writer - per_writer // 2))
        for n in range(count)
    ]
    assert sorted(written) == sorted(expected)  # every event, exactly once
    assert verify(live_postgres).ok


# --- the migration keeps the chain that was there ------------------------------------


def test_a_chain_sealed_before_the_migration_still_verifies_and_goes_on(fresh_database_url):
    """Events of the old schema (sealed at commit, seq the primary key) are
    kept as they were; new events chain on after them."""
    live = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=fresh_database_url)
    try:
        with live.app_context():
            flask_migrate.upgrade(revision="9279b6935057")
            key = audit_verify.hmac_key()
            prev_hash = GENESIS_HASH
            for seq in range(1, 4):
                values = {
                    "seq": seq,
                    "occurred_at": audit_verify.utcnow(),
                    "request_id": None,
                    "actor_user_id": None,
                    "actor_organisation_id": None,
                    "actor_role": None,
                    "action": "referral.read",
                    "record_type": "referral",
                    "record_id": str(seq),
                    "record_ids": None,
                    "fields": None,
                    "recipient_organisation_id": None,
                    "reason": None,
                    "outcome": "success",
                    "client_ip": None,
                }
                row_hash = chain_hash(_Row(values), prev_hash, key)
                db.session.execute(
                    text(
                        "INSERT INTO audit_event (seq, occurred_at, action, record_type, "
                        "record_id, outcome, prev_hash, hash) VALUES (:seq, :at, "
                        ":action, 'referral', :record_id, 'success', :prev_hash, :hash)"
                    ),
                    {
                        "seq": seq,
                        "at": values["occurred_at"]
                        if db.engine.dialect.name == "postgresql"
                        else values["occurred_at"].replace(tzinfo=None),
                        "action": "referral.read",
                        "record_id": str(seq),
                        "prev_hash": prev_hash,
                        "hash": row_hash,
                    },
                )
                prev_hash = row_hash
            db.session.commit()
            db.session.remove()
            flask_migrate.upgrade()
            assert audit.verify(db.session).ok
            audit.record("referral.read", None, record_type="referral", record_id="new")
            db.session.commit()
            assert audit_sequencer.seal(db.session) == 1
            found = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
            assert [(row.id, row.seq) for row in found] == [(1, 1), (2, 2), (3, 3), (4, 4)]
            assert audit.verify(db.session).ok
            db.session.remove()
    finally:
        with live.app_context():
            db.session.remove()
            db.engine.dispose()


class _Row:
    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


# --- privileges: the web role writes, a sealing role seals ------------------------

app_role_url = test_row_level_security.app_role_url
AS_THE_WEB_ROLE = test_row_level_security.AS_THE_WEB_ROLE


@pytest.mark.postgres_only
def test_the_web_role_cannot_seal_and_a_role_with_the_three_columns_can(app_role_url, postgres_url):
    """The web workers' role has no UPDATE on audit_event (README); the
    sequencer's role needs UPDATE of seq, prev_hash and hash, nothing more."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ProgrammingError

    from tests.conftest import _postgres_admin_url

    web = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    role = f"sealer_{uuid.uuid4().hex[:8]}"
    owner_dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(_postgres_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        owner.execute(f'GRANT CONNECT ON DATABASE "{make_url(postgres_url).database}" TO "{role}"')
        owner.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        owner.execute(f'GRANT SELECT, UPDATE (seq, prev_hash, hash) ON audit_event TO "{role}"')
    sealer = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=make_url(postgres_url).set(username=role).render_as_string(False),
    )
    try:
        token_for(web.test_client(), Factory(web).user())
        with web.app_context(), pytest.raises(ProgrammingError, match="permission denied"):
            audit_sequencer.seal(db.session)
        assert seal(sealer) >= 3
        assert_chain_whole(rows(sealer))
        assert verify(sealer).ok
    finally:
        for each in (web, sealer):
            with each.app_context():
                db.session.remove()
                db.engine.dispose()
        with psycopg.connect(owner_dsn, autocommit=True) as owner:
            owner.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(_postgres_admin_url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_checkpoint_job_seals_what_waits_then_signs_the_head(unsealed, factory, tmp_path):
    from referral_app import jobs
    from referral_app.services import checkpoints

    factory.user()
    waiting = sum(1 for row in rows(unsealed) if row.seq is None)
    assert waiting > 0
    unsealed.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path)
    try:
        with unsealed.app_context():
            seq = jobs.audit_checkpoint.call_local()
    finally:
        unsealed.config["AUDIT_CHECKPOINT_DIR"] = TestingConfig.AUDIT_CHECKPOINT_DIR
    found = rows(unsealed)
    assert all(row.seq is not None for row in found)
    assert seq == max(row.seq for row in found)
    with unsealed.app_context():
        assert checkpoints.chain_head(db.session)[0] == seq
