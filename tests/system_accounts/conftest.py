"""System accounts' tests: the referral world plus each agency's org admin,
and helpers that register a system and get tokens with client credentials."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from referral_app.models import Role
from tests.factories import Factory, bearer, token_for
from tests.referral_helpers import Actor, World, make_world

CASE_PERMISSIONS = ["referrals:read", "referrals:create", "referrals:transition"]


@dataclass(frozen=True)
class Admins:
    police: Actor
    yjs: Actor


@dataclass(frozen=True)
class Registered:
    id: str
    client_id: str
    secret: str
    secret_id: str
    body: dict


@pytest.fixture
def world(client: FlaskClient, factory: Factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def admins(client: FlaskClient, factory: Factory, world: World) -> Admins:
    def admin(org) -> Actor:  # type: ignore[no-untyped-def]
        user = factory.user(Role.ORG_ADMIN, organisation=org)
        return Actor(user, bearer(token_for(client, user)))

    return Admins(police=admin(world.police), yjs=admin(world.yjs))


def register(
    client: FlaskClient,
    admin: Actor,
    name: str = "Police records system",
    permissions: list[str] | None = None,
) -> Registered:
    response = client.post(
        "/api/v1/system-accounts",
        json={
            "name": name,
            "description": "Sends referrals from the force's records system.",
            "permissions": permissions or CASE_PERMISSIONS,
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.json
    body = response.json
    return Registered(
        body["system"]["id"], body["client_id"], body["client_secret"], body["secret_id"], body
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def token_request(
    client: FlaskClient, client_id: str, secret: str, *, post: bool = False, **form: str
):
    form.setdefault("grant_type", "client_credentials")
    if post:
        return client.post(
            "/api/v1/oauth/token", data={**form, "client_id": client_id, "client_secret": secret}
        )
    return client.post("/api/v1/oauth/token", data=form, headers=basic(client_id, secret))


def system_token(client: FlaskClient, system: Registered, **form: str) -> dict[str, str]:
    response = token_request(client, system.client_id, system.secret, **form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}
