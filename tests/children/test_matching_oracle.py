"""Matching is not an oracle. `POST /children/matches` answers, for a name
and a date of birth, how many likely records other agencies hold: asked
again and again it could tell whether another agency holds a child and
recover the child's date of birth. So the count answers only for all of the
name and the date of birth near-exactly, each user may match a limited
number of times (shared by every surface), and every match is audited with
its counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from referral_app.extensions import db
from referral_app.models import AuditEvent
from tests.children.conftest import child, refer
from tests.conftest import migrated_app
from tests.factories import Factory
from tests.referral_helpers import make_world

MATCHES = "/api/v1/children/matches"
LIMIT = 10
SECRET_BIRTHDAY = date(2011, 3, 14)


@pytest.fixture
def limited_app(fresh_database_url):
    app = migrated_app(
        fresh_database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        MATCH_LIMIT_PER_USER=f"{LIMIT} per hour",
        SIGN_IN_LIMIT_PER_ACCOUNT="1000 per hour",
        SIGN_IN_LIMIT_PER_ADDRESS="1000 per hour",
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def ask(client, actor, day_of_birth: date, first: str = "Jayden", last: str = "Miller"):
    return client.post(
        MATCHES,
        json={"first_name": first, "last_name": last, "date_of_birth": day_of_birth.isoformat()},
        headers=actor.headers,
    )


def test_stepping_through_dates_of_birth_does_not_recover_one(limited_app):
    """The attacker knows the name and steps a day at a time from a guess a
    few days off. Near the real date nothing is counted (a day or a year out
    is not the child), and the limit stops the walk long before it reaches
    the real date from any distance the attacker could not guess anyway."""
    client = limited_app.test_client()
    world = make_world(client, Factory(limited_app))
    refer(
        client,
        world.stranger,
        world.charity,
        child("Jayden", "Miller", SECRET_BIRTHDAY.isoformat()),
    )
    start = SECRET_BIRTHDAY - timedelta(days=LIMIT + 5)
    answers = []
    for step in range(LIMIT + 20):
        response = ask(client, world.officer, start + timedelta(days=step))
        if response.status_code == 429:
            break
        assert response.status_code == 200, response.json
        answers.append(response.json["held_elsewhere"])
    assert len(answers) == LIMIT  # then refused, before the real date is reached
    assert set(answers) == {0}
    assert response.status_code == 429
    assert response.json["code"] == "too_many_requests"
    # Dates a day or a year from the real one never counted, with a fresh allowance.
    other = world.police_manager
    for near in (
        SECRET_BIRTHDAY + timedelta(days=1),
        SECRET_BIRTHDAY - timedelta(days=1),
        SECRET_BIRTHDAY.replace(year=2012),
        SECRET_BIRTHDAY.replace(year=2010),
    ):
        assert ask(client, other, near).json["held_elsewhere"] == 0
    # Only all of it answers.
    assert ask(client, other, SECRET_BIRTHDAY).json["held_elsewhere"] == 1
    assert ask(client, other, SECRET_BIRTHDAY, first="Jaden").json["held_elsewhere"] == 0


def test_the_limit_is_per_user_and_refusals_are_audited(limited_app):
    client = limited_app.test_client()
    world = make_world(client, Factory(limited_app))
    for _ in range(LIMIT):
        assert ask(client, world.officer, SECRET_BIRTHDAY).status_code == 200
    assert ask(client, world.officer, SECRET_BIRTHDAY).status_code == 429
    # Someone else in the same agency still can.
    assert ask(client, world.police_manager, SECRET_BIRTHDAY).status_code == 200
    with limited_app.app_context():
        refused = (
            db.session.query(AuditEvent)
            .filter_by(action="child.match", actor_user_id=world.officer.user.id, outcome="denied")
            .count()
        )
    assert refused == 1


def test_every_match_is_audited_with_its_counts(app, client, factory):
    world = make_world(client, factory)
    refer(client, world.stranger, world.charity, child("Jayden", "Miller", "2011-03-14"))
    refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    assert ask(client, world.officer, SECRET_BIRTHDAY).status_code == 200
    with app.app_context():
        event = (
            db.session.query(AuditEvent)
            .filter_by(action="child.match", actor_user_id=world.officer.user.id)
            .order_by(AuditEvent.seq.desc())
            .first()
        )
    assert event.reason == "1 shown, 1 held elsewhere"
    assert "Jayden" not in str(event.canonical())
