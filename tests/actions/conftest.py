"""The actions' tests: the referral world (police refers to youth justice,
a charity may be given a share), and helpers that add, move and read
actions."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import Action, AuditEvent, Share, uk_today, utcnow
from tests.factories import commit_and_seal
from tests.referral_helpers import Actor, World, advance, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def referral(client: FlaskClient, world: World) -> dict:
    """A referral from the police to youth justice, in progress with the
    youth justice caseworker."""
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "in_progress")
    return made


def due_in(days: int) -> str:
    return (uk_today() + timedelta(days=days)).isoformat()


def add_action(
    client: FlaskClient, actor: Actor, referral_id: str, expect: int | None = 201, **fields: object
):
    body: dict[str, object] = {"description": "Home visit with the family.", "due_on": due_in(7)}
    body.update(fields)
    response = client.post(
        f"/api/v1/referrals/{referral_id}/actions", json=body, headers=actor.headers
    )
    if expect is not None:
        assert response.status_code == expect, response.json
    return response


def set_due(app: Flask, action_id: str, due_on: date) -> None:
    """Move an action's due date (no route changes it: the tests need
    actions that are late)."""
    with app.app_context():
        db.session.execute(
            update(Action).where(Action.id == uuid.UUID(action_id)).values(due_on=due_on)
        )
        commit_and_seal(app)


def end_share(app: Flask, share_id: str) -> None:
    """Let a share expire (its end date passes)."""
    with app.app_context():
        db.session.execute(
            update(Share)
            .where(Share.id == uuid.UUID(share_id))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        commit_and_seal(app)


def audit_events(app: Flask, action: str, actor: Actor) -> list[AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.actor_user_id == actor.user.id)
                .order_by(AuditEvent.occurred_at)
            )
        )
        db.session.expunge_all()
        return found
