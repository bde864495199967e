"""Fixtures for the children tests: the three agencies of tests.referral_helpers
and a quick way to record a referral about a given child."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral_app.extensions import db
from referral_app.models import AuditEvent
from tests.factories import Factory, OrgInfo
from tests.referral_helpers import Actor, World, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory: Factory) -> World:
    return make_world(client, factory)


def child(first: str, last: str, dob: str, postcode: str | None = None, **more: Any) -> dict:
    details = {"first_name": first, "last_name": last, "date_of_birth": dob, **more}
    if postcode:
        details["postcode"] = postcode
    return details


def refer(
    client: FlaskClient, actor: Actor, receiving: OrgInfo, details: dict, submit: bool = True
) -> dict:
    """A referral from the actor's agency about a new child, submitted (so
    the receiving agency holds it too) unless `submit` is false."""
    referral = create(client, actor, receiving, child=details)
    if submit:
        response = client.post(
            f"/api/v1/referrals/{referral['id']}/transitions",
            json={"action": "submit"},
            headers=actor.headers,
        )
        assert response.status_code == 200, response.json
    return referral


def refer_about(
    client: FlaskClient, actor: Actor, receiving: OrgInfo, child_id: str, submit: bool = True
) -> dict:
    """Another referral about a child the actor's agency can see."""
    referral = create(client, actor, receiving, child=None, child_id=child_id)
    if submit:
        response = client.post(
            f"/api/v1/referrals/{referral['id']}/transitions",
            json={"action": "submit"},
            headers=actor.headers,
        )
        assert response.status_code == 200, response.json
    return referral


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.query(AuditEvent).filter_by(action=action).order_by(AuditEvent.seq)
        return list(rows)
