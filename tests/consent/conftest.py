"""The consent tests: the referral world (police refers to youth justice, the
youth justice manager may share with the charity), and helpers that record
changes and decisions through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.referral_helpers import Actor, World, advance, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def referral(client: FlaskClient, world: World) -> dict:
    """A referral from the police to youth justice, consent obtained from a
    parent, submitted."""
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "submitted")
    return made


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).isoformat()


def record(
    client: FlaskClient, actor: Actor, referral_id: str, expect: int | None = 201, **body: Any
):
    body.setdefault("status", "withdrawn")
    if body["status"] in ("withdrawn", "refused"):
        body.setdefault("given_by", "parent_or_carer")
    body.setdefault("method", "phone")
    body.setdefault("occurred_at", yesterday())
    response = client.post(
        f"/api/v1/referrals/{referral_id}/consent", json=body, headers=actor.headers
    )
    if expect is not None:
        assert response.status_code == expect, response.json
    return response


def decide(client: FlaskClient, actor: Actor, referral_id: str, share_id: str, **body: Any):
    return client.post(
        f"/api/v1/referrals/{referral_id}/shares/{share_id}/consent-decision",
        json=body,
        headers=actor.headers,
    )


def shares(client: FlaskClient, actor: Actor, referral_id: str) -> dict[str, dict]:
    got = client.get(f"/api/v1/referrals/{referral_id}/shares", headers=actor.headers)
    assert got.status_code == 200, got.json
    return {share["id"]: share for share in got.json}
