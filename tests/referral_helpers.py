"""Helpers for referral tests: three agencies and their people, and the loop's steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from referral_app.models import OrganisationKind, Role
from tests.factories import Factory, OrgInfo, UserInfo, bearer, token_for

# What a test share gives when it cites no information sharing agreement
# (services.agreements: a share cites one or says why it has none).
SHARE_REASON = "Shared in a test without an agreement: none covers these agencies"


@dataclass
class Actor:
    user: UserInfo
    headers: dict[str, str]


@dataclass
class World:
    police: OrgInfo
    yjs: OrgInfo
    charity: OrgInfo
    stranger_org: OrgInfo
    officer: Actor
    police_manager: Actor
    yjs_manager: Actor
    caseworker: Actor
    yjs_referrer: Actor
    charity_manager: Actor
    charity_worker: Actor
    stranger: Actor
    stranger_manager: Actor


def make_world(client: FlaskClient, factory: Factory) -> World:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    stranger_org = factory.organisation(OrganisationKind.COUNCIL)

    def actor(org: OrgInfo, *roles: Role) -> Actor:
        user = factory.user(*roles, organisation=org)
        return Actor(user, bearer(token_for(client, user)))

    return World(
        police=police,
        yjs=yjs,
        charity=charity,
        stranger_org=stranger_org,
        officer=actor(police, Role.REFERRER),
        police_manager=actor(police, Role.MANAGER),
        yjs_manager=actor(yjs, Role.MANAGER),
        caseworker=actor(yjs, Role.CASEWORKER),
        yjs_referrer=actor(yjs, Role.REFERRER),
        charity_manager=actor(charity, Role.MANAGER),
        charity_worker=actor(charity, Role.CASEWORKER),
        stranger=actor(stranger_org, Role.REFERRER),
        stranger_manager=actor(stranger_org, Role.MANAGER),
    )


def referral_body(receiving: OrgInfo, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "child": {
            "first_name": "Jayden",
            "last_name": "Miller",
            "date_of_birth": "2011-03-14",
            "postcode": "ss1 2aa",
            "school": "Southend High",
        },
        "receiving_organisation_id": str(receiving.id),
        "reason": "Found carrying cash and two phones on a county line route.",
        "risk_level": "high",
        "risk_factors": ["county_lines", "criminal_exploitation"],
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def create(client: FlaskClient, actor: Actor, receiving: OrgInfo, **overrides: object) -> dict:
    response = client.post(
        "/api/v1/referrals", json=referral_body(receiving, **overrides), headers=actor.headers
    )
    assert response.status_code == 201, response.json
    return dict(response.json)


def act(client: FlaskClient, actor: Actor, referral_id: str, action: str, **fields: object):
    return client.post(
        f"/api/v1/referrals/{referral_id}/transitions",
        json={"action": action, **fields},
        headers=actor.headers,
    )


def advance(client: FlaskClient, world: World, referral_id: str, to: str) -> None:
    """Drive a referral (made by the officer, to the YJS) to status `to`."""
    steps = {
        "submitted": [("officer", "submit", {})],
        "accepted": [("officer", "submit", {}), ("yjs_manager", "accept", {})],
        "declined": [
            ("officer", "submit", {}),
            ("yjs_manager", "decline", {"reason": "Out of our area."}),
        ],
        "withdrawn": [("officer", "withdraw", {"reason": "Raised in error."})],
        "in_progress": [
            ("officer", "submit", {}),
            ("yjs_manager", "accept", {}),
            ("yjs_manager", "assign", {"assignee_id": str(world.caseworker.user.id)}),
        ],
        "closed": [
            ("officer", "submit", {}),
            ("yjs_manager", "accept", {}),
            ("yjs_manager", "assign", {"assignee_id": str(world.caseworker.user.id)}),
            (
                "caseworker",
                "close",
                {"outcome": "engaged_and_completed", "outcome_summary": "Completed the programme."},
            ),
        ],
        "draft": [],
    }[to]
    for who, action, fields in steps:
        response = act(client, getattr(world, who), referral_id, action, **fields)
        assert response.status_code == 200, (action, response.json)


def share_with(
    client: FlaskClient, world: World, referral_id: str, org: OrgInfo, days: int = 30
) -> dict:
    response = client.post(
        f"/api/v1/referrals/{referral_id}/shares",
        json={
            "organisation_id": str(org.id),
            "purpose": "Mentoring programme place",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
        },
        headers=world.yjs_manager.headers,
    )
    assert response.status_code == 201, response.json
    return dict(response.json)
