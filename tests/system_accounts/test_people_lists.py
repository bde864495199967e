"""A system account is not a person: user lists and pickers skip it (the
admin's users, assignees, action owners), it is sent no notifications or
e-mails, and the MFA requirement does not stop it."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Notification, OutboxEmail, Referral, SystemAccount
from referral_app.services import actions, lifecycle
from tests.referral_helpers import World, act, referral_body
from tests.system_accounts.conftest import Admins, register, system_token


def _system_user_id(app: Flask, system_id: str) -> uuid.UUID:
    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system_id))
        assert account is not None
        return account.user_id


def test_the_admins_user_list_and_user_routes_skip_systems(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    user_id = _system_user_id(app, system.id)
    listed = client.get("/api/v1/users", headers=admins.police.headers)
    assert listed.status_code == 200
    assert str(user_id) not in {item["id"] for item in listed.json}
    assert len(listed.json) >= 1  # the people are still there
    # Nobody resets a system's password or roles through the user routes.
    assert client.get(f"/api/v1/users/{user_id}", headers=admins.police.headers).status_code == 404
    patched = client.patch(
        f"/api/v1/users/{user_id}", json={"roles": ["manager"]}, headers=admins.police.headers
    )
    assert patched.status_code == 404


def test_a_system_is_never_an_assignee_or_an_action_owner(
    client: FlaskClient, app: Flask, world: World, admins: Admins
) -> None:
    yjs_system = register(client, admins.yjs, name="Case system")
    police_system = register(client, admins.police)
    headers = system_token(client, police_system)
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    referral_id = made.json["id"]
    client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json={"action": "submit"}, headers=headers
    )
    assert act(client, world.yjs_manager, referral_id, "accept").status_code in (200, 201)
    yjs_user = _system_user_id(app, yjs_system.id)
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(referral_id))
        assert referral is not None
        assignable = {user.id for user in lifecycle.assignable_users(referral)}
        assert world.caseworker.user.id in assignable
        assert yjs_user not in assignable
        owners = {user.id for user in actions.owners_to_choose(world.yjs.id)}
        assert world.yjs_referrer.user.id in owners
        assert yjs_user not in owners
    assigned = act(client, world.yjs_manager, referral_id, "assign", assignee_id=str(yjs_user))
    assert assigned.status_code == 422
    owned = client.post(
        f"/api/v1/referrals/{referral_id}/actions",
        json={"description": "Visit", "due_on": "2030-01-01", "owner_id": str(yjs_user)},
        headers=world.yjs_manager.headers,
    )
    assert owned.status_code == 422, owned.json


def test_a_system_is_sent_no_notifications_or_emails(
    client: FlaskClient, app: Flask, world: World, admins: Admins
) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    made = client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    referral_id = made.json["id"]
    client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json={"action": "submit"}, headers=headers
    )
    # A decline is told to the referrer who made the referral: not to a system.
    declined = act(client, world.yjs_manager, referral_id, "decline", reason="Out of our area.")
    assert declined.status_code in (200, 201)
    user_id = _system_user_id(app, system.id)
    with app.app_context():
        account = db.session.get(SystemAccount, uuid.UUID(system.id))
        assert account is not None
        email = account.user.email
        assert (
            db.session.scalars(
                select(Notification).where(Notification.recipient_id == user_id)
            ).all()
            == []
        )
        assert (
            db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == email)).all()
            == []
        )
        # The referring agency's manager is still told.
        told = db.session.scalars(
            select(Notification).where(Notification.recipient_id == world.police_manager.user.id)
        ).all()
        assert told


def test_the_mfa_requirement_does_not_stop_a_system(
    client: FlaskClient, app: Flask, admins: Admins
) -> None:
    system = register(client, admins.police)
    headers = system_token(client, system)
    before = app.config["MFA_REQUIRED"]
    app.config["MFA_REQUIRED"] = True
    try:
        assert client.get("/api/v1/referrals", headers=headers).status_code == 200
        # A person without an authenticator is still sent to set one up.
        refused = client.get("/api/v1/users", headers=admins.police.headers)
        assert refused.status_code == 403
        assert refused.json["code"] == "mfa_enrolment_required"
    finally:
        app.config["MFA_REQUIRED"] = before
