"""The audit trail cannot be cut short unnoticed: signed checkpoints of the
chain's head, kept outside the database, catch a tail deleted or a table
truncated by someone with the database owner's rights (who has neither the
signing key nor the checkpoint store)."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import func, select, text

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role
from referral_app.services import audit, audit_sequencer, checkpoints
from tests.audit.test_audit_trail import drop_append_only_triggers
from tests.referral_helpers import make_world


@pytest.fixture
def store(app, tmp_path):
    """A checkpoint store of the test's own."""
    before = app.config.get("AUDIT_CHECKPOINT_DIR")
    app.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")
    yield tmp_path / "checkpoints" / checkpoints.FILE_NAME
    app.config["AUDIT_CHECKPOINT_DIR"] = before


@pytest.fixture
def checkpointed(app, client, factory, store):
    """A trail of some events, checkpointed; returns the checkpointed seq."""
    make_world(client, factory)
    with app.app_context():
        checkpoint = checkpoints.write_checkpoint(db.session)
        assert checkpoint.seq == db.session.scalar(select(func.max(AuditEvent.seq)))
        assert checkpoint.seq > 12
    return checkpoint.seq


def cut_tail(app, keep_up_to: int) -> None:
    with app.app_context():
        connection = db.session.connection()
        drop_append_only_triggers(connection)
        connection.execute(text("DELETE FROM audit_event WHERE seq > :seq"), {"seq": keep_up_to})
        db.session.commit()


def check(app) -> checkpoints.CheckpointCheck:
    with app.app_context():
        assert audit.verify(db.session).ok  # the chain alone sees nothing wrong
        return checkpoints.check_chain(db.session)


def test_a_checkpoint_is_a_signed_line_in_the_store(app, checkpointed, store):
    line = json.loads(store.read_text().splitlines()[-1])
    assert line["seq"] == checkpointed
    assert set(line) == {"seq", "hash", "at", "key_id", "signature"}
    result = check(app)
    assert result.ok
    assert result.trusted is not None
    assert result.trusted.seq == checkpointed


@pytest.mark.parametrize("cut", [1, 10])
def test_cutting_the_newest_events_is_detected(app, checkpointed, cut):
    cut_tail(app, checkpointed - cut)
    result = check(app)
    assert not result.ok
    assert result.problem == (
        f"the chain ends at seq {checkpointed - cut} but the checkpoint of "
        f"{result.trusted.at.isoformat(timespec='seconds')} signed seq {checkpointed}: "
        f"events {checkpointed - cut + 1} to {checkpointed} are missing"
    )


def test_cutting_all_but_one_event_is_detected(app, checkpointed):
    cut_tail(app, 1)
    result = check(app)
    assert not result.ok
    assert f"events 2 to {checkpointed} are missing" in result.problem


def test_events_after_the_checkpoint_are_fine(app, client, factory, checkpointed):
    make_world(client, factory)  # more events, not yet checkpointed
    assert check(app).ok


def test_a_rewritten_chain_does_not_match_the_checkpoint(app, checkpointed):
    """The owner deletes the tail and appends a forged event at the same seq
    (even with a valid HMAC, had they the key): its hash is not the signed one."""
    cut_tail(app, checkpointed - 1)
    with app.app_context():
        audit.record("referral.read", None, record_type="referral", record_id="forged")
        db.session.commit()
        audit_sequencer.seal(db.session)
        assert db.session.scalar(select(func.max(AuditEvent.seq))) == checkpointed
    result = check(app)
    assert not result.ok
    assert result.problem.startswith(f"event {checkpointed} is not the one the checkpoint")


def test_a_forged_checkpoint_line_fails_verification(app, checkpointed, store):
    """Someone without the key appends a checkpoint of a shorter chain."""
    forged = json.loads(store.read_text().splitlines()[-1])
    forged["seq"] = 1
    forged["signature"] = base64.b64encode(b"\0" * 64).decode()
    with store.open("a") as file:
        file.write(json.dumps(forged) + "\n")
    result = check(app)
    assert not result.ok
    assert "line 2" in result.problem
    assert "not signed with the checkpoint key" in result.problem


def test_a_verifier_needs_only_the_public_key(app, checkpointed):
    with app.app_context():
        public = checkpoints.signing_key().public_key()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    signing = app.config["AUDIT_CHECKPOINT_KEY"]
    app.config["AUDIT_CHECKPOINT_KEY"] = None
    app.config["AUDIT_CHECKPOINT_PUBLIC_KEY"] = base64.b64encode(raw).decode()
    try:
        assert check(app).ok
        cut_tail(app, checkpointed - 1)
        assert not check(app).ok
    finally:
        app.config["AUDIT_CHECKPOINT_KEY"] = signing
        app.config["AUDIT_CHECKPOINT_PUBLIC_KEY"] = None


@pytest.mark.postgres_only
def test_truncating_the_table_on_postgresql_is_detected(postgres_url, tmp_path):
    """TRUNCATE with the triggers dropped: nothing is left to verify, and the
    checkpoint says what is gone."""
    from tests.conftest import migrated_app
    from tests.factories import Factory

    live = migrated_app(postgres_url, AUDIT_CHECKPOINT_DIR=str(tmp_path))
    try:
        factory = Factory(live)
        factory.user()
        factory.user()
        with live.app_context():
            checkpoint = checkpoints.write_checkpoint(db.session)
            assert checkpoint.seq >= 2
            db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER ALL"))
            db.session.execute(text("TRUNCATE audit_event"))
            db.session.commit()
            assert audit.verify(db.session).ok  # an empty chain is a valid chain
            result = checkpoints.check_chain(db.session)
        assert not result.ok
        assert "the chain ends at seq 0 but the checkpoint of" in result.problem
        assert f"events 1 to {checkpoint.seq} are missing" in result.problem
    finally:
        with live.app_context():
            db.session.remove()
            db.engine.dispose()


def test_cli_verify_fails_on_a_cut_tail_and_names_the_checkpoint_it_trusts(app, checkpointed):
    cut_tail(app, checkpointed - 3)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"last trusted checkpoint: seq {checkpointed}, signed" in result.output
    assert f"events {checkpointed - 2} to {checkpointed} are missing" in result.output
    assert "first bad seq" not in result.output


def test_cli_checkpoint_writes_one_and_verify_passes(app, client, factory, store):
    make_world(client, factory)
    runner = app.test_cli_runner()
    written = runner.invoke(args=["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert str(store) in written.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "last trusted checkpoint: seq" in verified.output


def test_the_api_and_the_page_say_the_trail_was_cut_short(app, client, factory, store):
    from tests.blueprints.web.test_referral_pages import sign_in as page_sign_in
    from tests.factories import bearer, token_for

    make_world(client, factory)
    auditor = factory.user(Role.AUDITOR)
    headers = bearer(token_for(client, auditor))
    browser = page_sign_in(app, auditor)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/audit").get_data(True))
    with app.app_context():
        checkpointed = checkpoints.write_checkpoint(db.session).seq
    cut_tail(app, checkpointed - 2)
    answer = client.get("/api/v1/audit-events/verify", headers=headers)
    assert answer.status_code == 200
    assert answer.json["ok"] is False
    assert answer.json["first_bad_seq"] is None  # the chain itself is whole
    assert answer.json["checkpoint_seq"] == checkpointed
    assert f"events {checkpointed - 1} to {checkpointed} are missing" in answer.json["problem"]
    with app.app_context():  # the API's own verify event, cut again (triggers already off)
        db.session.execute(
            text("DELETE FROM audit_event WHERE seq > :seq"), {"seq": checkpointed - 2}
        )
        db.session.commit()
    page = browser.post("/audit/verify", data={"csrf_token": token.group(1)})
    shown = page.get_data(as_text=True)
    assert "The audit trail has been cut short" in shown
    assert f"events {checkpointed - 1} to {checkpointed} are missing" in shown
