"""The report's follow-up figures: actions open and overdue by agency,
meetings held and children reviewed, time from referral to first meeting;
counted over what the manager's agency holds, nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from referral_app.extensions import db
from referral_app.models import Action, Meeting, Referral, User, uk_today, utcnow
from referral_app.services import actions, meeting_agenda, meetings
from tests.factories import commit_and_seal
from tests.referral_helpers import advance, create, make_world, share_with

SUMMARY = "/api/v1/reports/summary"


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _user(info) -> User:
    user = db.session.get(User, info.user.id)
    assert user is not None
    return user


def _referral(referral_id: str) -> Referral:
    referral = db.session.get(Referral, uuid.UUID(referral_id))
    assert referral is not None
    return referral


@pytest.fixture
def scene(app, client, world):
    """Two referrals from the police to the youth justice service, one shared
    with the charity; a meeting convened by the police five days after the
    first was submitted, both on its agenda; actions for the police (one
    overdue) and the youth justice service. A third referral, between the
    stranger agency and the charity, with an action of its own and on a
    meeting of its own: nobody else counts it."""
    first = create(client, world.officer, world.yjs)
    second = create(client, world.officer, world.yjs)
    advance(client, world, first["id"], "accepted")
    advance(client, world, second["id"], "submitted")
    share_with(client, world, first["id"], world.charity)
    other = create(client, world.stranger, world.charity)
    advance_other = client.post(
        f"/api/v1/referrals/{other['id']}/transitions",
        json={"action": "submit"},
        headers=world.stranger.headers,
    )
    assert advance_other.status_code == 200
    with app.app_context():
        police = _user(world.police_manager)
        yjs = _user(world.yjs_manager)
        stranger = _user(world.stranger_manager)
        # Submitted ten days ago; the meeting five days ago.
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(first["id"]))
            .values(submitted_at=utcnow() - timedelta(days=10))
        )
        meeting = meetings.convene(
            police,
            title="MACE meeting",
            held_at=utcnow() - timedelta(days=5),
            invited_organisation_ids=[world.yjs.id, world.charity.id],
            place="Southend police station",
        )
        for referral_id in (first["id"], second["id"]):
            meeting_agenda.add_to_agenda(police, meeting, uuid.UUID(referral_id))
        actions.create_action(
            police,
            _referral(first["id"]),
            description="Disruption visit to the address",
            owning_organisation_id=world.police.id,
            due_on=uk_today() + timedelta(days=3),
        )
        late = actions.create_action(
            police,
            _referral(second["id"]),
            description="Check the phone download",
            owning_organisation_id=world.police.id,
            due_on=uk_today(),
        )
        late.due_on = uk_today() - timedelta(days=2)  # agreed earlier, now overdue
        actions.create_action(
            yjs,
            _referral(first["id"]),
            description="Offer a mentor",
            owning_organisation_id=world.yjs.id,
            due_on=uk_today() + timedelta(days=7),
        )
        elsewhere = meetings.convene(
            stranger,
            title="Another partnership's meeting",
            held_at=utcnow() - timedelta(days=1),
            invited_organisation_ids=[world.charity.id],
            online=True,
        )
        meeting_agenda.add_to_agenda(stranger, elsewhere, uuid.UUID(other["id"]))
        actions.create_action(
            stranger,
            _referral(other["id"]),
            description="Home visit",
            owning_organisation_id=world.stranger_org.id,
            due_on=uk_today() + timedelta(days=1),
        )
        commit_and_seal(app)
    return first, second, other


def _follow_up(client, who) -> dict:
    response = client.get(SUMMARY, headers=who.headers)
    assert response.status_code == 200, response.json
    return dict(response.json["follow_up"])


def test_police_see_their_meeting_their_children_and_the_actions_on_what_they_hold(
    client, world, scene
):
    follow = _follow_up(client, world.police_manager)
    assert follow["meetings_held"] == 1
    assert follow["children_reviewed"] == 2
    by_agency = {row["organisation"]["id"]: row for row in follow["actions_by_agency"]}
    assert by_agency[str(world.police.id)]["open"] == 2
    assert by_agency[str(world.police.id)]["overdue"] == 1
    assert by_agency[str(world.yjs.id)]["open"] == 1
    assert by_agency[str(world.yjs.id)]["overdue"] == 0
    # The most overdue agency first; the stranger's action is not on a referral they hold.
    assert follow["actions_by_agency"][0]["organisation"]["id"] == str(world.police.id)
    assert str(world.stranger_org.id) not in by_agency
    # Both referrals of the report reached the meeting: the first five days
    # after its submission, the second (submitted today, after the meeting)
    # counts as no wait at all.
    first_meeting = follow["time_to_first_meeting"]
    assert first_meeting["count"] == 2
    assert first_meeting["median_days"] is not None


def test_the_time_to_a_first_meeting_runs_from_submission(app, client, world, scene):
    _first, second, _other = scene
    with app.app_context():
        # Only the first referral in the report: the second leaves the agenda.
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(second["id"]))
            .values(submitted_at=utcnow() - timedelta(days=400))
        )
        commit_and_seal(app)
    follow = _follow_up(client, world.yjs_manager)
    assert follow["time_to_first_meeting"]["count"] == 1
    assert follow["time_to_first_meeting"]["median_days"] == pytest.approx(5.0, abs=0.1)


def test_an_agency_counts_only_what_it_holds(client, world, scene):
    """The charity took part in both meetings but holds only the first
    referral (shared) and the stranger's: two children, both meetings."""
    follow = _follow_up(client, world.charity_manager)
    assert follow["meetings_held"] == 2
    assert follow["children_reviewed"] == 2
    by_agency = {row["organisation"]["id"]: row["open"] for row in follow["actions_by_agency"]}
    # On the shared referral: the police's one and the youth justice's one;
    # on the stranger's: the stranger's. Not the police action on the second.
    assert by_agency == {
        str(world.police.id): 1,
        str(world.yjs.id): 1,
        str(world.stranger_org.id): 1,
    }


def test_an_agency_in_no_meeting_holding_nothing_sees_zeros(client, factory, world, scene):
    from referral_app.models import OrganisationKind, Role
    from tests.factories import bearer, token_for

    lonely = factory.organisation(OrganisationKind.HEALTH)
    manager = factory.user(Role.MANAGER, organisation=lonely)
    response = client.get(SUMMARY, headers=bearer(token_for(client, manager)))
    follow = response.json["follow_up"]
    assert follow == {
        "actions_by_agency": [],
        "meetings_held": 0,
        "children_reviewed": 0,
        "time_to_first_meeting": {"count": 0, "median_days": None, "p90_days": None},
    }


def test_a_meeting_not_yet_held_is_not_counted(app, client, world, scene):
    with app.app_context():
        db.session.execute(update(Meeting).values(held_at=utcnow() + timedelta(days=3)))
        commit_and_seal(app)
    follow = _follow_up(client, world.police_manager)
    assert follow["meetings_held"] == 0
    assert follow["children_reviewed"] == 0
    assert follow["time_to_first_meeting"]["count"] == 0


def test_the_reports_page_shows_the_follow_up(client, world, scene):
    from tests.conftest import csrf_token

    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client),
            "email": world.police_manager.user.email,
            "password": world.police_manager.user.password,
        },
    )
    assert response.status_code == 302
    page = client.get("/reports").get_data(as_text=True)
    assert "After the referral" in page
    assert "Multi-agency meetings held" in page
    assert "Open actions now, by the agency that owns them" in page


def test_the_action_counts_ignore_closed_actions(app, client, world, scene):
    with app.app_context():
        db.session.execute(update(Action).values(status="done"))
        commit_and_seal(app)
    assert _follow_up(client, world.police_manager)["actions_by_agency"] == []
