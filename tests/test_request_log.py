"""Structured request logs: one JSON line per request, with the request id
that the audit events carry, and no personal data."""

from __future__ import annotations

import json
import logging

from referral_app.extensions import db
from referral_app.models import AuditEvent
from tests.referral_helpers import create, make_world


def test_request_log_is_json_with_the_audit_request_id_and_no_personal_data(
    app, client, factory, caplog
):
    world = make_world(client, factory)
    with caplog.at_level(logging.INFO, logger="referral_app.requests"):
        referral = create(client, world.officer, world.yjs)
        client.post("/api/v1/referrals/search", json={"q": "Jayden"}, headers=world.officer.headers)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith("requests")]
    created = next(line for line in lines if line["endpoint"] == "referrals.Referrals")
    assert created["user_id"] == str(world.officer.user.id)
    assert created["duration_ms"] >= 0
    with app.app_context():
        event = (
            db.session.query(AuditEvent)
            .filter_by(action="referral.create", record_id=referral["id"])
            .one()
        )
    assert event.request_id == created["request_id"]
    text = caplog.text
    for personal in ("Jayden", "Miller", "2011-03-14", world.officer.user.email):
        assert personal not in text
