"""Agreements through the API: who records, reads and changes them, the
refusals, and a share that must cite one (or say why it has none)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Notification, NotificationKind, OutboxEmail, Share
from referral_app.services.audit import DISCLOSURES
from referral_app.services.audit_search import ACTIONS
from tests.actions.conftest import audit_events
from tests.agreements.conftest import agreement_body, make_agreement, share

NEITHER = (
    "Choose the information sharing agreement that covers this share, "
    "or say why you are sharing without one."
)


def _shares(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Share)) or 0


# --- the agreements ---------------------------------------------------------------


def test_a_manager_records_an_agreement_its_parties_read(client, world, auditors):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    assert made["in_force"] is True
    assert {party["name"] for party in made["parties"]} == {world.yjs.name, world.charity.name}
    for actor in (world.caseworker, world.charity_worker, auditors["yjs"], auditors["charity"]):
        listed = client.get("/api/v1/agreements", headers=actor.headers)
        assert [a["id"] for a in listed.json] == [made["id"]]
        one = client.get(f"/api/v1/agreements/{made['id']}", headers=actor.headers)
        assert one.status_code == 200
        assert one.headers["ETag"]


def test_an_agency_not_a_party_gets_404_and_an_empty_list(client, world, auditors):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    for actor in (world.officer, world.police_manager, world.stranger, auditors["police"]):
        assert client.get("/api/v1/agreements", headers=actor.headers).json == []
        got = client.get(f"/api/v1/agreements/{made['id']}", headers=actor.headers)
        assert got.status_code == 404
    patched = client.patch(
        f"/api/v1/agreements/{made['id']}",
        json={"purposes": "Taken over."},
        headers={**world.police_manager.headers, "If-Match": '"anything"'},
    )
    assert patched.status_code == 404


def test_only_managers_record_and_change_agreements(client, world, auditors):
    for actor in (world.caseworker, auditors["yjs"]):
        make_agreement(client, actor, world.yjs, world.charity, expect=403)


def test_an_agreement_needs_two_parties_including_ones_own_and_sound_dates(client, world):
    refused = make_agreement(client, world.yjs_manager, world.yjs, expect=422).json
    assert refused["errors"]["party_ids"] == ["Choose at least two agencies: yours and another."]
    refused = make_agreement(client, world.yjs_manager, world.police, world.charity, expect=422)
    assert refused.json["errors"]["party_ids"] == ["Your agency must be a party to the agreement."]
    today = date.today()
    refused = make_agreement(
        client,
        world.yjs_manager,
        world.yjs,
        world.charity,
        expect=422,
        lawful_bases=[],
        data_categories=[],
        review_on=(today - timedelta(days=60)).isoformat(),
        ends_on=(today - timedelta(days=60)).isoformat(),
    ).json["errors"]
    assert set(refused) == {"lawful_bases", "data_categories", "review_on", "ends_on"}
    unknown = make_agreement(
        client, world.yjs_manager, world.yjs, world.charity, expect=422, lawful_bases=["whim"]
    )
    assert "lawful_bases" in unknown.json["errors"]


def test_a_change_needs_the_etag_and_is_audited_with_the_fields_changed(client, app, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    path = f"/api/v1/agreements/{made['id']}"
    body = {"ends_on": date.today().isoformat(), "purposes": "Diversion."}
    assert client.patch(path, json=body, headers=world.yjs_manager.headers).status_code == 428
    tag = client.get(path, headers=world.yjs_manager.headers).headers["ETag"]
    stale = {**world.charity_manager.headers, "If-Match": '"stale"'}
    assert client.patch(path, json=body, headers=stale).status_code == 412
    changed = client.patch(
        path, json=body, headers={**world.charity_manager.headers, "If-Match": tag}
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["ends_on"] == date.today().isoformat()
    updated = audit_events(app, "agreement.updated", world.charity_manager)
    assert [e.fields for e in updated] == [["ends_on", "purposes"]]
    assert audit_events(app, "agreement.created", world.yjs_manager)
    assert audit_events(app, "agreement.read", world.yjs_manager)
    for action in ("agreement.created", "agreement.updated", "agreement.read"):
        assert action in ACTIONS


# --- shares cite an agreement -----------------------------------------------------


def test_a_share_citing_a_covering_agreement_is_made_and_shows_it(client, world, referral):
    agreement = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    made = share(
        client, world.yjs_manager, referral["id"], world.charity, agreement_id=agreement["id"]
    )
    assert made.status_code == 201, made.json
    assert made.json["agreement_id"] == agreement["id"]
    assert made.json["no_agreement_reason"] is None


def test_a_share_with_neither_agreement_nor_reason_is_refused_and_nothing_shared(
    client, app, world, referral
):
    before = _shares(app)
    refused = share(client, world.yjs_manager, referral["id"], world.charity)
    assert refused.status_code == 422
    assert refused.json["errors"]["agreement_id"] == [NEITHER]
    assert _shares(app) == before
    got = client.get(f"/api/v1/referrals/{referral['id']}", headers=world.charity_worker.headers)
    assert got.status_code == 404


def test_a_share_is_refused_citing_an_agreement_that_does_not_cover_it(
    client, app, world, referral
):
    today = date.today()
    ended = make_agreement(
        client,
        world.yjs_manager,
        world.yjs,
        world.charity,
        starts_on=(today - timedelta(days=90)).isoformat(),
        ends_on=(today - timedelta(days=1)).isoformat(),
    ).json
    future = make_agreement(
        client,
        world.yjs_manager,
        world.yjs,
        world.charity,
        starts_on=(today + timedelta(days=5)).isoformat(),
    ).json
    without_recipient = make_agreement(client, world.yjs_manager, world.yjs, world.police).json
    other_basis = make_agreement(
        client, world.yjs_manager, world.yjs, world.charity, lawful_bases=["consent"]
    ).json
    not_ours = make_agreement(client, world.police_manager, world.police, world.charity).json
    cases = {
        ended["id"]: "This agreement is not in force today.",
        future["id"]: "This agreement is not in force today.",
        without_recipient["id"]: "This agreement does not name the agency you are sharing with.",
        other_basis["id"]: "This agreement does not cover sharing on this lawful basis.",
        not_ours["id"]: "Choose an agreement your agency is a party to.",
        str(uuid.uuid4()): "Choose an agreement your agency is a party to.",
    }
    before = _shares(app)
    for agreement_id, message in cases.items():
        refused = share(
            client, world.yjs_manager, referral["id"], world.charity, agreement_id=agreement_id
        )
        assert refused.status_code == 422
        assert refused.json["errors"]["agreement_id"] == [message]
    assert _shares(app) == before


def test_a_reason_must_say_something(client, world, referral):
    refused = share(
        client, world.yjs_manager, referral["id"], world.charity, no_agreement_reason="Urgent"
    )
    assert refused.status_code == 422
    assert "no_agreement_reason" in refused.json["errors"]


def test_a_share_with_a_reason_is_made_audited_and_told_to_both_agencies_auditors(
    client, app, world, referral, auditors
):
    reason = "Emergency: the child is missing tonight and the charity's outreach team may see him"
    made = share(
        client, world.yjs_manager, referral["id"], world.charity, no_agreement_reason=reason
    )
    assert made.status_code == 201, made.json
    assert made.json["no_agreement_reason"] == reason
    assert made.json["agreement_id"] is None
    events = audit_events(app, "referral.shared_without_agreement", world.yjs_manager)
    assert [e.record_ids for e in events] == [[made.json["id"]]]
    assert "referral.shared_without_agreement" in ACTIONS
    for name, told in (("yjs", True), ("charity", True), ("police", False)):
        listed = client.get("/api/v1/notifications", headers=auditors[name].headers).json
        notices = [n for n in listed if n["kind"] == "shared_without_agreement"]
        assert bool(notices) is told, name
        if told:
            (notice,) = notices
            assert notice["referral_id"] is None
            assert reason in notice["notice"]
            assert world.yjs.name in notice["notice"]
            assert world.charity.name in notice["notice"]
            assert "Jayden" not in notice["notice"]
            assert "Miller" not in notice["notice"]
    with app.app_context():
        mails = db.session.scalars(select(OutboxEmail.body)).all()
        assert not any("Jayden" in body or reason in body for body in mails)


def test_a_covered_share_tells_no_auditor(client, app, world, referral, auditors):
    agreement = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    share(client, world.yjs_manager, referral["id"], world.charity, agreement_id=agreement["id"])
    with app.app_context():
        kinds = db.session.scalars(select(Notification.kind)).all()
    assert NotificationKind.SHARED_WITHOUT_AGREEMENT not in kinds
    assert audit_events(app, "referral.shared_without_agreement", world.yjs_manager) == []


# --- the report -------------------------------------------------------------------


def test_the_report_counts_shares_per_agreement_and_lists_those_without(client, world, auditors):
    from tests.referral_helpers import advance, create

    agreement = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    other = make_agreement(client, world.police_manager, world.police, world.charity).json
    rids = []
    for _ in range(3):
        made = create(client, world.officer, world.yjs)
        advance(client, world, made["id"], "accepted")
        rids.append(made["id"])
    for rid in rids[:2]:
        assert (
            share(
                client, world.yjs_manager, rid, world.charity, agreement_id=agreement["id"]
            ).status_code
            == 201
        )
    reason = "Emergency out of hours: no agreement with the council yet"
    assert (
        share(
            client, world.yjs_manager, rids[2], world.stranger_org, no_agreement_reason=reason
        ).status_code
        == 201
    )
    for actor in (world.yjs_manager, auditors["yjs"]):
        got = client.get("/api/v1/reports/agreements", headers=actor.headers)
        assert got.status_code == 200, got.json
        (line,) = got.json["agreements"]
        assert line["agreement_id"] == agreement["id"]
        assert (line["granted"], line["live"]) == (2, 2)
        assert line["by_recipient"] == [
            {"key": str(world.charity.id), "label": world.charity.name, "count": 2}
        ]
        assert line["by_basis"] == [{"key": "public_task", "label": "Public task", "count": 2}]
        (without,) = got.json["without_agreement"]
        assert without["reason"] == reason
        assert without["recipient_organisation"]["name"] == world.stranger_org.name
        assert "Jayden" not in got.text
    # The police are not party to the yjs agreement and made no shares: theirs reads zero.
    police = client.get("/api/v1/reports/agreements", headers=world.police_manager.headers).json
    assert [(a["agreement_id"], a["granted"]) for a in police["agreements"]] == [(other["id"], 0)]
    assert police["without_agreement"] == []
    assert (
        client.get("/api/v1/reports/agreements", headers=world.caseworker.headers).status_code
        == 403
    )
    assert "report.agreements" in DISCLOSURES


def test_the_report_refuses_a_period_that_ends_before_it_starts(client, world):
    got = client.get(
        "/api/v1/reports/agreements?start=2026-05-01&end=2026-04-01",
        headers=world.yjs_manager.headers,
    )
    assert got.status_code == 422
    assert "start" in got.json["errors"]


def test_the_example_agreement_body_is_accepted_by_its_schema():
    from schemas.agreement import AgreementCreateSchema

    body = agreement_body()
    body["party_ids"] = [str(uuid.uuid4()), str(uuid.uuid4())]
    assert AgreementCreateSchema().load(body)["title"]
