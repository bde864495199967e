"""Screenings through the API: the tool's definition, who completes, reads
and judges screenings, and every refusal named for the attack or the
mistake it stops."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from referral_app.extensions import db
from referral_app.models import Screening
from referral_app.services.audit import DISCLOSURES
from referral_app.services.audit_search import ACTIONS
from tests.actions.conftest import audit_events, end_share
from tests.factories import commit_and_seal
from tests.referral_helpers import create, share_with
from tests.screenings.conftest import answers, judge, screen

# --- the tool -------------------------------------------------------------------


def test_the_current_tool_is_read_as_data_by_case_roles(client, world):
    got = client.get("/api/v1/screening-tools/current", headers=world.officer.headers)
    assert got.status_code == 200
    assert got.json["version"] == 1
    indicators = [i["id"] for theme in got.json["themes"] for i in theme["indicators"]]
    assert "weapon_found" in indicators
    assert "missing_overnight" in indicators
    assert {"indicator": "weapon_found", "level": "high"} in got.json["floors"]
    assert got.json["young_age"] == 13
    assert got.json["young_floor"] == "medium"
    assert client.get("/api/v1/screening-tools/1", headers=world.officer.headers).json == got.json
    missing = client.get("/api/v1/screening-tools/7", headers=world.officer.headers)
    assert missing.status_code == 404


# --- completing and reading -----------------------------------------------------


def test_the_referrer_completes_a_screening_and_every_holder_reads_it(client, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid, answers=answers(("weapon_found",))).json
    assert made["tool_version"] == 1
    assert made["indicated_level"] == "high"
    assert made["level"] == "high"
    assert made["judgement_level"] is None
    assert made["completed_by"]["id"] == str(world.officer.user.id)
    assert made["completed_by_organisation"]["id"] == str(world.police.id)
    assert made["answers"]["weapon_found"] == {"answer": "yes", "evidence": "Seen: weapon_found."}
    assert made["answers"]["debt"] == {"answer": "no", "evidence": None}

    share_with(client, world, rid, world.charity)
    for holder in (world.officer, world.yjs_manager, world.caseworker, world.charity_worker):
        listed = client.get(f"/api/v1/referrals/{rid}/screenings", headers=holder.headers)
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json] == [made["id"]]
        one = client.get(f"/api/v1/referrals/{rid}/screenings/{made['id']}", headers=holder.headers)
        assert one.status_code == 200
        assert one.json["indicated_level"] == "high"


def test_screenings_come_latest_first(client, world, referral):
    rid = referral["id"]
    first = screen(client, world.officer, rid).json
    second = screen(client, world.caseworker, rid, answers=answers(("adult_control",))).json
    listed = client.get(f"/api/v1/referrals/{rid}/screenings", headers=world.officer.headers).json
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert [s["level"] for s in listed] == ["high", "low"]


def test_a_child_under_13_is_indicated_medium_with_no_yes_answers(client, world):
    young = create(
        client,
        world.officer,
        world.yjs,
        child={"first_name": "Ellie", "last_name": "Shaw", "date_of_birth": "2016-05-01"},
    )
    client.post(
        f"/api/v1/referrals/{young['id']}/transitions",
        json={"action": "submit"},
        headers=world.officer.headers,
    )
    made = screen(client, world.officer, young["id"]).json
    assert made["indicated_level"] == "medium"


def test_another_agency_gets_404_reading_or_completing_or_judging(client, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid).json
    outsider = world.stranger_manager
    for response in (
        client.get(f"/api/v1/referrals/{rid}/screenings", headers=outsider.headers),
        client.get(f"/api/v1/referrals/{rid}/screenings/{made['id']}", headers=outsider.headers),
        screen(client, outsider, rid, expect=None),
        judge(client, outsider, rid, made["id"], judgement_level="low", judgement_reason="x"),
    ):
        assert response.status_code == 404
        assert response.json["message"] == "No such referral."


def test_an_expired_share_sees_no_screenings(client, app, world, referral):
    rid = referral["id"]
    screen(client, world.officer, rid)
    share = share_with(client, world, rid, world.charity)
    end_share(app, share["id"])
    got = client.get(f"/api/v1/referrals/{rid}/screenings", headers=world.charity_worker.headers)
    assert got.status_code == 404


def test_a_screening_of_another_referral_is_404_under_this_one(client, world, referral):
    """A held referral's URL with a screening id of a referral one does not hold."""
    other = create(client, world.stranger_manager, world.yjs)
    client.post(
        f"/api/v1/referrals/{other['id']}/transitions",
        json={"action": "submit"},
        headers=world.stranger_manager.headers,
    )
    theirs = screen(client, world.stranger_manager, other["id"]).json
    mine = referral["id"]
    for response in (
        client.get(
            f"/api/v1/referrals/{mine}/screenings/{theirs['id']}", headers=world.officer.headers
        ),
        judge(client, world.officer, mine, theirs["id"], judgement_level="low"),
    ):
        assert response.status_code == 404


def test_a_draft_has_no_screenings_yet(client, world):
    draft = create(client, world.officer, world.yjs)
    refused = screen(client, world.officer, draft["id"], expect=409)
    assert "submit the referral first" in refused.json["message"]
    # The receiving agency does not hold a draft at all.
    assert screen(client, world.yjs_manager, draft["id"], expect=None).status_code == 404


def test_every_indicator_must_be_answered_and_every_yes_needs_evidence(client, world, referral):
    given = answers()
    del given["debt"]
    given["weapon_found"] = {"answer": "yes"}
    given["made_up"] = {"answer": "no"}
    refused = screen(client, world.officer, referral["id"], expect=422, answers=given)
    errors = refused.json["errors"]
    assert errors["answers.debt"] == ["Answer yes, no or not known."]
    assert errors["answers.weapon_found.evidence"] == ["Say what you saw or were told."]
    assert errors["answers.made_up"] == ["Not a question of this version of the tool."]
    bad = answers()
    bad["debt"] = {"answer": "maybe"}
    assert (
        screen(client, world.officer, referral["id"], expect=None, answers=bad).status_code == 422
    )


# --- the judgement --------------------------------------------------------------


def test_the_receiving_manager_records_a_different_judgement_with_a_reason(client, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid).json
    assert made["indicated_level"] == "low"
    without = judge(client, world.yjs_manager, rid, made["id"], judgement_level="high")
    assert without.status_code == 422
    assert "judgement_reason" in without.json["errors"]
    judged = judge(
        client,
        world.yjs_manager,
        rid,
        made["id"],
        judgement_level="high",
        judgement_reason="Seen with older males at the station twice this week.",
    )
    assert judged.status_code == 200, judged.json
    assert judged.json["indicated_level"] == "low"
    assert judged.json["judgement_level"] == "high"
    assert judged.json["level"] == "high"
    assert judged.json["judged_by"]["id"] == str(world.yjs_manager.user.id)
    assert judged.json["judgement_reason"].startswith("Seen with older males")


def test_a_judgement_that_agrees_needs_no_reason(client, world, referral):
    made = screen(client, world.officer, referral["id"]).json
    agreed = judge(client, world.officer, referral["id"], made["id"], judgement_level="low")
    assert agreed.status_code == 200
    assert agreed.json["judgement_reason"] is None


def test_a_judgement_given_on_completion_needs_a_reason_when_it_differs(client, world, referral):
    rid = referral["id"]
    refused = screen(client, world.officer, rid, expect=422, judgement_level="medium")
    assert "judgement_reason" in refused.json["errors"]
    made = screen(
        client, world.officer, rid, judgement_level="medium", judgement_reason="Mother worried."
    ).json
    assert (made["indicated_level"], made["level"]) == ("low", "medium")


def test_only_the_receiving_manager_or_the_completer_judges(client, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid).json
    share_with(client, world, rid, world.charity)
    for other in (world.caseworker, world.police_manager, world.charity_manager):
        refused = judge(client, other, rid, made["id"], judgement_level="low")
        assert refused.status_code == 403, other
    assert judge(client, world.officer, rid, made["id"], judgement_level="low").status_code == 200


# --- versions and audit ---------------------------------------------------------


def test_an_old_screening_reads_with_the_version_it_was_made_with(client, app, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid).json
    with app.app_context():
        db.session.execute(
            update(Screening).where(Screening.id == uuid.UUID(made["id"])).values(tool_version=999)
        )
        commit_and_seal(app)
    got = client.get(f"/api/v1/referrals/{rid}/screenings", headers=world.officer.headers)
    assert got.json[0]["tool_version"] == 999
    assert (
        client.get("/api/v1/screening-tools/999", headers=world.officer.headers).status_code == 404
    )


def test_completing_judging_and_reading_are_audited(client, app, world, referral):
    rid = referral["id"]
    made = screen(client, world.officer, rid).json
    judge(client, world.yjs_manager, rid, made["id"], judgement_level="high", judgement_reason="R.")
    client.get(f"/api/v1/referrals/{rid}/screenings", headers=world.caseworker.headers)
    completed = audit_events(app, "referral.screening_completed", world.officer)
    judged = audit_events(app, "referral.screening_judged", world.yjs_manager)
    read = audit_events(app, "referral.screenings_read", world.caseworker)
    assert [e.record_ids for e in completed] == [[made["id"]]]
    assert [e.record_ids for e in judged] == [[made["id"]]]
    assert [e.record_ids for e in read] == [[made["id"]]]
    assert str(read[0].record_id) == rid
    assert "referral.screenings_read" in DISCLOSURES
    for action in (
        "referral.screening_completed",
        "referral.screening_judged",
        "referral.screenings_read",
        "report.screening_themes",
    ):
        assert action in ACTIONS
