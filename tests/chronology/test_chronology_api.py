"""GET /api/v1/children/{id}/chronology: a child held by three agencies (and
a fourth on a second referral), each agency seeing exactly the events of
the referrals it holds, in date order, and never another agency's internal
note; the filters; what each kind of event says; the audit."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import AuditEvent, Note, Share
from tests.chronology.world import (
    DISCUSSION,
    EARLIER_CONTACT,
    FORMULA,
    HOME_VISIT,
    INTERNAL,
    SIGNIFICANT,
    UNMARKED,
    Child,
    note,
    uk_day,
)
from tests.factories import commit_and_seal
from tests.referral_helpers import act, create, share_with

# Which agency holds which referral, and whose internal note it may read.
HOLDS = {
    "officer": ("a",),
    "yjs_manager": ("a",),
    "charity_manager": ("a", "b"),
    "council_manager": ("b",),
}
OWN_INTERNAL = {"officer": "police", "yjs_manager": "yjs", "charity_manager": "charity"}


def read(client, child: Child, who: str, **query):
    return client.get(
        f"/api/v1/children/{child.child_id}/chronology",
        query_string=query,
        headers=child.headers(who),
    )


def entries(client, child: Child, who: str, **query) -> list[dict]:
    response = read(client, child, who, **query)
    assert response.status_code == 200, response.json
    return list(response.json["entries"])


def chronology_reads(app, actor_id) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.action == "referral.chronology_read",
                    AuditEvent.actor_user_id == actor_id,
                )
                .order_by(AuditEvent.id)
            )
        )


# --- who sees what -----------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(HOLDS))
def test_each_agency_sees_exactly_the_events_of_the_referrals_it_holds(client, child, who):
    response = read(client, child, who)
    assert response.status_code == 200
    held = {getattr(child, name)["reference"] for name in HOLDS[who]}
    found = response.json["entries"]
    assert {entry["referral"]["reference"] for entry in found} == held
    assert {ref["reference"] for ref in response.json["referrals"]} == held
    made = [entry["summary"] for entry in found if entry["kind"] == "referral_made"]
    assert sorted(made) == sorted(
        summary
        for summary in (
            f"Referral {child.a['reference']} made by {child.world.police.name} "
            f"to {child.world.yjs.name}",
            f"Referral {child.b['reference']} made by {child.council.name} "
            f"to {child.world.charity.name}",
        )
        if summary.split()[1] in held
    )
    assert response.json["child"]["id"] == child.child_id


@pytest.mark.parametrize("who", sorted(HOLDS))
def test_events_are_in_date_order(client, child, who):
    found = entries(client, child, who)
    moments = [datetime.fromisoformat(entry["when"]) for entry in found]
    assert moments == sorted(moments)
    assert len(found) >= 3


def test_notes_are_ordered_by_their_date_of_contact_not_when_they_were_recorded(client, child):
    found = entries(client, child, "yjs_manager")
    details = [entry["detail"] for entry in found]
    # The home visit was recorded first, but the contact happened four days before it.
    assert details.index(EARLIER_CONTACT) < details.index(HOME_VISIT)
    visit = next(entry for entry in found if entry["detail"] == HOME_VISIT)
    contact = next(entry for entry in found if entry["detail"] == EARLIER_CONTACT)
    assert visit["recorded_at"] < contact["recorded_at"]
    assert visit["when"].startswith(uk_day(5).isoformat())
    assert (visit["kind"], visit["summary"]) == ("contact", "Home visit")
    assert visit["agency"]["id"] == str(child.world.yjs.id)


@pytest.mark.parametrize("who", sorted(HOLDS))
def test_no_agency_ever_sees_another_agencys_internal_note(client, child, who):
    text = json.dumps(read(client, child, who).json)
    for agency, body in INTERNAL.items():
        if OWN_INTERNAL.get(who) == agency:
            assert body in text  # its own internal notes are its to read
        else:
            assert body not in text


def test_significant_notes_appear_and_unmarked_plain_notes_do_not(client, child):
    found = entries(client, child, "charity_manager")
    text = json.dumps(found)
    assert UNMARKED not in text
    marked = next(entry for entry in found if entry["detail"] == SIGNIFICANT)
    assert (marked["kind"], marked["significant"]) == ("significant_note", True)
    assert marked["summary"] == "Note marked as significant"


def test_an_agency_that_holds_nothing_about_the_child_gets_404(client, child):
    response = read(client, child, "stranger")
    assert response.status_code == 404
    unknown = client.get(
        f"/api/v1/children/{uuid.uuid4()}/chronology", headers=child.headers("stranger")
    )
    assert unknown.status_code == 404
    assert response.json == unknown.json  # no hint that this child exists


def test_a_revoked_share_takes_that_referrals_events_away(client, child):
    revoked = client.delete(
        f"/api/v1/referrals/{child.a['id']}/shares/{child.share_id}",
        headers=child.headers("yjs_manager"),
    )
    assert revoked.status_code in (200, 204)
    found = entries(client, child, "charity_manager")
    assert {entry["referral"]["reference"] for entry in found} == {child.b["reference"]}
    text = json.dumps(found)
    assert HOME_VISIT not in text
    assert DISCUSSION not in text


def test_an_expired_share_alone_is_a_404(app, client, child):
    share = share_with(client, child.world, child.a["id"], child.world.stranger_org)
    assert read(client, child, "stranger").status_code == 200
    with app.app_context():
        db.session.execute(
            update(Share)
            .where(Share.id == uuid.UUID(share["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        commit_and_seal(app)
    assert read(client, child, "stranger").status_code == 404


def test_a_revoked_share_alone_is_a_404(client, child):
    share = share_with(client, child.world, child.a["id"], child.world.stranger_org)
    assert read(client, child, "stranger").status_code == 200
    client.delete(
        f"/api/v1/referrals/{child.a['id']}/shares/{share['id']}",
        headers=child.headers("yjs_manager"),
    )
    assert read(client, child, "stranger").status_code == 404


def test_a_draft_is_in_the_referring_agencys_chronology_only(client, child):
    draft = create(
        client, child.council_referrer, child.world.charity, child=None, child_id=child.child_id
    )
    body = "DRAFT CONTACT: spoke to the school before referring"
    note(client, child.council_referrer, draft, body)
    assert body in json.dumps(entries(client, child, "council_manager"))
    assert body not in json.dumps(entries(client, child, "charity_manager"))


# --- what each kind of event says ----------------------------------------------------


def test_meeting_decisions_and_actions_say_what_happened(client, child):
    found = entries(client, child, "officer")
    decision = next(entry for entry in found if entry["kind"] == "meeting_decision")
    assert (
        decision["summary"] == "MACE meeting: continue on review, risk changed from medium to high"
    )
    assert decision["detail"] == DISCUSSION
    assert decision["agency"]["id"] == str(child.council.id)  # the convening agency
    agreed = next(entry for entry in found if entry["kind"] == "action_agreed")
    due = datetime.now(UTC).date() + timedelta(days=7)
    assert agreed["summary"] == (
        f"Action agreed for {child.world.yjs.name}: Arrange a mentor through the charity, "
        f"due {due.day} {due:%B %Y}"
    )
    done = next(entry for entry in found if entry["kind"] == "action_completed")
    assert done["summary"] == "Action done: Arrange a mentor through the charity"
    assert done["detail"] == "Mentor met Jayden twice."
    accepted = next(entry for entry in found if entry["kind"] == "triage_decision")
    assert (accepted["summary"], accepted["agency"]["id"]) == ("Accepted", str(child.world.yjs.id))
    # Assigning is not an event of the child's life.
    assert not [entry for entry in found if "ssign" in entry["summary"]]


def test_outcomes_reopening_declines_and_withdrawals(client, child):
    charity, council = child.world.charity_manager, child.council_referrer
    rid = child.b["id"]
    assert act(client, charity, rid, "assign", assignee_id=str(charity.user.id)).status_code == 200
    closing = {"outcome": "not_engaged", "outcome_summary": "Did not come to sessions."}
    assert act(client, charity, rid, "close", **closing).status_code == 200
    assert act(client, charity, rid, "reopen", reason="He asked to come back.").status_code == 200
    closing = {"outcome": "engaged_and_completed", "outcome_summary": "Finished the programme."}
    assert act(client, charity, rid, "close", **closing).status_code == 200
    declined = create(client, council, child.world.charity, child=None, child_id=child.child_id)
    assert act(client, council, declined["id"], "submit").status_code == 200
    assert act(client, charity, declined["id"], "decline", reason="No places.").status_code == 200
    withdrawn = create(client, council, child.world.charity, child=None, child_id=child.child_id)
    assert (
        act(client, council, withdrawn["id"], "withdraw", reason="Sent twice.").status_code == 200
    )

    found = entries(client, child, "council_manager")
    said = [(entry["kind"], entry["summary"], entry["detail"]) for entry in found]
    assert ("outcome", "Closed: engaged and completed", "Finished the programme.") in said
    assert (
        "outcome",
        "Closed (the outcome was replaced when the referral was closed again)",
        None,
    ) in said
    assert ("reopened", "Reopened: He asked to come back.", None) in said
    assert ("triage_decision", "Declined: No places.", None) in said
    assert ("withdrawn", "Withdrawn: Sent twice.", None) in said
    kinds = [entry["kind"] for entry in found if entry["referral"]["id"] == rid]
    assert kinds.index("reopened") < len(kinds) - 1 - kinds[::-1].index("outcome")


def test_a_note_removed_under_retention_says_so_without_its_text(app, client, child):
    with app.app_context():
        db.session.execute(
            update(Note)
            .where(Note.id == uuid.UUID(child.notes[HOME_VISIT]))
            .values(body="[removed under the retention policy]", redacted_at=datetime.now(UTC))
        )
        commit_and_seal(app)
    found = entries(client, child, "yjs_manager")
    removed = [entry for entry in found if entry["removed"]]
    assert len(removed) == 1
    assert (removed[0]["summary"], removed[0]["detail"]) == ("Home visit", None)


# --- filters -------------------------------------------------------------------------


def test_filters_by_uk_calendar_days_both_included(client, child):
    found = entries(client, child, "yjs_manager", **{"from": uk_day(7), "to": uk_day(5)})
    assert [entry["detail"] for entry in found] == [INTERNAL["yjs"], HOME_VISIT]
    later = entries(client, child, "yjs_manager", **{"from": uk_day(0)})
    assert {entry["kind"] for entry in later} >= {"referral_made", "action_completed"}
    assert HOME_VISIT not in json.dumps(later)


def test_a_uk_day_is_not_a_utc_day_in_summer(client, child):
    # 23:30 UTC on 1 July is 00:30 on 2 July in the UK (BST).
    late = datetime(2025, 7, 1, 23, 30, tzinfo=UTC)
    body = "LATE CONTACT: found in a car park after midnight"
    note(client, child.world.caseworker, child.a, body, occurred=late)
    first = entries(client, child, "yjs_manager", **{"from": "2025-07-01", "to": "2025-07-01"})
    second = entries(client, child, "yjs_manager", **{"from": "2025-07-02", "to": "2025-07-02"})
    assert first == []
    assert [entry["detail"] for entry in second] == [body]


def test_filters_by_kind(client, child):
    found = entries(client, child, "charity_manager", kind=["meeting_decision", "outcome"])
    assert [entry["kind"] for entry in found] == ["meeting_decision"]
    contacts = client.get(
        f"/api/v1/children/{child.child_id}/chronology?kind=contact&kind=significant_note",
        headers=child.headers("charity_manager"),
    ).json["entries"]
    assert {entry["kind"] for entry in contacts} == {"contact", "significant_note"}
    assert FORMULA in [entry["detail"] for entry in contacts]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"from": "not a date"}, "from"),
        ({"from": "1999-12-31"}, "from"),
        ({"kind": "gossip"}, "kind"),
    ],
)
def test_a_filter_that_cannot_be_used_is_a_422(client, child, query, field):
    response = read(client, child, "yjs_manager", **query)
    assert response.status_code == 422
    assert field in json.dumps(response.json["errors"])


# --- the audit -----------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(HOLDS))
def test_reading_it_is_audited_once_per_referral_it_draws_on(app, client, child, who):
    read(client, child, who)
    events = chronology_reads(app, child.user(who).id)
    held = {getattr(child, name)["id"] for name in HOLDS[who]}
    assert sorted(event.record_id for event in events) == sorted(held)
    assert {(event.record_type, event.reason, event.outcome) for event in events} == {
        ("referral", "chronology", "success")
    }


def test_the_audit_names_only_the_referrals_whose_events_were_shown(app, client, child):
    read(client, child, "charity_manager", kind="meeting_decision")
    events = chronology_reads(app, child.world.charity_manager.user.id)
    assert [event.record_id for event in events] == [child.a["id"]]
    assert events[0].fields == ["meeting_decision"]
    assert events[0].record_ids is not None


# --- cost ------------------------------------------------------------------------------


def test_a_handful_of_statements_whatever_the_number_of_referrals(app, client, child):
    app.config["QUERY_COUNT_HEADER"] = True
    try:
        before = read(client, child, "charity_manager")
        council, charity = child.council_referrer, child.world.charity_manager
        for n in range(6):
            more = create(client, council, child.world.charity, child=None, child_id=child.child_id)
            assert act(client, council, more["id"], "submit").status_code == 200
            assert act(client, charity, more["id"], "accept").status_code == 200
            note(client, council, more, f"Contact number {n}")
        after = read(client, child, "charity_manager")
    finally:
        app.config["QUERY_COUNT_HEADER"] = False
    assert len(after.json["referrals"]) == len(before.json["referrals"]) + 6
    statements = int(after.headers["X-Query-Count"])
    assert statements == int(before.headers["X-Query-Count"])
    # The child, its referrals, four sources, the audit: and the request's own.
    print("STATEMENTS", statements)
    assert statements <= 12
