"""Consent through the API: the history is recorded, never overwritten; a
withdrawal flags every live share and gives its granting agency an action;
the decision (continue on another basis, or revoke) and every refusal,
named for the attack or the mistake it stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from referral_app.models import uk_today
from referral_app.services.audit import DISCLOSURES
from referral_app.services.audit_search import ACTIONS
from referral_app.services.consent_decisions import add_working_days
from tests.actions.conftest import audit_events, end_share
from tests.consent.conftest import decide, record, shares
from tests.referral_helpers import advance, create, share_with

# --- the history -------------------------------------------------------------


def test_making_a_referral_records_its_consent_as_the_first_change(client, world, referral):
    got = client.get(f"/api/v1/referrals/{referral['id']}/consent", headers=world.officer.headers)
    assert got.status_code == 200
    assert got.json["current_status"] == "obtained_from_parent"
    [first] = got.json["changes"]
    assert first["status"] == "obtained_from_parent"
    assert first["given_by"] == "parent_or_carer"
    assert first["method"] == "on_the_referral"
    assert first["recorded_by"]["id"] == str(world.officer.user.id)


def test_changes_are_added_to_the_history_not_overwritten(client, world, referral):
    rid = referral["id"]
    record(client, world.caseworker, rid, status="withdrawn", note="Mum rang the office.")
    record(client, world.officer, rid, status="obtained_from_child", method="in_person")
    got = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.yjs_manager.headers).json
    assert [c["status"] for c in got["changes"]] == [
        "obtained_from_parent",
        "withdrawn",
        "obtained_from_child",
    ]
    assert got["changes"][1]["note"] == "Mum rang the office."
    assert got["changes"][1]["recorded_by_organisation"]["id"] == str(world.yjs.id)
    assert got["changes"][2]["given_by"] == "child"
    assert got["current_status"] == "obtained_from_child"
    detail = client.get(f"/api/v1/referrals/{rid}", headers=world.officer.headers).json
    assert detail["consent_status"] == "obtained_from_child"


def test_a_shared_agency_reads_the_history_but_records_nothing(client, world, referral):
    rid = referral["id"]
    share_with(client, world, rid, world.charity)
    got = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.charity_worker.headers)
    assert got.status_code == 200
    assert len(got.json["changes"]) == 1
    refused = record(client, world.charity_worker, rid, expect=403)
    assert refused.json["code"] == "forbidden"


def test_an_agency_that_does_not_hold_the_referral_gets_404(client, app, world, referral):
    rid = referral["id"]
    for outsider in (world.stranger, world.stranger_manager):
        assert (
            client.get(f"/api/v1/referrals/{rid}/consent", headers=outsider.headers).status_code
            == 404
        )
        assert record(client, outsider, rid, expect=None).status_code == 404
    grant = share_with(client, world, rid, world.charity)
    end_share(app, grant["id"])
    expired = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.charity_worker.headers)
    assert expired.status_code == 404
    revoked = share_with(client, world, rid, world.charity)
    client.delete(
        f"/api/v1/referrals/{rid}/shares/{revoked['id']}", headers=world.yjs_manager.headers
    )
    gone = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.charity_worker.headers)
    assert gone.status_code == 404


def test_a_draft_has_no_history_to_record_into(client, world):
    draft = create(client, world.officer, world.yjs)
    refused = record(client, world.officer, draft["id"], expect=409)
    assert "draft" in refused.json["message"]


def test_bad_changes_are_refused_with_field_errors_and_change_nothing(client, world, referral):
    rid = referral["id"]
    now = datetime.now(UTC)
    good = {"status": "withdrawn", "given_by": "child", "method": "phone"}
    cases = [
        ({"status": "withdrawn", "method": "phone"}, "given_by"),
        ({"status": "refused", "method": "letter_or_form"}, "given_by"),
        (
            {"status": "obtained_from_child", "given_by": "parent_or_carer", "method": "phone"},
            "given_by",
        ),
        ({**good, "method": "on_the_referral"}, "method"),
        ({"status": "not_sought", "method": "other"}, "note"),
        ({**good, "occurred_at": (now + timedelta(days=2)).isoformat()}, "occurred_at"),
        ({**good, "status": "maybe"}, "status"),
        ({**good, "occurred_at": "2026-11-02T10:00:00"}, "occurred_at"),
        ({"status": "withdrawn", "given_by": "child"}, "method"),
    ]
    for body, field in cases:
        body.setdefault("occurred_at", now.isoformat())
        response = client.post(
            f"/api/v1/referrals/{rid}/consent", json=body, headers=world.officer.headers
        )
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["errors"], (body, response.json)
    got = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.officer.headers).json
    assert len(got["changes"]) == 1
    assert got["current_status"] == "obtained_from_parent"


def test_the_referral_form_cannot_set_withdrawn(client, world):
    refused = client.post(
        "/api/v1/referrals",
        json={
            "child": {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "2012-01-01"},
            "receiving_organisation_id": str(world.yjs.id),
            "consent_status": "withdrawn",
        },
        headers=world.officer.headers,
    )
    assert refused.status_code == 422
    assert "consent_status" in refused.json["errors"]


# --- withdrawal acts ------------------------------------------------------------


def test_withdrawal_flags_each_live_share_and_gives_the_granting_agency_an_action(
    client, app, world, referral
):
    rid = referral["id"]
    live = share_with(client, world, rid, world.charity)
    made = record(client, world.officer, rid).json
    assert made["status"] == "withdrawn"
    assert made["shares_flagged"] == 1

    for holder in (world.yjs_manager, world.officer, world.charity_worker):
        seen = shares(client, holder, rid)[live["id"]]
        assert seen["consent_decision_needed"] is True
        assert seen["consent_decision"] is None
        assert seen["consent_withdrawn_at"] is not None

    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers)
    [action] = listed.json
    assert action["owning_organisation"]["id"] == str(world.yjs.id)
    assert action["description"] == (
        f"Consent withdrawn: decide whether to keep sharing with {world.charity.name}"
    )
    assert action["due_on"] == add_working_days(uk_today(), 2).isoformat()
    # The granting agency's managers hear of it, as of an action agreed for them.
    notes = client.get("/api/v1/notifications", headers=world.yjs_manager.headers).json
    assert any(n["kind"] == "action_assigned" for n in notes)
    assert audit_events(app, "referral.action_added", world.officer)


def test_withdrawal_leaves_revoked_and_expired_shares_alone(client, app, world, referral):
    rid = referral["id"]
    expired = share_with(client, world, rid, world.charity)
    end_share(app, expired["id"])
    revoked = share_with(client, world, rid, world.charity)
    client.delete(
        f"/api/v1/referrals/{rid}/shares/{revoked['id']}", headers=world.yjs_manager.headers
    )
    made = record(client, world.caseworker, rid).json
    assert made["shares_flagged"] == 0
    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers)
    assert listed.json == []
    for grant in shares(client, world.yjs_manager, rid).values():
        assert grant["consent_decision_needed"] is False


def test_withdrawing_twice_makes_no_second_action(client, world, referral):
    rid = referral["id"]
    share_with(client, world, rid, world.charity)
    assert record(client, world.officer, rid).json["shares_flagged"] == 1
    assert record(client, world.caseworker, rid, method="email").json["shares_flagged"] == 0
    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers)
    assert len(listed.json) == 1


def test_withdrawal_of_consent_never_given_acts_only_on_shares_resting_on_it(client, world):
    made = create(client, world.officer, world.yjs, consent_status="refused")
    advance(client, world, made["id"], "submitted")
    share_with(client, world, made["id"], world.charity)
    assert record(client, world.officer, made["id"]).json["shares_flagged"] == 0


def test_the_granting_agency_is_the_one_whose_manager_shared(client, world, referral):
    rid = referral["id"]
    response = client.post(
        f"/api/v1/referrals/{rid}/shares",
        json={
            "organisation_id": str(world.charity.id),
            "purpose": "Mentoring",
            "lawful_basis": "consent",
            "no_agreement_reason": "No agreement with the charity yet",
            "expires_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        },
        headers=world.police_manager.headers,
    )
    assert response.status_code == 201, response.json
    record(client, world.caseworker, rid)
    listed = client.get(f"/api/v1/referrals/{rid}/actions", headers=world.officer.headers).json
    assert [a["owning_organisation"]["id"] for a in listed] == [str(world.police.id)]
    # The receiving agency holds the referral but did not grant the share.
    other = decide(
        client, world.yjs_manager, rid, response.json["id"], decision="revoke", reason="No."
    )
    assert other.status_code == 403


# --- the decision ----------------------------------------------------------------


def test_continuing_on_another_basis_records_the_decision_and_closes_the_action(
    client, app, world, referral
):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    decided = decide(
        client,
        world.yjs_manager,
        rid,
        grant["id"],
        decision="continue",
        lawful_basis="vital_interests",
        reason="He went missing again last night.",
    )
    assert decided.status_code == 200, decided.json
    assert decided.json["consent_decision"] == "continue"
    assert decided.json["consent_decision_basis"] == "vital_interests"
    assert decided.json["lawful_basis"] == "vital_interests"
    assert decided.json["consent_decision_needed"] is False
    assert decided.json["revoked_at"] is None
    [action] = client.get(
        f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers
    ).json
    assert action["status"] == "done"
    assert action["closing_note"] == "Kept sharing: He went missing again last night."
    seen = shares(client, world.charity_worker, rid)[grant["id"]]
    assert seen["consent_decision_needed"] is False
    [event] = audit_events(app, "referral.consent_decided", world.yjs_manager)
    assert event.recipient_organisation_id == world.charity.id
    again = decide(client, world.yjs_manager, rid, grant["id"], decision="revoke", reason="x")
    assert again.status_code == 409


def test_revoking_ends_the_share_at_once(client, world, referral):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    decided = decide(
        client, world.yjs_manager, rid, grant["id"], decision="revoke", reason="Mum said no."
    )
    assert decided.status_code == 200, decided.json
    assert decided.json["consent_decision"] == "revoke"
    assert decided.json["revoked_at"] is not None
    gone = client.get(f"/api/v1/referrals/{rid}", headers=world.charity_worker.headers)
    assert gone.status_code == 404
    [action] = client.get(
        f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers
    ).json
    assert action["status"] == "done"
    assert (
        decide(
            client, world.yjs_manager, rid, grant["id"], decision="revoke", reason="x"
        ).status_code
        == 409
    )


def test_continuing_needs_a_basis_other_than_consent_and_a_reason(client, world, referral):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    cases = [
        ({"decision": "continue", "reason": "Still at risk."}, "lawful_basis"),
        ({"decision": "continue", "lawful_basis": "consent", "reason": "x"}, "lawful_basis"),
        ({"decision": "continue", "lawful_basis": "public_task"}, "reason"),
        ({"decision": "revoke", "reason": "   "}, "reason"),
        ({"decision": "maybe", "reason": "x"}, "decision"),
    ]
    for body, field in cases:
        refused = decide(client, world.yjs_manager, rid, grant["id"], **body)
        assert refused.status_code == 422, (body, refused.json)
        assert field in refused.json["errors"], (body, refused.json)
    assert shares(client, world.yjs_manager, rid)[grant["id"]]["consent_decision_needed"] is True


def test_who_may_decide(client, world, referral):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    body = {"decision": "revoke", "reason": "Mum said no."}
    # Nothing to decide before a withdrawal.
    assert decide(client, world.yjs_manager, rid, grant["id"], **body).status_code == 409
    record(client, world.officer, rid)
    # The shared agency's manager holds the referral but did not grant the share.
    assert decide(client, world.charity_manager, rid, grant["id"], **body).status_code == 403
    # The referring agency's manager did not grant it either.
    assert decide(client, world.police_manager, rid, grant["id"], **body).status_code == 403
    # A caseworker of the granting agency may not manage shares.
    assert decide(client, world.caseworker, rid, grant["id"], **body).status_code == 403
    # An agency that does not hold the referral: it does not exist.
    assert decide(client, world.stranger_manager, rid, grant["id"], **body).status_code == 404
    # A share of another referral, or none.
    other = create(client, world.officer, world.yjs)
    assert decide(client, world.yjs_manager, other["id"], grant["id"], **body).status_code == 404
    assert shares(client, world.yjs_manager, rid)[grant["id"]]["consent_decision_needed"] is True


# --- audit ----------------------------------------------------------------------------


def test_reading_and_recording_are_audited_and_labelled(client, app, world, referral):
    rid = referral["id"]
    client.get(f"/api/v1/referrals/{rid}/consent", headers=world.caseworker.headers)
    record(client, world.caseworker, rid)
    [read] = audit_events(app, "referral.consent_read", world.caseworker)
    assert str(read.record_id) == rid
    [recorded] = audit_events(app, "referral.consent_recorded", world.caseworker)
    assert "status" in recorded.fields
    assert "referral.consent_read" in DISCLOSURES
    for action in (
        "referral.consent_read",
        "referral.consent_recorded",
        "referral.consent_decided",
    ):
        assert action in ACTIONS


def test_a_decision_is_due_in_two_working_days():
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 2) == date(2026, 12, 1)
    # Christmas Day and Boxing Day (moved to Monday the 28th) are not working days.
    assert add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 30)


def test_editing_the_status_on_the_referral_keeps_what_it_said_before(client, world):
    made = create(client, world.officer, world.yjs, consent_status="refused")
    rid = made["id"]
    before = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.officer.headers).json
    [first] = before["changes"]
    etag = client.get(f"/api/v1/referrals/{rid}", headers=world.officer.headers).headers["ETag"]
    edited = client.patch(
        f"/api/v1/referrals/{rid}",
        json={"consent_status": "obtained_from_child"},
        headers={**world.officer.headers, "If-Match": etag},
    )
    assert edited.status_code == 200, edited.json
    after = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.officer.headers).json
    assert [c["status"] for c in after["changes"]] == ["refused", "obtained_from_child"]
    # The first change is the same one, read before and after it was written.
    assert after["changes"][0]["id"] == first["id"]
    assert after["changes"][1]["method"] == "on_the_referral"


def _revoke(client, actor, rid: str, share_id: str) -> None:
    response = client.delete(f"/api/v1/referrals/{rid}/shares/{share_id}", headers=actor.headers)
    assert response.status_code == 200, response.json


def test_revoking_from_the_shares_list_is_the_decision_and_closes_the_action(
    client, app, world, referral
):
    """The granting manager revokes a flagged share the ordinary way: the
    revocation stands as the decision and the action is done."""
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    _revoke(client, world.yjs_manager, rid, grant["id"])
    seen = shares(client, world.yjs_manager, rid)[grant["id"]]
    assert seen["consent_decision"] == "revoke"
    assert seen["consent_decision_needed"] is False
    [action] = client.get(
        f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers
    ).json
    assert action["status"] == "done"
    assert action["closing_note"] == "The share was revoked from the referral's shares."
    assert audit_events(app, "referral.consent_decided", world.yjs_manager)
    late = decide(client, world.yjs_manager, rid, grant["id"], decision="revoke", reason="x")
    assert late.status_code == 409


def test_a_share_revoked_by_another_agency_cancels_the_granting_agencys_action(
    client, world, referral
):
    """The police manager revokes the youth justice service's share: the
    youth justice service has nothing left to decide, so its action is
    cancelled (not left open in its worklist)."""
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    _revoke(client, world.police_manager, rid, grant["id"])
    [action] = client.get(
        f"/api/v1/referrals/{rid}/actions", headers=world.yjs_manager.headers
    ).json
    assert action["status"] == "cancelled"
    assert action["owning_organisation"]["id"] == str(world.yjs.id)
