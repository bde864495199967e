"""Row-level security on PostgreSQL: with the application connected as a
role that does not own the tables, a scoping bug in the application still
shows an agency nothing it does not hold."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import true
from sqlalchemy.engine import make_url

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.services import scoping
from tests.conftest import _postgres_admin_url, migrated_app
from tests.factories import Factory
from tests.referral_helpers import advance, create, make_world


@pytest.fixture
def app_role_url(postgres_url):
    """The database migrated by its owner, and a URL for a plain login role
    with table privileges only (how an operator runs the application)."""
    owner_app = migrated_app(postgres_url)
    with owner_app.app_context():
        db.engine.dispose()
    role = f"rls_app_{uuid.uuid4().hex[:8]}"
    database = make_url(postgres_url).database
    with psycopg.connect(_postgres_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    owner_dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        owner.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
        owner.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        owner.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
        )
        # The audit trail is append-only for the application, by privilege too.
        owner.execute(f'REVOKE UPDATE, DELETE ON audit_event FROM "{role}"')
    try:
        yield make_url(postgres_url).set(username=role).render_as_string(False)
    finally:
        with psycopg.connect(owner_dsn, autocommit=True) as owner:
            owner.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(_postgres_admin_url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


# The web role may not UPDATE the audit trail, so it cannot seal: the
# sequencer runs under a role of its own (tests/audit/test_sequencer.py).
AS_THE_WEB_ROLE = {"AUDIT_SEAL_AFTER_REQUEST": False}


def leaky_holds(organisation_id, now=None):
    """A scoping bug: every organisation 'holds' every referral."""
    return true()


def scenario(app):
    client = app.test_client()
    world = make_world(client, Factory(app))
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    client.post(
        f"/api/v1/referrals/{referral['id']}/notes",
        json={"body": "internal to YJS", "visibility": "internal"},
        headers=world.caseworker.headers,
    )
    return client, world, referral


def test_scoping_bug_is_stopped_by_row_level_security(app_role_url, monkeypatch):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client, world, referral = scenario(app)  # the whole loop works under RLS
        url = f"/api/v1/referrals/{referral['id']}"
        monkeypatch.setattr(scoping, "holds", leaky_holds)
        assert client.get(url, headers=world.stranger.headers).status_code == 404
        assert client.get("/api/v1/referrals", headers=world.stranger.headers).json == []
        child = client.get(
            f"/api/v1/children/{referral['child']['id']}", headers=world.stranger.headers
        )
        assert child.status_code == 404
        # The police hold the referral, but not the YJS's internal note.
        monkeypatch.setattr(scoping, "visible_notes", _leaky_notes)
        notes = client.get(f"{url}/notes", headers=world.officer.headers)
        assert notes.status_code == 200
        assert "internal to YJS" not in [n["body"] for n in notes.json]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _leaky_notes(actor, referral):
    from sqlalchemy import select

    from referral_app.models import Note

    return select(Note).where(Note.referral_id == referral.id)


def test_without_row_level_security_the_same_bug_leaks(postgres_url, monkeypatch):
    """The control: connected as the owner (RLS does not bind it), the bug
    shows the stranger the referral. So the test above can fail."""
    app = migrated_app(postgres_url)
    try:
        client, world, referral = scenario(app)
        monkeypatch.setattr(scoping, "holds", leaky_holds)
        leaked = client.get(f"/api/v1/referrals/{referral['id']}", headers=world.stranger.headers)
        assert leaked.status_code == 200
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
