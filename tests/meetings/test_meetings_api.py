"""MACE meetings through the API: each agency taking part sees the details
of the agenda lines it holds and only "held by other agencies" for the
rest; an agency not invited meets 404 everywhere; a share for the meeting
lets a further agency see its line; decisions, actions and attendance are
recorded only by those who may; the next meeting carries forward what is
still open; every read and change is audited."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from referral_app.extensions import db
from referral_app.models import Share
from tests.meetings.conftest import at, convene, events_of, meeting_with_agenda
from tests.referral_helpers import act, create

NOTHING = {"decision": "continue", "discussion": "Agreed to keep on review."}


def get_meeting(client, who, meeting_id):
    return client.get(f"/api/v1/meetings/{meeting_id}", headers=who.headers)


def lines_of(client, who, meeting_id) -> list[dict]:
    response = get_meeting(client, who, meeting_id)
    assert response.status_code == 200, response.json
    return list(response.json["agenda"])


def held_line(client, who, meeting_id, referral_id) -> dict:
    return next(
        line
        for line in lines_of(client, who, meeting_id)
        if line.get("referral", {}).get("id") == referral_id
    )


def secrets_of(referral: dict) -> list[str]:
    """What must never reach an agency that does not hold the referral."""
    child = referral["child"]
    return [referral["id"], referral["reference"], child["first_name"], child["last_name"]]


# --- who sees what ------------------------------------------------------------------


def test_each_agency_sees_the_details_of_its_own_lines_only(client, mace):
    meeting = meeting_with_agenda(client, mace)
    police, yjs = mace.police_referral, mace.yjs_referral
    seen_by = {
        "police": (mace.police_manager, [police], [yjs]),
        "yjs": (mace.yjs_worker, [yjs], [police]),
        "council": (mace.council_manager, [], [police, yjs]),
        "charity": (mace.charity_worker, [], [police, yjs]),
    }
    for name, (who, held, not_held) in seen_by.items():
        response = get_meeting(client, who, meeting["id"])
        assert response.status_code == 200, name
        agenda = response.json["agenda"]
        assert [line["position"] for line in agenda] == [1, 2]
        assert [line["referral"]["id"] for line in agenda if not line["held_by_others"]] == [
            referral["id"] for referral in held
        ], name
        for line in agenda:
            if line["held_by_others"]:
                assert set(line) == {"id", "position", "held_by_others"}, name
        dumped = json.dumps(response.json)
        for referral in not_held:
            for secret in secrets_of(referral):
                assert secret not in dumped, (name, secret)
        for referral in held:
            assert referral["reference"] in dumped
    agencies = get_meeting(client, mace.charity_worker, meeting["id"]).json["agencies"]
    assert agencies[0]["organisation"]["id"] == str(mace.council.id)
    assert {agency["organisation"]["id"] for agency in agencies} == {
        str(org.id) for org in (mace.council, mace.police, mace.yjs, mace.charity)
    }


def test_a_held_line_carries_the_referral_the_decision_and_the_actions(client, mace):
    meeting = meeting_with_agenda(client, mace)
    line = held_line(client, mace.police_manager, meeting["id"], mace.police_referral["id"])
    assert line["referral"] == {
        "id": mace.police_referral["id"],
        "reference": mace.police_referral["reference"],
        "child": {
            "id": mace.police_referral["child"]["id"],
            "first_name": "Jayden",
            "last_name": "Miller",
        },
        "risk_level": "medium",
        "status": "submitted",
    }
    assert line["added_by_organisation"]["id"] == str(mace.police.id)
    assert line["decision"] is None
    assert line["actions_agreed"] == []
    assert line["actions_carried_forward"] == []


def test_an_agency_not_invited_gets_404_on_every_meeting_route(client, mace):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    item = held_line(client, mace.police_manager, mid, mace.police_referral["id"])["id"]
    outsider = mace.outsider_manager.headers
    tried = [
        client.get(f"/api/v1/meetings/{mid}", headers=outsider),
        client.post(
            f"/api/v1/meetings/{mid}/invitations",
            json={"organisation_id": str(mace.outsider.id)},
            headers=outsider,
        ),
        client.put(
            f"/api/v1/meetings/{mid}/attendance",
            json={
                "attendance": [{"organisation_id": str(mace.outsider.id), "attendance": "absent"}]
            },
            headers=outsider,
        ),
        client.post(
            f"/api/v1/meetings/{mid}/agenda",
            json={"referral_id": mace.police_referral["id"]},
            headers=outsider,
        ),
        client.post(
            f"/api/v1/meetings/{mid}/agenda/{item}/decision", json=NOTHING, headers=outsider
        ),
        client.post(
            f"/api/v1/meetings/{mid}/agenda/{item}/actions",
            json={
                "description": "Visit",
                "owning_organisation_id": str(mace.outsider.id),
                "due_on": at(days=7)[:10],
            },
            headers=outsider,
        ),
        client.post(
            f"/api/v1/meetings/{mid}/agenda/{item}/shares",
            json={"organisation_id": str(mace.outsider.id)},
            headers=outsider,
        ),
        client.post(
            f"/api/v1/meetings/{mid}/next",
            json={"title": "Next", "held_at": at(days=14), "online": True},
            headers=outsider,
        ),
        client.post(
            "/api/v1/meetings",
            json={
                "title": "Next",
                "held_at": at(days=14),
                "online": True,
                "invited_organisation_ids": [str(mace.police.id)],
                "follows_id": mid,
            },
            headers=outsider,
        ),
    ]
    assert [response.status_code for response in tried] == [404] * len(tried)
    for response in tried:
        assert mace.police_referral["reference"] not in response.get_data(as_text=True)
    listed = client.get("/api/v1/meetings", headers=outsider)
    assert listed.status_code == 200
    assert listed.json == []


def test_a_share_for_the_meeting_lets_the_charity_see_the_line(app, client, mace):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    item = held_line(client, mace.yjs_manager, mid, mace.yjs_referral["id"])
    assert item["referral"]["id"] == mace.yjs_referral["id"]
    shared = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item['id']}/shares",
        json={"organisation_id": str(mace.charity.id)},
        headers=mace.yjs_manager.headers,
    )
    assert shared.status_code == 201, shared.json
    assert shared.json["organisation"]["id"] == str(mace.charity.id)
    assert shared.json["lawful_basis"] == "public_task"
    assert shared.json["purpose"].startswith("Multi-agency meeting: MACE panel, ")
    held_at = datetime.fromisoformat(meeting["held_at"])
    assert datetime.fromisoformat(shared.json["expires_at"]) == held_at + timedelta(days=30)
    with app.app_context():
        share = db.session.get(Share, uuid.UUID(shared.json["id"]))
        assert share is not None
        assert str(share.meeting_id) == mid
    assert [event.action for event in events_of(app, shared)].count("referral.shared") == 1
    # The charity now sees the line, and the referral itself; the police's
    # line stays closed to it.
    seen = get_meeting(client, mace.charity_worker, mid).json
    assert [line["held_by_others"] for line in seen["agenda"]] == [True, False]
    assert seen["agenda"][1]["referral"]["id"] == mace.yjs_referral["id"]
    for secret in secrets_of(mace.police_referral):
        assert secret not in json.dumps(seen)
    referral = client.get(
        f"/api/v1/referrals/{mace.yjs_referral['id']}", headers=mace.charity_worker.headers
    )
    assert referral.status_code == 200


def test_a_share_for_the_meeting_is_for_agencies_taking_part_and_managers_who_may_share(
    client, mace
):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    item = held_line(client, mace.yjs_manager, mid, mace.yjs_referral["id"])["id"]
    url = f"/api/v1/meetings/{mid}/agenda/{item}/shares"
    not_taking_part = client.post(
        url, json={"organisation_id": str(mace.outsider.id)}, headers=mace.yjs_manager.headers
    )
    assert not_taking_part.status_code == 422
    assert "organisation_id" in not_taking_part.json["errors"]
    not_holding = client.post(
        url, json={"organisation_id": str(mace.charity.id)}, headers=mace.police_manager.headers
    )
    assert not_holding.status_code == 403
    caseworker = client.post(
        url, json={"organisation_id": str(mace.charity.id)}, headers=mace.yjs_worker.headers
    )
    assert caseworker.status_code == 403


# --- the agenda ---------------------------------------------------------------------


def test_the_agenda_takes_a_held_submitted_referral_once(client, mace):
    made = convene(client, mace)
    mid = made.json["id"]
    url = f"/api/v1/meetings/{mid}/agenda"
    not_held = client.post(
        url, json={"referral_id": mace.yjs_referral["id"]}, headers=mace.police_manager.headers
    )
    assert not_held.status_code == 404
    assert mace.yjs_referral["reference"] not in not_held.get_data(as_text=True)
    draft = create(
        client,
        mace.police_officer,
        mace.health,
        child={"first_name": "Olly", "last_name": "Draft", "date_of_birth": "2012-01-01"},
    )
    as_draft = client.post(
        url, json={"referral_id": draft["id"]}, headers=mace.police_officer.headers
    )
    assert as_draft.status_code == 403  # a referrer does not contribute to meetings
    as_draft = client.post(
        url, json={"referral_id": draft["id"]}, headers=mace.police_manager.headers
    )
    assert as_draft.status_code == 409
    first = client.post(
        url, json={"referral_id": mace.police_referral["id"]}, headers=mace.police_manager.headers
    )
    assert first.status_code == 201
    assert first.json["referral"]["id"] == mace.police_referral["id"]
    assert first.json["position"] == 1
    twice = client.post(
        url, json={"referral_id": mace.police_referral["id"]}, headers=mace.police_manager.headers
    )
    assert twice.status_code == 409


def test_recording_on_a_line_one_does_not_hold_is_refused(client, mace):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    yjs_item = held_line(client, mace.yjs_manager, mid, mace.yjs_referral["id"])["id"]
    decision = client.post(
        f"/api/v1/meetings/{mid}/agenda/{yjs_item}/decision",
        json=NOTHING,
        headers=mace.police_manager.headers,
    )
    action = client.post(
        f"/api/v1/meetings/{mid}/agenda/{yjs_item}/actions",
        json={
            "description": "Visit the family",
            "owning_organisation_id": str(mace.police.id),
            "due_on": at(days=7)[:10],
        },
        headers=mace.police_manager.headers,
    )
    assert (decision.status_code, action.status_code) == (403, 403)
    for response in (decision, action):
        assert mace.yjs_referral["reference"] not in response.get_data(as_text=True)
    unknown = client.post(
        f"/api/v1/meetings/{mid}/agenda/{uuid.uuid4()}/decision",
        json=NOTHING,
        headers=mace.police_manager.headers,
    )
    assert unknown.status_code == 404


def test_an_action_goes_to_an_agency_taking_part_that_holds_the_referral(client, mace):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    item = held_line(client, mace.police_manager, mid, mace.police_referral["id"])["id"]
    url = f"/api/v1/meetings/{mid}/agenda/{item}/actions"
    due = at(days=7)[:10]

    def agree(org, **extra):
        body = {"description": "Disruption visit", "owning_organisation_id": str(org.id)}
        return client.post(
            url, json={**body, "due_on": due, **extra}, headers=mace.police_manager.headers
        )

    # Health holds it (it received the referral) but is not at the meeting.
    assert agree(mace.health).status_code == 422
    # The charity is at the meeting but does not hold it.
    refused = agree(mace.charity)
    assert refused.status_code == 422
    assert "owning_organisation_id" in refused.json["errors"]
    assert agree(mace.police, due_on=at(days=-3)[:10]).status_code == 422
    assert agree(mace.police, owner_id=str(mace.yjs_worker.user.id)).status_code == 422
    agreed = agree(mace.police, owner_id=str(mace.police_officer.user.id))
    assert agreed.status_code == 201, agreed.json
    assert agreed.json["meeting_id"] == mid
    assert agreed.json["owning_organisation"]["id"] == str(mace.police.id)
    assert agreed.json["owner"]["id"] == str(mace.police_officer.user.id)
    line = held_line(client, mace.police_manager, mid, mace.police_referral["id"])
    assert [action["id"] for action in line["actions_agreed"]] == [agreed.json["id"]]


def test_decisions_and_actions_wait_for_the_meetings_day(client, mace):
    meeting = meeting_with_agenda(client, mace, held_at=at(days=3))
    mid = meeting["id"]
    item = held_line(client, mace.police_manager, mid, mace.police_referral["id"])["id"]
    decision = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item}/decision",
        json=NOTHING,
        headers=mace.police_manager.headers,
    )
    assert decision.status_code == 409
    action = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item}/actions",
        json={
            "description": "Visit",
            "owning_organisation_id": str(mace.police.id),
            "due_on": at(days=7)[:10],
        },
        headers=mace.police_manager.headers,
    )
    assert action.status_code == 409
    attendance = client.put(
        f"/api/v1/meetings/{mid}/attendance",
        json={"attendance": [{"organisation_id": str(mace.police.id), "attendance": "attended"}]},
        headers=mace.council_manager.headers,
    )
    assert attendance.status_code == 409


def test_a_risk_level_changed_at_the_meeting_changes_the_referrals(app, client, mace):
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    item = held_line(client, mace.police_manager, mid, mace.police_referral["id"])["id"]
    recorded = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item}/decision",
        json={
            "decision": "escalate_to_childrens_social_care",
            "discussion": "Seen with older males.",
            "risk_level": "high",
        },
        headers=mace.police_manager.headers,
    )
    assert recorded.status_code == 200, recorded.json
    assert recorded.json["decision"] == "escalate_to_childrens_social_care"
    assert recorded.json["risk_level_before"] == "medium"
    assert recorded.json["risk_level"] == "high"
    referral = client.get(
        f"/api/v1/referrals/{mace.police_referral['id']}", headers=mace.police_manager.headers
    )
    assert referral.json["risk_level"] == "high"
    changed = [e for e in events_of(app, recorded) if e.action == "referral.update"]
    assert [(e.record_id, e.fields) for e in changed] == [
        (mace.police_referral["id"], ["risk_level"])
    ]
    assert changed[0].reason == "Agreed at a multi-agency meeting."
    # Left out, the level is confirmed as it is.
    yjs_item = held_line(client, mace.yjs_manager, mid, mace.yjs_referral["id"])["id"]
    confirmed = client.post(
        f"/api/v1/meetings/{mid}/agenda/{yjs_item}/decision",
        json=NOTHING,
        headers=mace.yjs_worker.headers,
    )
    assert (confirmed.json["risk_level_before"], confirmed.json["risk_level"]) == ("high", "high")
    assert "referral.update" not in [e.action for e in events_of(app, confirmed)]


# --- attendance and invitations ----------------------------------------------------


def test_attendance_is_recorded_by_the_convening_agency_only(client, mace):
    meeting = meeting_with_agenda(client, mace)
    url = f"/api/v1/meetings/{meeting['id']}/attendance"
    body = {
        "attendance": [
            {
                "organisation_id": str(mace.police.id),
                "attendance": "attended",
                "attendees": "DS Khan",
            },
            {"organisation_id": str(mace.charity.id), "attendance": "apologies"},
        ]
    }
    assert client.put(url, json=body, headers=mace.police_manager.headers).status_code == 403
    assert client.put(url, json=body, headers=mace.council_worker.headers).status_code == 403
    recorded = client.put(url, json=body, headers=mace.council_manager.headers)
    assert recorded.status_code == 200, recorded.json
    by_org = {a["organisation"]["id"]: (a["attendance"], a["attendees"]) for a in recorded.json}
    assert by_org[str(mace.police.id)] == ("attended", "DS Khan")
    assert by_org[str(mace.charity.id)] == ("apologies", None)
    assert by_org[str(mace.yjs.id)] == (None, None)
    outsider = client.put(
        url,
        json={"attendance": [{"organisation_id": str(mace.outsider.id), "attendance": "absent"}]},
        headers=mace.council_manager.headers,
    )
    assert outsider.status_code == 422
    seen = get_meeting(client, mace.yjs_worker, meeting["id"]).json["agencies"]
    assert {a["organisation"]["id"]: a["attendance"] for a in seen}[
        str(mace.police.id)
    ] == "attended"


def test_the_convener_invites_one_more_agency_once(client, mace):
    made = convene(client, mace, invited_organisation_ids=[str(mace.police.id)])
    url = f"/api/v1/meetings/{made.json['id']}/invitations"
    body = {"organisation_id": str(mace.yjs.id)}
    assert client.post(url, json=body, headers=mace.police_manager.headers).status_code == 403
    invited = client.post(url, json=body, headers=mace.council_manager.headers)
    assert invited.status_code == 201
    assert invited.json["organisation"]["id"] == str(mace.yjs.id)
    assert client.post(url, json=body, headers=mace.council_manager.headers).status_code == 409
    assert get_meeting(client, mace.yjs_worker, made.json["id"]).status_code == 200


def test_convening_refuses_what_makes_no_meeting(client, mace):
    no_place = convene(client, mace, place=None)
    assert no_place.status_code == 422
    assert "place" in no_place.json["errors"]
    only_us = convene(client, mace, invited_organisation_ids=[str(mace.council.id)])
    assert "invited_organisation_ids" in only_us.json["errors"]
    too_far = convene(client, mace, held_at=at(days=400))
    assert "held_at" in too_far.json["errors"]
    naive = convene(client, mace, held_at="2026-12-01T10:00:00")
    assert naive.status_code == 422
    unknown = convene(client, mace, agenda=[])
    assert unknown.status_code == 422
    caseworker = client.post(
        "/api/v1/meetings",
        json={
            "title": "x",
            "held_at": at(days=1),
            "online": True,
            "invited_organisation_ids": [str(mace.police.id)],
        },
        headers=mace.council_worker.headers,
    )
    assert caseworker.status_code == 403


# --- lists ----------------------------------------------------------------------------


def test_the_list_shows_upcoming_and_past_meetings_one_takes_part_in(client, mace):
    past = convene(client, mace, title="Last month", held_at=at(days=-30)).json
    soon = convene(client, mace, title="Next week", held_at=at(days=7)).json
    later = convene(client, mace, title="Next month", held_at=at(days=30)).json
    other = client.post(
        "/api/v1/meetings",
        json={
            "title": "Not ours",
            "held_at": at(days=2),
            "online": True,
            "invited_organisation_ids": [str(mace.council.id)],
        },
        headers=mace.outsider_manager.headers,
    )
    assert other.status_code == 201

    def titles(when: str, who=mace.charity_worker) -> list[str]:
        response = client.get(f"/api/v1/meetings?when={when}", headers=who.headers)
        assert response.status_code == 200
        return [meeting["title"] for meeting in response.json]

    assert titles("upcoming") == [soon["title"], later["title"]]
    assert titles("past") == [past["title"]]
    assert titles("all") == [later["title"], soon["title"], past["title"]]
    assert "Not ours" in titles("upcoming", mace.council_manager)
    paged = client.get("/api/v1/meetings?page_size=1", headers=mace.charity_worker.headers)
    assert json.loads(paged.headers["X-Pagination"])["total"] == 3
    assert (
        client.get("/api/v1/meetings?when=soon", headers=mace.charity_worker.headers).status_code
        == 422
    )


# --- the next meeting ----------------------------------------------------------------


def test_the_next_meeting_carries_forward_what_is_still_open(app, client, mace):
    more = [
        create(
            client,
            mace.police_manager,
            mace.health,
            child={"first_name": first, "last_name": "Case", "date_of_birth": "2011-05-05"},
        )
        for first in ("Escalated", "Nrm", "Undecided")
    ]
    for referral in more:
        assert act(client, mace.police_manager, referral["id"], "submit").status_code == 200
    meeting = meeting_with_agenda(client, mace)
    mid = meeting["id"]
    for referral in more:
        added = client.post(
            f"/api/v1/meetings/{mid}/agenda",
            json={"referral_id": referral["id"]},
            headers=mace.police_manager.headers,
        )
        assert added.status_code == 201
    decisions = {
        mace.police_referral["id"]: "close",
        mace.yjs_referral["id"]: "continue",
        more[0]["id"]: "escalate_to_childrens_social_care",
        more[1]["id"]: "nrm_referral",
    }
    for referral_id, decision in decisions.items():
        who = mace.yjs_manager if referral_id == mace.yjs_referral["id"] else mace.police_manager
        item = held_line(client, who, mid, referral_id)["id"]
        recorded = client.post(
            f"/api/v1/meetings/{mid}/agenda/{item}/decision",
            json={"decision": decision, "discussion": "Discussed."},
            headers=who.headers,
        )
        assert recorded.status_code == 200
    yjs_item = held_line(client, mace.yjs_manager, mid, mace.yjs_referral["id"])["id"]
    actions = []
    for description in ("Still to do", "Done already"):
        agreed = client.post(
            f"/api/v1/meetings/{mid}/agenda/{yjs_item}/actions",
            json={
                "description": description,
                "owning_organisation_id": str(mace.yjs.id),
                "owner_id": str(mace.yjs_worker.user.id),
                "due_on": at(days=10)[:10],
            },
            headers=mace.yjs_manager.headers,
        )
        assert agreed.status_code == 201
        actions.append(agreed.json)
    closed = client.post(
        f"/api/v1/actions/{actions[1]['id']}/close",
        json={"status": "done", "note": "Visited."},
        headers=mace.yjs_worker.headers,
    )
    assert closed.status_code == 200

    body = {"title": "MACE panel (review)", "held_at": at(days=28), "online": True}
    assert (
        client.post(
            f"/api/v1/meetings/{mid}/next", json=body, headers=mace.police_manager.headers
        ).status_code
        == 403
    )
    following = client.post(
        f"/api/v1/meetings/{mid}/next", json=body, headers=mace.council_manager.headers
    )
    assert following.status_code == 201, following.json
    nid = following.json["id"]
    assert following.json["follows_id"] == mid
    written = [(e.action, e.record_id) for e in events_of(app, following)]
    assert ("meeting.convened", nid) in written
    assert ("meeting.agenda_carried_forward", nid) in written
    assert {a["organisation"]["id"] for a in following.json["agencies"]} == {
        str(org.id) for org in (mace.council, mace.police, mace.yjs, mace.charity)
    }
    police_lines = lines_of(client, mace.police_manager, nid)
    assert [line.get("referral", {}).get("id") for line in police_lines] == [
        None,  # the youth justice line: still on review, not the police's
        more[0]["id"],
        more[1]["id"],
        more[2]["id"],
    ]
    assert all(line["carried_forward"] for line in police_lines if not line["held_by_others"])
    carried = held_line(client, mace.yjs_manager, nid, mace.yjs_referral["id"])
    assert carried["decision"] is None
    assert [a["description"] for a in carried["actions_carried_forward"]] == ["Still to do"]
    assert carried["actions_agreed"] == []


# --- the audit trail -----------------------------------------------------------------


def test_every_read_and_change_is_audited(app, client, mace):
    made = convene(client, mace)
    mid = made.json["id"]
    assert [e.action for e in events_of(app, made)] == ["meeting.convened", "meeting.read"]
    added = client.post(
        f"/api/v1/meetings/{mid}/agenda",
        json={"referral_id": mace.police_referral["id"]},
        headers=mace.police_manager.headers,
    )
    added_events = events_of(app, added)
    assert [(e.action, e.record_id) for e in added_events] == [
        ("meeting.agenda_added", mace.police_referral["id"]),
        ("meeting.read", mace.police_referral["id"]),
    ]
    read = get_meeting(client, mace.police_manager, mid)
    assert [(e.action, e.record_type, e.record_id, e.record_ids) for e in events_of(app, read)] == [
        ("meeting.read", "referral", mace.police_referral["id"], [mid])
    ]
    nothing_held = get_meeting(client, mace.charity_worker, mid)
    assert [(e.action, e.record_type, e.record_id) for e in events_of(app, nothing_held)] == [
        ("meeting.read", "meeting", mid)
    ]
    listed = client.get("/api/v1/meetings", headers=mace.charity_worker.headers)
    assert [(e.action, e.record_ids) for e in events_of(app, listed)] == [("meeting.list", [mid])]
    item = added.json["id"]
    recorded = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item}/decision",
        json=NOTHING,
        headers=mace.police_manager.headers,
    )
    assert "meeting.item_recorded" in [e.action for e in events_of(app, recorded)]
    attendance = client.put(
        f"/api/v1/meetings/{mid}/attendance",
        json={"attendance": [{"organisation_id": str(mace.police.id), "attendance": "attended"}]},
        headers=mace.council_manager.headers,
    )
    assert [e.action for e in events_of(app, attendance)] == ["meeting.attendance_recorded"]
    agreed = client.post(
        f"/api/v1/meetings/{mid}/agenda/{item}/actions",
        json={
            "description": "Visit",
            "owning_organisation_id": str(mace.police.id),
            "due_on": at(days=5)[:10],
        },
        headers=mace.police_manager.headers,
    )
    assert "referral.action_added" in [e.action for e in events_of(app, agreed)]
    invited = client.post(
        f"/api/v1/meetings/{mid}/invitations",
        json={"organisation_id": str(mace.health.id)},
        headers=mace.council_manager.headers,
    )
    assert [e.action for e in events_of(app, invited)] == ["meeting.invited"]
    refused = get_meeting(client, mace.outsider_manager, mid)
    assert refused.status_code == 404


@pytest.mark.parametrize("field", ["held_at", "title", "invited_organisation_ids"])
def test_convening_needs_its_fields(client, mace, field):
    body = {
        "title": "MACE panel",
        "held_at": at(days=2),
        "online": True,
        "invited_organisation_ids": [str(mace.police.id)],
    }
    del body[field]
    refused = client.post("/api/v1/meetings", json=body, headers=mace.council_manager.headers)
    assert refused.status_code == 422
    assert field in refused.json["errors"]
