"""A child held by three agencies, with events of every kind around them.

Police refers Jayden to youth justice (referral A), which accepts, assigns,
and shares it with a charity; the council refers the same child to the
charity (referral B), which accepts. Each agency writes notes: shared ones,
internal ones (which only it may ever read), a plain note left unmarked and
one marked significant. A MACE meeting convened by the council decided about
A, and youth justice agreed an action on A and completed it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from referral_app.extensions import db
from referral_app.models import (
    ActionStatus,
    AgendaDecision,
    AgendaItem,
    Meeting,
    MeetingInvitation,
    Note,
    OrganisationKind,
    Referral,
    RiskLevel,
    Role,
    User,
)
from referral_app.services import actions
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    Factory,
    OrgInfo,
    UserInfo,
    bearer,
    commit_and_seal,
    token_for,
)
from tests.referral_helpers import Actor, World, act, create, make_world, share_with

# Bodies that must never reach an agency other than their author's.
INTERNAL = {
    "police": "POLICE-INTERNAL: informant says Jayden runs for the Brady line",
    "yjs": "YJS-INTERNAL: worker worried about the mother's partner",
    "charity": "CHARITY-INTERNAL: mentor saw him with older boys",
}
UNMARKED = "PLAIN NOTE: phoned school, no answer"
SIGNIFICANT = "SIGNIFICANT NOTE: excluded from school for carrying a knife"
HOME_VISIT = "HOME VISIT: Jayden at home with his mother, new trainers and a second phone"
EARLIER_CONTACT = "CONTACT: met Jayden at the youth centre"
FORMULA = '=HYPERLINK("http://evil.example","click")'
DISCUSSION = "Discussed the county lines risk; police intelligence shared."


def days_ago(days: int) -> datetime:
    """Noon UTC `days` days ago: the same calendar day in the UK."""
    day = datetime.now(UTC).date() - timedelta(days=days)
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def uk_day(days: int) -> date:
    return days_ago(days).date()


@dataclass
class Child:
    world: World
    council: OrgInfo
    council_referrer: Actor
    council_manager: Actor
    child_id: str
    a: dict  # police -> youth justice, shared with the charity
    b: dict  # council -> charity
    share_id: str
    notes: dict[str, str] = field(default_factory=dict)  # body -> note id
    meeting_id: uuid.UUID | None = None
    action_id: uuid.UUID | None = None

    def actor(self, who: str) -> Actor:
        if who in ("council_referrer", "council_manager"):
            return getattr(self, who)
        return getattr(self.world, who)

    def headers(self, who: str) -> dict[str, str]:
        return self.actor(who).headers

    def user(self, who: str) -> UserInfo:
        return self.actor(who).user


def note(
    client: FlaskClient,
    actor: Actor,
    referral: dict,
    body: str,
    *,
    kind: str = "contact",
    visibility: str = "shared",
    occurred: datetime | None = None,
) -> str:
    payload = {"kind": kind, "body": body, "visibility": visibility}
    if occurred is not None:
        payload["occurred_at"] = occurred.isoformat()
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/notes", json=payload, headers=actor.headers
    )
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def _meeting_about(app: Flask, child: Child) -> uuid.UUID:
    """A MACE meeting convened by the council two days ago that kept A on
    review and raised its risk (rows made directly: the meetings' pages are
    someone else's)."""
    world = child.world
    with app.app_context():
        meeting = Meeting(
            title="MACE panel, Southend",
            convening_organisation_id=child.council.id,
            convened_by_id=child.council_manager.user.id,
            held_at=days_ago(2),
            online=True,
        )
        db.session.add(meeting)
        db.session.flush()
        for org in (child.council, world.police, world.yjs, world.charity):
            db.session.add(MeetingInvitation(meeting_id=meeting.id, organisation_id=org.id))
        db.session.add(
            AgendaItem(
                meeting_id=meeting.id,
                referral_id=uuid.UUID(child.a["id"]),
                position=1,
                added_by_id=world.officer.user.id,
                added_by_organisation_id=world.police.id,
                discussion=DISCUSSION,
                decision=AgendaDecision.CONTINUE,
                risk_level_before=RiskLevel.MEDIUM,
                risk_level=RiskLevel.HIGH,
                recorded_by_id=world.officer.user.id,
                recorded_by_organisation_id=world.police.id,
                recorded_at=days_ago(2),
            )
        )
        commit_and_seal(app)
        return meeting.id


def _action_done(app: Flask, child: Child) -> uuid.UUID:
    """Youth justice agrees an action on A and completes it."""
    with app.app_context():
        caseworker = db.session.get(User, child.world.caseworker.user.id)
        referral = db.session.get(Referral, uuid.UUID(child.a["id"]))
        assert caseworker is not None
        assert referral is not None
        action = actions.create_action(
            caseworker,
            referral,
            description="Arrange a mentor through the charity",
            owning_organisation_id=child.world.yjs.id,
            due_on=datetime.now(UTC).date() + timedelta(days=7),
        )
        actions.close_action(
            caseworker, action, status=ActionStatus.DONE, note="Mentor met Jayden twice."
        )
        commit_and_seal(app)
        return action.id


def build(app: Flask, client: FlaskClient, factory: Factory) -> Child:
    world = make_world(client, factory)
    council = factory.organisation(OrganisationKind.COUNCIL)

    def actor(*roles: Role) -> Actor:
        user = factory.user(*roles, organisation=council)
        return Actor(user, bearer(token_for(client, user)))

    council_referrer, council_manager = actor(Role.REFERRER), actor(Role.MANAGER)
    a = create(client, world.officer, world.yjs, risk_level="medium")
    assert act(client, world.officer, a["id"], "submit").status_code == 200
    assert act(client, world.yjs_manager, a["id"], "accept").status_code == 200
    assigned = act(
        client, world.yjs_manager, a["id"], "assign", assignee_id=str(world.caseworker.user.id)
    )
    assert assigned.status_code == 200
    share = share_with(client, world, a["id"], world.charity)
    b = create(client, council_referrer, world.charity)
    # The council recorded the child afresh; the records are the same child
    # (as a merge would make them): B is about A's child.
    with app.app_context():
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(b["id"]))
            .values(child_id=uuid.UUID(a["child"]["id"]))
        )
        commit_and_seal(app)
    assert act(client, council_referrer, b["id"], "submit").status_code == 200
    assert act(client, world.charity_manager, b["id"], "accept").status_code == 200
    child = Child(
        world, council, council_referrer, council_manager, a["child"]["id"], a, b, share["id"]
    )

    # Recorded in this order; contacts happened in another.
    notes = child.notes
    notes[HOME_VISIT] = note(
        client, world.caseworker, a, HOME_VISIT, kind="home_visit", occurred=days_ago(5)
    )
    notes[EARLIER_CONTACT] = note(
        client, world.caseworker, a, EARLIER_CONTACT, occurred=days_ago(9)
    )
    notes[INTERNAL["police"]] = note(
        client, world.officer, a, INTERNAL["police"], visibility="internal", occurred=days_ago(8)
    )
    notes[INTERNAL["yjs"]] = note(
        client, world.caseworker, a, INTERNAL["yjs"], visibility="internal", occurred=days_ago(7)
    )
    notes[INTERNAL["charity"]] = note(
        client,
        world.charity_worker,
        a,
        INTERNAL["charity"],
        kind="meeting",
        visibility="internal",
        occurred=days_ago(6),
    )
    notes[UNMARKED] = note(client, world.caseworker, a, UNMARKED, kind="note", occurred=days_ago(4))
    notes[SIGNIFICANT] = note(
        client, world.caseworker, a, SIGNIFICANT, kind="note", occurred=days_ago(3)
    )
    notes[FORMULA] = note(client, world.charity_worker, b, FORMULA, occurred=days_ago(1))
    with app.app_context():
        db.session.execute(
            update(Note).where(Note.id == uuid.UUID(notes[SIGNIFICANT])).values(significant=True)
        )
        commit_and_seal(app)
    child.meeting_id = _meeting_about(app, child)
    child.action_id = _action_done(app, child)
    return child


def sign_in(app: Flask, user) -> FlaskClient:
    browser = app.test_client()
    response = browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    return browser
