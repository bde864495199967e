"""The done-when through HTTP: a system account gets a token with client
credentials, creates, submits, reads and lists referrals within its agency's
holdings, is refused what it does not hold or was not given, and the audit
trail names it."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role, SystemAccount, SystemSecret, User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, Factory, bearer, token_for
from tests.referral_helpers import World, create, referral_body
from tests.system_accounts.conftest import (
    Admins,
    basic,
    register,
    system_token,
    token_request,
)


def test_a_system_creates_submits_reads_and_lists_referrals_of_its_agency(
    client: FlaskClient, app: Flask, world: World, admins: Admins
) -> None:
    system = register(client, admins.police)
    token = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(system.client_id, system.secret),
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    assert token.json["token_type"] == "Bearer"
    assert token.json["expires_in"] == 15 * 60
    assert token.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}

    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    assert made.status_code == 201, made.json
    referral_id = made.json["id"]
    submitted = client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json={"action": "submit"}, headers=headers
    )
    assert submitted.status_code in (200, 201), submitted.json
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=headers).json["status"] == (
        "submitted"
    )
    # The officer's referral (same agency) is listed too; so is the system's own.
    officers = create(client, world.officer, world.yjs)
    listed = client.get("/api/v1/referrals", headers=headers)
    assert listed.status_code == 200
    ids = {item["id"] for item in listed.json}
    assert {referral_id, officers["id"]} <= ids

    # The receiving agency sees it came from the police, made by the system.
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=world.yjs_manager.headers)
    assert seen.status_code == 200

    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system.id))
        assert account is not None
        actions = set(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.actor_user_id == account.user_id)
            )
        )
        assert {"system.token_issued", "referral.create", "referral.read"} <= actions
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_user_id == account.user_id)
        ).all()
        assert all(event.actor_organisation_id == world.police.id for event in events)
        assert all(event.actor_role == "system" for event in events)


def test_the_audit_trail_names_the_system(
    client: FlaskClient, app: Flask, factory: Factory, world: World, admins: Admins
) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    assert made.status_code == 201
    auditor = factory.user(Role.AUDITOR, organisation=world.police)
    trail = client.get(
        "/api/v1/audit-events?action=referral.create", headers=bearer(token_for(client, auditor))
    )
    assert trail.status_code == 200, trail.json
    (event,) = trail.json
    assert event["actor_role"] == "system"
    assert event["actor_organisation_id"] == str(world.police.id)
    assert event["actor_user_id"] == system.body["system"]["user_id"]
    # The audit page names it.
    browser = app.test_client()
    signed_in = browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": auditor.email, "password": PASSWORD},
    )
    assert signed_in.status_code == 302
    page = browser.get("/audit?action=referral.create")
    assert page.status_code == 200
    assert "Police records system (system account)" in page.get_data(as_text=True)


def test_a_system_gets_404_for_a_referral_its_agency_does_not_hold(
    client: FlaskClient, world: World, admins: Admins
) -> None:
    elsewhere = create(client, world.stranger, world.yjs)
    system = register(client, admins.police)
    headers = system_token(client, system)
    assert client.get(f"/api/v1/referrals/{elsewhere['id']}", headers=headers).status_code == 404
    listed = client.get("/api/v1/referrals", headers=headers)
    assert elsewhere["id"] not in {item["id"] for item in listed.json}


def test_a_system_gets_403_outside_its_permissions(
    client: FlaskClient, world: World, admins: Admins
) -> None:
    reader = register(client, admins.police, name="Dashboard", permissions=["referrals:read"])
    headers = system_token(client, reader)
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    assert made.status_code == 403
    # Nor anything an org admin or manager does: users, reports, shares.
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.get("/api/v1/system-accounts", headers=headers).status_code == 403
    assert client.get("/api/v1/audit-events", headers=headers).status_code == 403
    assert client.get("/api/v1/referrals", headers=headers).status_code == 200


def test_a_scope_narrows_the_token_and_a_scope_beyond_the_grant_is_invalid_scope(
    client: FlaskClient, world: World, admins: Admins
) -> None:
    system = register(client, admins.police)
    narrow = system_token(client, system, scope="referrals:read")
    assert client.get("/api/v1/referrals", headers=narrow).status_code == 200
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=narrow)
    assert made.status_code == 403
    beyond = token_request(client, system.client_id, system.secret, scope="users:manage")
    assert beyond.status_code == 400
    assert beyond.json["error"] == "invalid_scope"
    ungranted = token_request(client, system.client_id, system.secret, scope="notes:create")
    assert ungranted.json["error"] == "invalid_scope"


def test_the_secret_is_stored_hashed_and_shown_once(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    assert system.secret.startswith("rfs_")
    assert len(system.secret) > 40
    shown = client.get(f"/api/v1/system-accounts/{system.id}", headers=admins.police.headers)
    assert system.secret not in shown.get_data(as_text=True)
    assert system.client_id in shown.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(SystemSecret)).all()
        assert rows
        assert all(system.secret not in row.secret_hash for row in rows)
        assert all(len(row.secret_hash) == 64 for row in rows)
        dumped = repr([(r.secret_hash, r.hint) for r in rows])
        assert system.secret not in dumped
        audit_text = repr(db.session.scalars(select(AuditEvent.reason)).all())
        assert system.secret not in audit_text


def test_a_system_is_a_user_of_kind_system_that_cannot_sign_in_with_a_password(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system.id))
        assert account is not None
        user = db.session.get(User, account.user_id)
        assert user is not None
        assert user.is_system
        email = user.email
    for password in ("!system-account", system.secret, ""):
        answer = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
        assert answer.status_code in (400, 401, 422)
