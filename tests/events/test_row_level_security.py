"""Events under row-level security (PostgreSQL, the application connected as
a plain role): the closed loop records its events and the job sequences
them, and a scoping bug in the feed still shows an agency no event about a
referral it does not hold. Skipped without PostgreSQL, as the other RLS
tests are."""

from __future__ import annotations

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.services import events
from tests.conftest import migrated_app
from tests.events.conftest import deliver
from tests.test_row_level_security import AS_THE_WEB_ROLE, app_role_url, leaky_holds, scenario

__all__ = ["app_role_url"]  # the fixture, used by name


def test_a_scoping_bug_in_the_feed_is_stopped_by_row_level_security(app_role_url, monkeypatch):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client, world, _referral = scenario(app)  # events written under RLS
        deliver(app)  # the job sequences them (it runs with no agency: bypass)
        listed = client.get("/api/v1/events", headers=world.yjs_manager.headers).json
        assert [event["type"] for event in listed["events"]] == [
            "referral.received",
            "referral.status_changed",
            "referral.status_changed",
        ]
        monkeypatch.setattr(events, "holds", leaky_holds)
        leaked = client.get("/api/v1/events", headers=world.stranger.headers)
        assert leaked.status_code == 200
        assert leaked.json["events"] == []
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_without_row_level_security_the_same_bug_leaks(postgres_url, monkeypatch):
    """The control: connected as the owner (RLS does not bind it), the bug
    shows the stranger the referral's events: the test above can fail."""
    app = migrated_app(postgres_url)
    try:
        client, world, _referral = scenario(app)
        deliver(app)
        monkeypatch.setattr(events, "holds", leaky_holds)
        leaked = client.get("/api/v1/events", headers=world.stranger.headers).json
        assert len(leaked["events"]) == 3
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
