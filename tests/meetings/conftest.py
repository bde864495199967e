"""A MACE meeting's world: the council convenes; the police, youth justice
and a charity are invited; the police and youth justice each hold a referral
(made to a health service that is not at the meeting) and put it on the
agenda; the charity holds nothing; another council is not invited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from referral_app.extensions import db
from referral_app.models import AuditEvent, OrganisationKind, Role
from tests.factories import Factory, OrgInfo
from tests.referral_helpers import Actor, act, create


@dataclass
class Mace:
    council: OrgInfo
    police: OrgInfo
    yjs: OrgInfo
    charity: OrgInfo
    health: OrgInfo
    outsider: OrgInfo
    council_manager: Actor
    council_worker: Actor
    police_manager: Actor
    police_officer: Actor
    yjs_manager: Actor
    yjs_worker: Actor
    charity_manager: Actor
    charity_worker: Actor
    outsider_manager: Actor
    police_referral: dict
    yjs_referral: dict


@pytest.fixture
def mace(client: FlaskClient, factory: Factory) -> Mace:
    orgs = {
        name: factory.organisation(kind)
        for name, kind in (
            ("council", OrganisationKind.COUNCIL),
            ("police", OrganisationKind.POLICE),
            ("yjs", OrganisationKind.YOUTH_JUSTICE),
            ("charity", OrganisationKind.CHARITY),
            ("health", OrganisationKind.HEALTH),
            ("outsider", OrganisationKind.COUNCIL),
        )
    }

    def actor(org: str, role: Role) -> Actor:
        from tests.factories import bearer, token_for

        user = factory.user(role, organisation=orgs[org])
        return Actor(user, bearer(token_for(client, user)))

    people = {
        "council_manager": actor("council", Role.MANAGER),
        "council_worker": actor("council", Role.CASEWORKER),
        "police_manager": actor("police", Role.MANAGER),
        "police_officer": actor("police", Role.REFERRER),
        "yjs_manager": actor("yjs", Role.MANAGER),
        "yjs_worker": actor("yjs", Role.CASEWORKER),
        "charity_manager": actor("charity", Role.MANAGER),
        "charity_worker": actor("charity", Role.CASEWORKER),
        "outsider_manager": actor("outsider", Role.MANAGER),
    }
    police_referral = create(
        client,
        people["police_manager"],
        orgs["health"],
        child={"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"},
        risk_level="medium",
    )
    yjs_referral = create(
        client,
        people["yjs_manager"],
        orgs["health"],
        child={"first_name": "Amara", "last_name": "Okafor", "date_of_birth": "2010-07-02"},
        risk_level="high",
    )
    for referral, who in ((police_referral, "police_manager"), (yjs_referral, "yjs_manager")):
        assert act(client, people[who], referral["id"], "submit").status_code == 200
    return Mace(**orgs, **people, police_referral=police_referral, yjs_referral=yjs_referral)


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def convene(client: FlaskClient, mace: Mace, *, held_at: str | None = None, **body: object):
    payload = {
        "title": "MACE panel",
        "held_at": held_at or at(minutes=-30),
        "place": "Civic Centre, Room 2",
        "invited_organisation_ids": [str(o.id) for o in (mace.police, mace.yjs, mace.charity)],
        **body,
    }
    return client.post("/api/v1/meetings", json=payload, headers=mace.council_manager.headers)


def meeting_with_agenda(client: FlaskClient, mace: Mace, **body: object) -> dict:
    """A meeting (today, already started) with the police's and youth
    justice's referrals on its agenda, in that order."""
    made = convene(client, mace, **body)
    assert made.status_code == 201, made.json
    meeting = dict(made.json)
    for who, referral in (
        (mace.police_manager, mace.police_referral),
        (mace.yjs_manager, mace.yjs_referral),
    ):
        added = client.post(
            f"/api/v1/meetings/{meeting['id']}/agenda",
            json={"referral_id": referral["id"]},
            headers=who.headers,
        )
        assert added.status_code == 201, added.json
    return meeting


def events_of(app, response) -> list[AuditEvent]:
    """The audit events a request wrote."""
    with app.app_context():
        found = (
            db.session.query(AuditEvent)
            .filter_by(request_id=response.headers["X-Request-ID"])
            .order_by(AuditEvent.id)
            .all()
        )
        db.session.expunge_all()
        return found
