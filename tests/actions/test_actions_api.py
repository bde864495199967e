"""Actions through the API: who adds them, who sees them, who closes them,
the worklists, and every refusal named for the attack or the mistake it
stops."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from referral_app.models import uk_today
from tests.actions.conftest import add_action, audit_events, due_in, end_share, set_due
from tests.referral_helpers import create, share_with


def close(client, actor, action_id, **body):
    return client.post(f"/api/v1/actions/{action_id}/close", json=body, headers=actor.headers)


def worklist(client, actor, query=""):
    return client.get(f"/api/v1/actions{query}", headers=actor.headers)


# --- adding and seeing ------------------------------------------------------------


def test_a_holder_adds_an_action_for_its_own_agency_and_every_holder_sees_it(
    client, world, referral
):
    rid = referral["id"]
    made = add_action(
        client, world.yjs_manager, rid, owner_id=str(world.caseworker.user.id), due_on=due_in(3)
    ).json
    assert made["status"] == "open"
    assert made["overdue"] is False
    assert made["due_on"] == due_in(3)
    assert made["owning_organisation"]["id"] == str(world.yjs.id)
    assert made["owner"] == {
        "id": str(world.caseworker.user.id),
        "full_name": made["owner"]["full_name"],
    }
    assert made["referral"]["reference"] == referral["reference"]
    assert made["referral"]["child"]["first_name"] == "Jayden"
    assert made["referral"]["child"]["last_name"] == "Miller"
    assert made["created_by"]["id"] == str(world.yjs_manager.user.id)
    assert made["created_by_organisation"]["id"] == str(world.yjs.id)
    assert made["meeting_id"] is None
    assert made["closing_note"] is None
    assert made["closed_at"] is None
    assert made["closed_by"] is None

    share_with(client, world, rid, world.charity)
    for holder in (world.officer, world.yjs_manager, world.charity_worker):
        listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=holder.headers)
        assert listed.status_code == 200
        assert [action["id"] for action in listed.json] == [made["id"]]
        one = client.get(f"/api/v1/actions/{made['id']}", headers=holder.headers)
        assert one.status_code == 200
        assert one.json["description"] == "Home visit with the family."


def test_an_action_with_nobody_named_belongs_to_anyone_in_the_agency(client, world, referral):
    made = add_action(client, world.officer, referral["id"]).json
    assert made["owner"] is None
    assert made["owning_organisation"]["id"] == str(world.police.id)


def test_the_referrals_actions_come_open_first_by_due_date(client, world, referral):
    rid = referral["id"]
    later = add_action(client, world.yjs_manager, rid, due_on=due_in(9)).json
    sooner = add_action(client, world.yjs_manager, rid, due_on=due_in(2)).json
    finished = add_action(client, world.yjs_manager, rid, due_on=due_in(1)).json
    assert (
        close(client, world.yjs_manager, finished["id"], status="done", note="Done.").status_code
        == 200
    )
    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.officer.headers).json
    assert [action["id"] for action in listed] == [sooner["id"], later["id"], finished["id"]]


# --- refusals when adding -----------------------------------------------------------


def test_outside_a_meeting_an_action_for_another_agency_is_refused(client, world, referral):
    share_with(client, world, referral["id"], world.charity)  # the charity holds it too
    refused = add_action(
        client,
        world.yjs_manager,
        referral["id"],
        expect=422,
        owning_organisation_id=str(world.charity.id),
    )
    assert list(refused.json["errors"]) == ["owning_organisation_id"]


def test_a_named_owner_from_another_agency_is_refused(client, world, referral):
    refused = add_action(
        client, world.yjs_manager, referral["id"], expect=422, owner_id=str(world.officer.user.id)
    )
    assert list(refused.json["errors"]) == ["owner_id"]


def test_an_owner_without_a_case_role_or_unknown_is_refused(client, world, factory, referral):
    from referral_app.models import Role

    admin = factory.user(Role.ORG_ADMIN, organisation=world.yjs)
    for owner in (admin.id, "0b5c6ad4-0000-4000-8000-000000000000"):
        refused = add_action(
            client, world.yjs_manager, referral["id"], expect=422, owner_id=str(owner)
        )
        assert list(refused.json["errors"]) == ["owner_id"]


@pytest.mark.parametrize("days", [-1, 800])
def test_a_due_date_in_the_past_or_years_ahead_is_refused(client, world, referral, days):
    refused = add_action(client, world.yjs_manager, referral["id"], expect=422, due_on=due_in(days))
    assert list(refused.json["errors"]) == ["due_on"]


def test_a_due_date_of_today_is_taken(client, world, referral):
    assert (
        add_action(client, world.yjs_manager, referral["id"], due_on=due_in(0)).json["overdue"]
        is False
    )


def test_a_draft_has_no_actions(client, world):
    draft = create(client, world.officer, world.yjs)
    refused = add_action(client, world.officer, draft["id"], expect=409)
    assert refused.json["code"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [
        {"description": "x", "due_on": "2030-01-01", "priority": "high"},
        {"due_on": "2030-01-01"},
        {"description": "", "due_on": "2030-01-01"},
        {"description": "x"},
        {"description": "x", "due_on": "tomorrow"},
        {"description": "x" * 2001, "due_on": "2030-01-01"},
        {"description": "x", "due_on": "2030-01-01", "owner_id": "not-an-id"},
    ],
)
def test_bad_bodies_are_refused_field_by_field(client, world, referral, body):
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/actions", json=body, headers=world.yjs_manager.headers
    )
    assert response.status_code == 422, response.json
    assert response.json["errors"]


def test_another_agency_cannot_add_an_action_to_a_referral_it_does_not_hold(
    client, world, referral
):
    refused = add_action(client, world.stranger, referral["id"], expect=404)
    assert refused.json["code"] == "not_found"


# --- what another agency sees -------------------------------------------------------


def test_an_agency_that_does_not_hold_the_referral_sees_no_action(client, world, referral):
    action = add_action(client, world.yjs_manager, referral["id"]).json
    for path in (f"/api/v1/actions/{action['id']}", f"/api/v1/referrals/{referral['id']}/actions"):
        response = client.get(path, headers=world.stranger_manager.headers)
        assert response.status_code == 404
        assert "Jayden" not in response.get_data(as_text=True)
    closing = close(client, world.stranger_manager, action["id"], status="done", note="Not ours.")
    assert closing.status_code == 404
    assert worklist(client, world.stranger_manager, "?scope=agency&status=all").json == []


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_share_that_ended_shows_nothing_of_the_actions(app, client, world, referral, ending):
    rid = referral["id"]
    share = share_with(client, world, rid, world.charity)
    ours = add_action(
        client, world.charity_worker, rid, owner_id=str(world.charity_worker.user.id)
    ).json
    theirs = add_action(client, world.yjs_manager, rid).json
    assert [a["id"] for a in worklist(client, world.charity_worker).json] == [ours["id"]]
    if ending == "revoked":
        revoked = client.delete(
            f"/api/v1/referrals/{rid}/shares/{share['id']}", headers=world.yjs_manager.headers
        )
        assert revoked.status_code == 200
    else:
        end_share(app, share["id"])
    for action in (ours, theirs):
        got = client.get(f"/api/v1/actions/{action['id']}", headers=world.charity_worker.headers)
        assert got.status_code == 404
    closing = close(client, world.charity_worker, ours["id"], status="done", note="Done.")
    assert closing.status_code == 404
    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.charity_worker.headers)
    assert listed.status_code == 404
    # The worklists never list actions of referrals the agency no longer holds.
    assert worklist(client, world.charity_worker, "?status=all").json == []
    assert worklist(client, world.charity_manager, "?scope=agency&status=all").json == []
    assert json.loads(worklist(client, world.charity_worker).headers["X-Pagination"])["total"] == 0
    # The holders still see both.
    still = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.officer.headers)
    assert {a["id"] for a in still.json} == {ours["id"], theirs["id"]}


# --- closing ----------------------------------------------------------------------


def test_the_owning_agency_completes_its_action_with_a_note(client, world, referral):
    action = add_action(
        client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
    ).json
    done = close(client, world.caseworker, action["id"], status="done", note="Visited on Monday.")
    assert done.status_code == 200
    assert done.json["status"] == "done"
    assert done.json["closing_note"] == "Visited on Monday."
    assert done.json["closed_by"]["id"] == str(world.caseworker.user.id)
    assert done.json["closed_at"] is not None
    seen = client.get(f"/api/v1/actions/{action['id']}", headers=world.officer.headers)
    assert seen.json["status"] == "done"


def test_anyone_in_the_owning_agency_may_cancel_it(client, world, referral):
    action = add_action(
        client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
    ).json
    cancelled = close(
        client, world.yjs_referrer, action["id"], status="cancelled", note="Moved away."
    )
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled"


def test_a_holder_that_does_not_own_the_action_cannot_close_it(client, world, referral):
    action = add_action(client, world.yjs_manager, referral["id"]).json
    refused = close(client, world.officer, action["id"], status="done", note="We did it.")
    assert refused.status_code == 403
    still = client.get(f"/api/v1/actions/{action['id']}", headers=world.officer.headers)
    assert still.json["status"] == "open"


def test_closing_an_action_twice_is_a_conflict(client, world, referral):
    action = add_action(client, world.yjs_manager, referral["id"]).json
    assert (
        close(client, world.yjs_manager, action["id"], status="done", note="Done.").status_code
        == 200
    )
    again = close(client, world.yjs_manager, action["id"], status="cancelled", note="Again.")
    assert again.status_code == 409
    seen = client.get(f"/api/v1/actions/{action['id']}", headers=world.yjs_manager.headers)
    assert seen.json["status"] == "done"
    assert seen.json["closing_note"] == "Done."


@pytest.mark.parametrize(
    "body",
    [
        {"status": "open", "note": "Reopen it."},
        {"status": "done"},
        {"status": "done", "note": "  "},
        {"note": "Nothing said."},
        {"status": "done", "note": "Done.", "closed_at": "2026-01-01T00:00:00Z"},
    ],
)
def test_a_bad_closing_is_refused(client, world, referral, body):
    action = add_action(client, world.yjs_manager, referral["id"]).json
    response = client.post(
        f"/api/v1/actions/{action['id']}/close", json=body, headers=world.yjs_manager.headers
    )
    assert response.status_code == 422, response.json
    assert response.json["errors"]


# --- the worklists ----------------------------------------------------------------


def test_my_actions_are_mine_by_name_open_and_the_overdue_first(app, client, world, referral):
    rid = referral["id"]
    mine = str(world.caseworker.user.id)
    soon = add_action(client, world.yjs_manager, rid, owner_id=mine, due_on=due_in(5)).json
    late = add_action(client, world.yjs_manager, rid, owner_id=mine, due_on=due_in(1)).json
    set_due(app, late["id"], uk_today() - timedelta(days=2))
    unnamed = add_action(client, world.yjs_manager, rid).json
    finished = add_action(client, world.yjs_manager, rid, owner_id=mine).json
    close(client, world.caseworker, finished["id"], status="done", note="Done.")

    listed = worklist(client, world.caseworker)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json] == [late["id"], soon["id"]]
    assert [a["overdue"] for a in listed.json] == [True, False]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    assert [a["id"] for a in worklist(client, world.caseworker, "?status=done").json] == [
        finished["id"]
    ]
    assert [a["id"] for a in worklist(client, world.caseworker, "?status=all").json] == [
        late["id"],
        soon["id"],
        finished["id"],
    ]
    # A manager sees the agency's, the unnamed one among them.
    agency = worklist(client, world.yjs_manager, "?scope=agency")
    assert [a["id"] for a in agency.json] == [late["id"], soon["id"], unnamed["id"]]
    # Nobody else's: the police see none of the youth justice actions in theirs.
    assert worklist(client, world.police_manager, "?scope=agency&status=all").json == []


def test_the_worklist_is_paginated(client, world, referral):
    for _ in range(3):
        add_action(
            client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
        )
    page = worklist(client, world.caseworker, "?page=2&page_size=2")
    assert page.status_code == 200
    assert len(page.json) == 1
    assert json.loads(page.headers["X-Pagination"])["total"] == 3


def test_only_a_manager_sees_the_agencys_actions(client, world):
    for who in (world.caseworker, world.yjs_referrer):
        assert worklist(client, who, "?scope=agency").status_code == 403


@pytest.mark.parametrize("query", ["?scope=everyone", "?status=closed", "?status="])
def test_bad_worklist_filters_are_refused(client, world, query):
    assert worklist(client, world.yjs_manager, query).status_code == 422


# --- the meeting's way in (services.meetings passes the agenda item) ----------------


def test_at_a_meeting_an_action_goes_only_to_a_taking_part_agency_that_holds_the_referral(
    app, client, world, referral
):
    import uuid

    from referral_app.extensions import db
    from referral_app.models import AgendaItem, Meeting, MeetingInvitation, Referral, User, utcnow
    from referral_app.services import actions
    from referral_app.services.errors import Invalid

    rid = uuid.UUID(referral["id"])
    with app.app_context():
        manager = db.session.get(User, world.yjs_manager.user.id)
        meeting = Meeting(
            title="MACE panel",
            convening_organisation_id=world.yjs.id,
            convened_by_id=manager.id,
            held_at=utcnow(),
        )
        db.session.add(meeting)
        db.session.flush()
        for org in (world.yjs, world.charity):
            db.session.add(MeetingInvitation(meeting_id=meeting.id, organisation_id=org.id))
        item = AgendaItem(
            meeting_id=meeting.id,
            referral_id=rid,
            position=1,
            added_by_id=manager.id,
            added_by_organisation_id=world.yjs.id,
        )
        db.session.add(item)
        db.session.flush()
        referral_row = db.session.get(Referral, rid)

        def agree(owner_org):
            return actions.create_action(
                manager,
                referral_row,
                description="Mentoring place",
                owning_organisation_id=owner_org.id,
                due_on=uk_today() + timedelta(days=14),
                agenda_item=item,
            )

        # Taking part, but not holding the referral: refused (share it first).
        with pytest.raises(Invalid) as not_holding:
            agree(world.charity)
        assert list(not_holding.value.errors or {}) == ["owning_organisation_id"]
        # Holding it, but not at the meeting: refused.
        with pytest.raises(Invalid) as not_there:
            agree(world.police)
        assert "not taking part" in (not_there.value.errors or {})["owning_organisation_id"][0]
        db.session.commit()
        meeting_id, item_id = meeting.id, item.id

    share_with(client, world, referral["id"], world.charity)
    with app.app_context():
        manager = db.session.get(User, world.yjs_manager.user.id)
        item = db.session.get(AgendaItem, item_id)
        agreed = actions.create_action(
            manager,
            db.session.get(Referral, rid),
            description="Mentoring place",
            owning_organisation_id=world.charity.id,
            due_on=uk_today() + timedelta(days=14),
            agenda_item=item,
        )
        assert agreed.meeting_id == meeting_id
        agreed_id = str(agreed.id)
        db.session.commit()
    seen = client.get(f"/api/v1/actions/{agreed_id}", headers=world.charity_manager.headers)
    assert seen.json["meeting_id"] == str(meeting_id)
    assert seen.json["owning_organisation"]["id"] == str(world.charity.id)
    # Nobody named at the meeting: the charity's managers are told.
    told = client.get("/api/v1/notifications", headers=world.charity_manager.headers).json
    assert sorted(n["kind"] for n in told) == ["action_assigned", "referral_shared"]


# --- the audit trail --------------------------------------------------------------


def test_every_read_and_change_of_an_action_is_audited(app, client, world, referral):
    rid = referral["id"]
    action = add_action(client, world.yjs_manager, rid, owner_id=str(world.caseworker.user.id)).json
    [added] = audit_events(app, "referral.action_added", world.yjs_manager)
    assert added.record_id == rid
    assert added.record_ids == [action["id"]]
    assert sorted(added.fields or []) == [
        "description",
        "due_on",
        "owner_id",
        "owning_organisation_id",
    ]

    client.get(f"/api/v1/referrals/{rid}/actions", headers=world.officer.headers)
    client.get(f"/api/v1/actions/{action['id']}", headers=world.officer.headers)
    reads = audit_events(app, "referral.actions_read", world.officer)
    assert [(event.record_id, event.record_ids) for event in reads] == [
        (rid, [action["id"]]),
        (rid, [action["id"]]),
    ]

    worklist(client, world.caseworker)
    [listed] = audit_events(app, "action.list", world.caseworker)
    assert listed.record_type == "referral"
    assert listed.record_ids == [rid]

    close(client, world.caseworker, action["id"], status="done", note="Done.")
    [closed] = audit_events(app, "referral.action_closed", world.caseworker)
    assert closed.record_id == rid
    assert closed.record_ids == [action["id"]]
    assert sorted(closed.fields or []) == ["closing_note", "status"]


def test_a_refused_read_of_another_agencys_action_leaves_no_read_on_record(
    app, client, world, referral
):
    action = add_action(client, world.yjs_manager, referral["id"]).json
    client.get(f"/api/v1/actions/{action['id']}", headers=world.stranger.headers)
    assert audit_events(app, "referral.actions_read", world.stranger) == []
