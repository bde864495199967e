"""Client secrets and tokens: wrong secrets are invalid_client, rotation
keeps two secrets live, retiring and revoking stop them, tokens expire and
stop at once when the system is revoked, failed client authentication is
throttled like sign-in, and a system never uses the pages."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import AuditEvent, AuthSession, SystemAccount, SystemSecret, utcnow
from tests.conftest import csrf_token, migrated_app
from tests.factories import Factory, bearer, token_for
from tests.referral_helpers import World, referral_body
from tests.system_accounts.conftest import (
    Admins,
    basic,
    register,
    system_token,
    token_request,
)


def _user_id(app: Flask, system_id: str) -> uuid.UUID:
    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system_id))
        assert account is not None
        return account.user_id


def test_a_wrong_secret_or_unknown_client_is_invalid_client_401(
    client: FlaskClient, admins: Admins
) -> None:
    system = register(client, admins.police)
    for answer in (
        token_request(client, system.client_id, system.secret + "x"),
        token_request(client, system.client_id, "rfs_guess", post=True),
        token_request(client, "sys_nobody", system.secret),
        token_request(client, "sys_nobody", system.secret, post=True),
    ):
        assert answer.status_code == 401, answer.get_data(as_text=True)
        assert answer.json["error"] == "invalid_client"
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
        assert system.secret not in answer.get_data(as_text=True)


def test_client_secret_post_works_and_other_grants_are_refused(
    client: FlaskClient, admins: Admins
) -> None:
    system = register(client, admins.police)
    posted = token_request(client, system.client_id, system.secret, post=True)
    assert posted.status_code == 200
    assert posted.json["access_token"].startswith("rfl_")
    password = token_request(
        client, system.client_id, system.secret, grant_type="password", username="x"
    )
    assert password.status_code == 400
    assert password.json["error"] == "unsupported_grant_type"
    json_body = client.post(
        "/api/v1/oauth/token",
        json={"grant_type": "client_credentials"},
        headers=basic(system.client_id, system.secret),
    )
    assert json_body.status_code == 400


def test_rotation_keeps_two_secrets_live_until_the_old_one_is_retired(
    client: FlaskClient, admins: Admins
) -> None:
    system = register(client, admins.police)
    rotated = client.post(
        f"/api/v1/system-accounts/{system.id}/secrets", headers=admins.police.headers
    )
    assert rotated.status_code == 201
    new_secret = rotated.json["client_secret"]
    assert new_secret != system.secret
    assert len(rotated.json["system"]["live_secrets"]) == 2
    old_entry = next(
        item for item in rotated.json["system"]["live_secrets"] if item["id"] == system.secret_id
    )
    assert old_entry["expires_at"] is not None  # the grace: 7 days by default
    # Both work during the change.
    assert token_request(client, system.client_id, system.secret).status_code == 200
    assert token_request(client, system.client_id, new_secret).status_code == 200
    # The admin retires the old one: it stops; the new one goes on.
    retired = client.delete(
        f"/api/v1/system-accounts/{system.id}/secrets/{system.secret_id}",
        headers=admins.police.headers,
    )
    assert retired.status_code == 204
    assert token_request(client, system.client_id, system.secret).status_code == 401
    assert token_request(client, system.client_id, new_secret).status_code == 200
    # The last live secret cannot be retired (rotate or revoke instead).
    last = client.delete(
        f"/api/v1/system-accounts/{system.id}/secrets/{rotated.json['secret_id']}",
        headers=admins.police.headers,
    )
    assert last.status_code == 409


def test_a_replaced_secret_stops_after_the_grace(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    client.post(f"/api/v1/system-accounts/{system.id}/secrets", headers=admins.police.headers)
    with app.app_context():
        db.session.execute(
            update(SystemSecret)
            .where(SystemSecret.id == uuid.UUID(system.secret_id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert token_request(client, system.client_id, system.secret).status_code == 401


def test_revoking_stops_tokens_already_issued_at_once(
    client: FlaskClient, admins: Admins, world: World
) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    assert client.get("/api/v1/referrals", headers=headers).status_code == 200
    revoked = client.post(
        f"/api/v1/system-accounts/{system.id}/revoke", headers=admins.police.headers
    )
    assert revoked.status_code == 200
    assert revoked.json["active"] is False
    assert revoked.json["live_secrets"] == []
    assert client.get("/api/v1/referrals", headers=headers).status_code == 401
    refused = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    assert refused.status_code == 401
    assert token_request(client, system.client_id, system.secret).status_code == 401
    changed = client.patch(
        f"/api/v1/system-accounts/{system.id}",
        json={"name": "Back again"},
        headers=admins.police.headers,
    )
    assert changed.status_code == 409


def test_a_token_expires(client: FlaskClient, app: Flask, admins: Admins) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    user_id = _user_id(app, system.id)
    with app.app_context():
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert client.get("/api/v1/referrals", headers=headers).status_code == 401


def test_the_token_lifetime_is_the_configured_minutes(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    answer = token_request(client, system.client_id, system.secret)
    assert answer.json["expires_in"] == 900
    with app.app_context():
        session = db.session.scalars(
            select(AuthSession).where(AuthSession.user_id == _user_id(app, system.id))
        ).one()
        lasts = session.expires_at - session.created_at
        assert timedelta(minutes=14) < lasts <= timedelta(minutes=15)


def test_issuing_rotating_retiring_and_revoking_are_audited_without_secrets(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    token_request(client, system.client_id, system.secret)
    token_request(client, system.client_id, "wrong")
    rotated = client.post(
        f"/api/v1/system-accounts/{system.id}/secrets", headers=admins.police.headers
    )
    client.delete(
        f"/api/v1/system-accounts/{system.id}/secrets/{system.secret_id}",
        headers=admins.police.headers,
    )
    client.post(f"/api/v1/system-accounts/{system.id}/revoke", headers=admins.police.headers)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [event.action for event in events]
        for action in (
            "system.create",
            "system.token_issued",
            "system.token_refused",
            "system.secret_rotated",
            "system.secret_retired",
            "system.revoke",
        ):
            assert action in actions
        text = repr([(e.reason, e.record_id, e.fields) for e in events])
        assert system.secret not in text
        assert rotated.json["client_secret"] not in text
        issued = next(e for e in events if e.action == "system.token_issued")
        assert issued.actor_user_id == _user_id(app, system.id)
        assert issued.actor_role == "system"


def test_a_system_cannot_use_the_pages(client: FlaskClient, app: Flask, admins: Admins) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    # A bearer token means nothing to the pages (they read the session cookie only).
    page = app.test_client().get("/", headers=headers)
    assert page.status_code == 302
    assert page.location.startswith("/login")
    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system.id))
        assert account is not None
        email = account.user.email
    browser = app.test_client()
    for password in ("!system-account", system.secret):
        signed_in = browser.post(
            "/login",
            data={"csrf_token": csrf_token(browser), "email": email, "password": password},
        )
        assert signed_in.status_code != 302


# --- admin refusals ----------------------------------------------------------


def test_only_the_agencys_org_admins_manage_its_systems(
    client: FlaskClient, factory: Factory, world: World, admins: Admins
) -> None:
    from referral_app.models import Role

    system = register(client, admins.police)
    path = f"/api/v1/system-accounts/{system.id}"
    # Another agency's admin: it does not exist for them.
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/secrets"), ("POST", "/revoke")):
        answer = client.open(
            path + suffix,
            method=method,
            json={} if method == "PATCH" else None,
            headers=admins.yjs.headers,
        )
        assert answer.status_code == 404, (method, suffix)
    assert system.id not in client.get(
        "/api/v1/system-accounts", headers=admins.yjs.headers
    ).get_data(as_text=True)
    # A caseworker, a manager, a system admin: no permission.
    sysadmin = factory.user(Role.SYSTEM_ADMIN, organisation=world.police)
    for headers in (
        world.officer.headers,
        world.police_manager.headers,
        bearer(token_for(client, sysadmin)),
    ):
        assert client.get(path, headers=headers).status_code == 403
        assert client.get("/api/v1/system-accounts", headers=headers).status_code == 403
    # The system itself cannot manage systems.
    assert client.get(path, headers=system_token(client, system)).status_code == 403


def test_permissions_outside_case_work_are_422_and_change_nothing(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    for permissions in (["users:manage"], ["referrals:read", "shares:manage"], []):
        answer = client.post(
            "/api/v1/system-accounts",
            json={"name": "Greedy", "permissions": permissions},
            headers=admins.police.headers,
        )
        assert answer.status_code == 422, answer.json
        assert "permissions" in answer.json["errors"]
    missing_name = client.post(
        "/api/v1/system-accounts",
        json={"name": "", "permissions": ["referrals:read"]},
        headers=admins.police.headers,
    )
    assert missing_name.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(SystemAccount)).all() == []
    system = register(client, admins.police)
    widen = client.patch(
        f"/api/v1/system-accounts/{system.id}",
        json={"permissions": ["audit:read"]},
        headers=admins.police.headers,
    )
    assert widen.status_code == 422
    narrowed = client.patch(
        f"/api/v1/system-accounts/{system.id}",
        json={"permissions": ["referrals:read"], "name": "Records (read only)"},
        headers=admins.police.headers,
    )
    assert narrowed.status_code == 200
    assert narrowed.json["permissions"] == ["referrals:read"]
    assert narrowed.json["name"] == "Records (read only)"


def test_narrowing_a_systems_permissions_applies_to_tokens_already_issued(
    client: FlaskClient, admins: Admins, world: World
) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    client.patch(
        f"/api/v1/system-accounts/{system.id}",
        json={"permissions": ["referrals:read"]},
        headers=admins.police.headers,
    )
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    assert made.status_code == 403


# --- throttling --------------------------------------------------------------


@pytest.fixture
def throttled_app(fresh_database_url: str):  # type: ignore[no-untyped-def]
    app = migrated_app(
        fresh_database_url,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ENABLED=True,
        SIGN_IN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
        SIGN_IN_LIMIT_PER_ADDRESS="6 per 15 minutes",
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_failed_client_authentication_is_throttled_per_client(throttled_app: Flask) -> None:
    from referral_app.models import Role
    from tests.referral_helpers import Actor

    factory = Factory(throttled_app)
    client = throttled_app.test_client()
    admin = factory.user(Role.ORG_ADMIN)
    actor = Actor(admin, bearer(token_for(client, admin)))
    system = register(client, actor)
    other = register(client, actor, name="Other system")

    def attempt(client_id: str, secret: str, address: str):  # type: ignore[no-untyped-def]
        return throttled_app.test_client().post(
            "/api/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(client_id, secret),
            environ_base={"REMOTE_ADDR": address},
        )

    for n in range(3):
        assert attempt(system.client_id, "wrong", f"10.0.0.{n}").status_code == 401
    throttled = attempt(system.client_id, system.secret, "10.0.0.9")
    assert throttled.status_code == 429
    assert throttled.json["error"] == "slow_down"
    # Not global: another system still gets its token from the same address.
    assert attempt(other.client_id, other.secret, "10.0.0.1").status_code == 200
    # Successes are not counted.
    for _ in range(5):
        assert attempt(other.client_id, other.secret, "10.0.0.20").status_code == 200
