"""The agreements' tests: the referral world (police refers to youth
justice; a charity and a council stranger), auditors in the police, youth
justice and charity, and helpers that record agreements and shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from referral_app.models import Role
from tests.factories import Factory, OrgInfo, bearer, token_for
from tests.referral_helpers import Actor, World, advance, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory: Factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def auditors(client: FlaskClient, factory: Factory, world: World) -> dict[str, Actor]:
    made = {}
    for name in ("police", "yjs", "charity", "stranger_org"):
        user = factory.user(Role.AUDITOR, organisation=getattr(world, name))
        made[name] = Actor(user, bearer(token_for(client, user)))
    return made


@pytest.fixture
def referral(client: FlaskClient, world: World) -> dict:
    """A referral from the police to youth justice, accepted."""
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "accepted")
    return made


def agreement_body(*parties: OrgInfo, **overrides: Any) -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "title": "Southend exploitation prevention",
        "reference": "ISA-2026-014",
        "purposes": "Early help for children at risk of criminal exploitation.",
        "lawful_bases": ["public_task"],
        "data_categories": ["identity_and_contact", "education"],
        "party_ids": [str(party.id) for party in parties],
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "review_on": (today + timedelta(days=300)).isoformat(),
    }
    body.update(overrides)
    return body


def make_agreement(
    client: FlaskClient, actor: Actor, *parties: OrgInfo, expect: int = 201, **overrides: Any
):
    response = client.post(
        "/api/v1/agreements", json=agreement_body(*parties, **overrides), headers=actor.headers
    )
    assert response.status_code == expect, response.json
    return response


def share(client: FlaskClient, actor: Actor, referral_id: str, org: OrgInfo, **citation: Any):
    return client.post(
        f"/api/v1/referrals/{referral_id}/shares",
        json={
            "organisation_id": str(org.id),
            "purpose": "Mentoring programme place",
            "lawful_basis": "public_task",
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            **citation,
        },
        headers=actor.headers,
    )


# The meetings' world (tests/meetings/conftest.py), for shares made for a meeting.
from tests.meetings.conftest import mace  # noqa: E402, F401
