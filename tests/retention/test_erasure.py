"""Erasure reaches every copy: a request replayed with its Idempotency-Key
after the child was anonymised gets the record as it is now, never a stored
copy; keys are forgotten after 24 hours; and what else holds personal data
for a while (saved searches) is cleared by the job runner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from referral_app import jobs
from referral_app.extensions import db
from referral_app.models import IdempotencyRecord, SavedSearch, User, utcnow
from referral_app.services import referrals, retention, saved_searches
from tests.referral_helpers import advance, make_world, referral_body


def test_replaying_after_anonymisation_returns_no_erased_data(app, client, factory):
    world = make_world(client, factory)
    headers = {**world.officer.headers, "Idempotency-Key": "upload-7"}
    body = referral_body(world.yjs)
    first = client.post("/api/v1/referrals", json=body, headers=headers)
    assert first.status_code == 201
    name = first.json["child"]["first_name"]
    with app.app_context():
        stored = db.session.scalars(select(IdempotencyRecord)).all()
        assert [record.response_body for record in stored] == [{"id": first.json["id"]}]
    advance(client, world, first.json["id"], "closed")
    app.config["RETENTION_DAYS"], before = 0, app.config["RETENTION_DAYS"]
    try:
        with app.app_context():
            assert len(retention.apply(dry_run=False).children) == 1
            db.session.commit()
    finally:
        app.config["RETENTION_DAYS"] = before
    again = client.post("/api/v1/referrals", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert name not in again.get_data(as_text=True)
    assert again.json["child"]["first_name"] == "Anonymised"


def test_a_key_is_forgotten_after_24_hours(app, client, factory):
    world = make_world(client, factory)
    headers = {**world.officer.headers, "Idempotency-Key": "yesterday"}
    body = referral_body(world.yjs)
    first = client.post("/api/v1/referrals", json=body, headers=headers)
    with app.app_context():
        db.session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25))
        )
        db.session.commit()
    # The key is new again: the same body makes a second referral.
    again = client.post("/api/v1/referrals", json=body, headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["id"] != first.json["id"]
    with app.app_context():
        db.session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25))
        )
        assert referrals.forget_expired_idempotency() == 1
        assert db.session.scalars(select(IdempotencyRecord)).all() == []


def test_the_hourly_job_clears_expired_searches_and_keys(app, client, factory):
    world = make_world(client, factory)
    with app.app_context():
        officer = db.session.get(User, world.officer.user.id)
        saved_searches.store(officer, {"q": "Jayden Miller"})
        db.session.execute(update(SavedSearch).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        jobs.forget_page_state.call_local()
        assert db.session.scalars(select(SavedSearch)).all() == []


def test_a_legal_hold_reason_stays_out_of_the_audit_trail(app, client, factory):
    """A free-text reason may name people: the append-only trail records
    that one was given; the text is kept on the referral, where retention
    and rectification reach it."""
    from referral_app.models import AuditEvent, Referral

    world = make_world(client, factory)
    referral = client.post(
        "/api/v1/referrals", json=referral_body(world.yjs), headers=world.officer.headers
    ).json
    advance(client, world, referral["id"], "closed")
    said = "Proceedings against Jayden's stepfather, Mark Ellis"
    held = client.post(
        f"/api/v1/referrals/{referral['id']}/legal-hold",
        json={"legal_hold": True, "reason": said},
        headers=world.yjs_manager.headers,
    )
    assert held.status_code in (200, 204), held.json
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.legal_hold_set")
        ).one()
        assert "Ellis" not in str(event.canonical())
        assert event.fields == ["legal_hold", "legal_hold_reason"]
        assert (
            db.session.get(Referral, __import__("uuid").UUID(referral["id"])).legal_hold_reason
            == said
        )
