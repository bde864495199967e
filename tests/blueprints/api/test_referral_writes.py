"""Writes: bad input gets field errors and changes nothing; ETag and If-Match;
Idempotency-Key; a failure half-way leaves nothing half-written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import (
    Child,
    IdempotencyRecord,
    Note,
    ReferenceCounter,
    Referral,
    Share,
    StatusChange,
)
from tests.referral_helpers import (
    SHARE_REASON,
    advance,
    create,
    make_world,
    referral_body,
    share_with,
)

TABLES = (Child, Referral, StatusChange, Share, Note, IdempotencyRecord)


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def future(days: int = 1) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


BAD_CREATES = [
    ({"unexpected": 1}, "unexpected"),
    ({"risk_level": "extreme"}, "risk_level"),
    ({"risk_factors": ["county_lines", "bad_vibes"]}, "risk_factors"),
    ({"consent_status": "not_sought"}, "consent_notes"),
    ({"lawful_basis": "because"}, "lawful_basis"),
    ({"reason": "x" * 5001}, "reason"),
    ({"receiving_organisation_id": "nope"}, "receiving_organisation_id"),
    (
        {"receiving_organisation_id": "00000000-0000-4000-8000-000000000000"},
        "receiving_organisation_id",
    ),
    ({"child": None}, "child"),
    ({"child_id": "00000000-0000-4000-8000-000000000000"}, "child"),
    ({"child": {"first_name": "A", "last_name": "B", "date_of_birth": future()}}, "child"),
    ({"child": {"first_name": "A", "last_name": "B", "date_of_birth": "1970-01-01"}}, "child"),
    ({"child": {"first_name": "", "last_name": "B", "date_of_birth": "2012-01-01"}}, "child"),
    ({"child": {"first_name": "A", "last_name": "B", "date_of_birth": "2012-02-30"}}, "child"),
    (
        {"child": {"first_name": "A", "last_name": "B", "date_of_birth": "2012-01-01", "x": 1}},
        "child",
    ),
    (
        {
            "child": {
                "first_name": "A",
                "last_name": "B",
                "date_of_birth": "2012-01-01",
                "postcode": "NOPE",
            }
        },
        "child",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_CREATES)
def test_bad_create_gets_field_errors_and_changes_nothing(app, client, world, overrides, field):
    before = row_counts(app)
    response = client.post(
        "/api/v1/referrals",
        json=referral_body(world.yjs, **overrides)
        if overrides.get("child", 0) is not None
        else {k: v for k, v in referral_body(world.yjs).items() if k != "child"},
        headers=world.officer.headers,
    )
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert row_counts(app) == before


def test_referral_to_own_agency_is_refused(app, client, world):
    before = row_counts(app)
    response = client.post(
        "/api/v1/referrals", json=referral_body(world.police), headers=world.officer.headers
    )
    assert response.status_code == 422
    assert "receiving_organisation_id" in response.json["errors"]
    assert row_counts(app) == before


def test_whitespace_is_stripped_and_postcode_normalised(client, world):
    body = referral_body(world.yjs, reason="  Seen with older males.  ")
    body["child"]["first_name"] = "  Jayden "
    created = client.post("/api/v1/referrals", json=body, headers=world.officer.headers).json
    assert created["reason"] == "Seen with older males."
    assert created["child"]["first_name"] == "Jayden"
    assert created["child"]["postcode"] == "SS1 2AA"


def write_routes(case, world):
    rid = case["id"]
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    return [
        ("PATCH", f"/api/v1/referrals/{rid}", {"risk_level": "catastrophic"}, "risk_level"),
        ("PATCH", f"/api/v1/referrals/{rid}", {"reference": "R-0000-000001"}, "reference"),
        ("PATCH", f"/api/v1/referrals/{rid}", {}, "_schema"),
        ("POST", f"/api/v1/referrals/{rid}/transitions", {"action": "fly"}, "action"),
        ("POST", f"/api/v1/referrals/{rid}/transitions", {"action": "close", "x": 1}, "x"),
        ("POST", f"/api/v1/referrals/{rid}/notes", {"body": ""}, "body"),
        ("POST", f"/api/v1/referrals/{rid}/notes", {"body": "x", "kind": "gossip"}, "kind"),
        (
            "POST",
            f"/api/v1/referrals/{rid}/notes",
            {"body": "x", "visibility": "all"},
            "visibility",
        ),
        (
            "POST",
            f"/api/v1/referrals/{rid}/notes",
            {"body": "x", "occurred_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            "occurred_at",
        ),
        ("POST", f"/api/v1/referrals/{rid}/shares", {"purpose": "x"}, "organisation_id"),
        (
            "POST",
            f"/api/v1/referrals/{rid}/shares",
            {
                "organisation_id": str(world.charity.id),
                "purpose": "p",
                "lawful_basis": "public_task",
                "no_agreement_reason": SHARE_REASON,
                "expires_at": "2020-01-01T00:00:00+00:00",
            },
            "expires_at",
        ),
        (
            "POST",
            f"/api/v1/referrals/{rid}/shares",
            {
                "organisation_id": str(world.police.id),
                "purpose": "p",
                "lawful_basis": "public_task",
                "no_agreement_reason": SHARE_REASON,
                "expires_at": expires,
            },
            "organisation_id",
        ),
        (
            "POST",
            f"/api/v1/referrals/{rid}/shares",
            {
                "organisation_id": str(world.charity.id),
                "purpose": "p",
                "lawful_basis": "public_task",
                "no_agreement_reason": SHARE_REASON,
                "expires_at": "2030-01-01T00:00:00",
            },
            "expires_at",
        ),
    ]


def test_bad_input_on_every_write_route_changes_nothing(app, client, world):
    case = create(client, world.officer, world.yjs)
    advance(client, world, case["id"], "in_progress")
    for method, path, body, field in write_routes(case, world):
        etag = client.get(f"/api/v1/referrals/{case['id']}", headers=world.yjs_manager.headers)
        before = row_counts(app)
        response = client.open(
            path,
            method=method,
            json=body,
            headers={**world.yjs_manager.headers, "If-Match": etag.headers["ETag"]},
        )
        assert response.status_code == 422, (path, body, response.json)
        assert field in response.json["errors"], (path, body, response.json)
        assert row_counts(app) == before, (path, body)
        after = client.get(f"/api/v1/referrals/{case['id']}", headers=world.yjs_manager.headers)
        assert after.headers["ETag"] == etag.headers["ETag"]


def test_read_sends_an_etag_that_changes_with_the_referral(client, world):
    case = create(client, world.officer, world.yjs)
    first = client.get(f"/api/v1/referrals/{case['id']}", headers=world.officer.headers)
    assert first.headers["ETag"]
    again = client.get(
        f"/api/v1/referrals/{case['id']}",
        headers={**world.officer.headers, "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    client.post(
        f"/api/v1/referrals/{case['id']}/transitions",
        json={"action": "submit"},
        headers=world.officer.headers,
    )
    second = client.get(f"/api/v1/referrals/{case['id']}", headers=world.officer.headers)
    assert second.headers["ETag"] != first.headers["ETag"]


def test_patch_without_if_match_is_428_and_stale_is_412(app, client, world):
    case = create(client, world.officer, world.yjs)
    url = f"/api/v1/referrals/{case['id']}"
    missing = client.patch(url, json={"reason": "New reason."}, headers=world.officer.headers)
    assert missing.status_code == 428
    etag = client.get(url, headers=world.officer.headers).headers["ETag"]
    ok = client.patch(
        url, json={"reason": "New reason."}, headers={**world.officer.headers, "If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.json["reason"] == "New reason."
    assert ok.headers["ETag"] != etag
    stale = client.patch(
        url, json={"reason": "Lost update"}, headers={**world.officer.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.get(url, headers=world.officer.headers).json["reason"] == "New reason."


def test_patch_rules_follow_the_status_and_the_side(client, world):
    case = create(client, world.officer, world.yjs)
    url = f"/api/v1/referrals/{case['id']}"

    def patch(actor, body):
        etag = client.get(url, headers=world.officer.headers).headers["ETag"]
        return client.patch(url, json=body, headers={**actor.headers, "If-Match": etag})

    assert (
        patch(world.officer, {"receiving_organisation_id": str(world.charity.id)}).status_code
        == 200
    )
    assert patch(world.officer, {"receiving_organisation_id": str(world.yjs.id)}).status_code == 200
    advance(client, world, case["id"], "submitted")
    # Once submitted, the receiver is fixed, but the referrer may still correct the details.
    assert (
        patch(world.officer, {"receiving_organisation_id": str(world.charity.id)}).status_code
        == 403
    )
    assert patch(world.officer, {"risk_level": "medium"}).status_code == 200
    client.post(f"{url}/transitions", json={"action": "accept"}, headers=world.yjs_manager.headers)
    assert patch(world.officer, {"reason": "Too late"}).status_code == 403
    assert patch(world.yjs_manager, {"risk_level": "high"}).status_code == 200
    assert patch(world.yjs_manager, {"reason": "Not theirs"}).status_code == 403


def test_closed_referral_cannot_be_changed(client, world):
    case = create(client, world.officer, world.yjs)
    advance(client, world, case["id"], "closed")
    url = f"/api/v1/referrals/{case['id']}"
    etag = client.get(url, headers=world.yjs_manager.headers).headers["ETag"]
    response = client.patch(
        url, json={"risk_level": "low"}, headers={**world.yjs_manager.headers, "If-Match": etag}
    )
    assert response.status_code == 409


def test_idempotency_key_returns_the_first_response(app, client, world):
    headers = {**world.officer.headers, "Idempotency-Key": "shift-end-upload-1"}
    body = referral_body(world.yjs)
    first = client.post("/api/v1/referrals", json=body, headers=headers)
    counts = row_counts(app)
    again = client.post("/api/v1/referrals", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert row_counts(app) == counts


def test_idempotency_key_with_another_body_is_422(app, client, world):
    headers = {**world.officer.headers, "Idempotency-Key": "k-1"}
    client.post("/api/v1/referrals", json=referral_body(world.yjs), headers=headers)
    counts = row_counts(app)
    other = client.post(
        "/api/v1/referrals", json=referral_body(world.yjs, risk_level="low"), headers=headers
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    assert row_counts(app) == counts


def test_idempotency_keys_are_per_user(client, world):
    body = referral_body(world.yjs)
    first = client.post(
        "/api/v1/referrals", json=body, headers={**world.officer.headers, "Idempotency-Key": "k"}
    )
    second = client.post(
        "/api/v1/referrals",
        json=body,
        headers={**world.police_manager.headers, "Idempotency-Key": "k"},
    )
    assert first.status_code == second.status_code == 201
    assert first.json["id"] != second.json["id"]


def test_references_are_unique_and_sequential(client, world):
    refs = [create(client, world.officer, world.yjs)["reference"] for _ in range(3)]
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in refs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_failure_half_way_leaves_nothing_half_written(app, client, world, monkeypatch):
    """The reference counter, the child and the referral are written in one
    transaction: if the last step fails, none of them stays."""
    from referral_app.services import referrals

    with app.app_context():
        counter_before = db.session.scalar(select(func.max(ReferenceCounter.last_value)))
    before = row_counts(app)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(referrals, "_check_consent", explode)
    response = client.post(
        "/api/v1/referrals", json=referral_body(world.yjs), headers=world.officer.headers
    )
    assert response.status_code == 500
    assert "disk full" not in response.get_data(as_text=True)
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.max(ReferenceCounter.last_value))) == counter_before


def test_list_is_paginated_with_metadata(client, world):
    for _ in range(3):
        create(client, world.officer, world.yjs)
    page = client.get("/api/v1/referrals?page=2&page_size=2", headers=world.officer.headers)
    assert page.status_code == 200
    assert len(page.json) == 1
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 3
    assert meta["page"] == 2
    too_big = client.get("/api/v1/referrals?page_size=1000", headers=world.officer.headers)
    assert too_big.status_code == 422


def test_search_by_name_and_reference(client, world):
    jayden = create(client, world.officer, world.yjs)
    other = referral_body(world.yjs)
    other["child"] = {**other["child"], "first_name": "Amira", "last_name": "Khan"}
    amira = client.post("/api/v1/referrals", json=other, headers=world.officer.headers).json
    for term, expected in (
        ("jayden", [jayden["id"]]),
        ("KHAN", [amira["id"]]),
        ("amira khan", [amira["id"]]),
        (jayden["reference"].lower(), [jayden["id"]]),
        ("%", []),
        ("_", []),
    ):
        found = client.post(
            "/api/v1/referrals/search", json={"q": term}, headers=world.officer.headers
        ).json
        assert [r["id"] for r in found] == expected, term
    in_url = client.get("/api/v1/referrals?q=jayden", headers=world.officer.headers)
    assert in_url.status_code == 422
    assert "q" in in_url.json["errors"]


def test_second_live_share_to_the_same_agency_is_a_conflict(client, world):
    case = create(client, world.officer, world.yjs)
    advance(client, world, case["id"], "submitted")
    share_with(client, world, case["id"], world.charity)
    again = client.post(
        f"/api/v1/referrals/{case['id']}/shares",
        json={
            "organisation_id": str(world.charity.id),
            "purpose": "again",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        },
        headers=world.yjs_manager.headers,
    )
    assert again.status_code == 409


@pytest.mark.parametrize("holder", ["police", "yjs"])
def test_an_agency_that_holds_the_referral_cannot_be_given_a_share(app, client, world, holder):
    """The lists rely on it (scoping.held_as: the referring, receiving and
    shared ways of holding never overlap), and so does scoping.relations."""
    case = create(client, world.officer, world.yjs)
    advance(client, world, case["id"], "submitted")
    refused = client.post(
        f"/api/v1/referrals/{case['id']}/shares",
        json={
            "organisation_id": str(getattr(world, holder).id),
            "purpose": "Already has it",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        },
        headers=world.yjs_manager.headers,
    )
    assert refused.status_code == 422
    assert "organisation_id" in refused.json["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Share)) == 0
