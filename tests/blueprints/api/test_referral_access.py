"""Cross-agency access on every referral route: an unrelated agency gets 404
and sees nothing in lists, counts or search; a shared agency sees what it
should and no more; after revocation or expiry it sees nothing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from io import BytesIO

import pytest

from referral_app.extensions import db
from referral_app.models import Share, uk_today, utcnow
from tests.documents.samples import PDF_BYTES
from tests.referral_helpers import SHARE_REASON, advance, create, make_world, share_with
from tests.screenings.conftest import answers as screening_answers

# The documents' upload is a multipart form (tests/documents), not JSON.
DOCUMENT_UPLOAD = {"title": "Ours now.", "kind": "other", "file": "<a PDF>"}


def document_form():
    return {"title": "Ours now.", "kind": "other", "file": (BytesIO(PDF_BYTES), "ours.pdf")}


# Every referral and child route of the API, with a body that would be valid
# for a holder. The test below checks this list against the URL map.
ROUTES = [
    ("GET", "/api/v1/referrals/{rid}", None),
    ("PATCH", "/api/v1/referrals/{rid}", {"reason": "Changed by someone."}),
    ("POST", "/api/v1/referrals/{rid}/transitions", {"action": "reopen", "reason": "x"}),
    ("GET", "/api/v1/referrals/{rid}/history", None),
    ("GET", "/api/v1/referrals/{rid}/access-log", None),
    ("POST", "/api/v1/referrals/{rid}/legal-hold", {"legal_hold": True, "reason": "Court order."}),
    ("GET", "/api/v1/referrals/{rid}/notes", None),
    ("POST", "/api/v1/referrals/{rid}/notes", {"body": "Hello", "visibility": "shared"}),
    ("GET", "/api/v1/referrals/{rid}/shares", None),
    (
        "POST",
        "/api/v1/referrals/{rid}/shares",
        {
            "organisation_id": "{other_org}",
            "purpose": "p",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": "{expires}",
        },
    ),
    ("DELETE", "/api/v1/referrals/{rid}/shares/{share_id}", None),
    ("GET", "/api/v1/children/{child_id}", None),
    ("POST", "/api/v1/referrals/{rid}/notes/{note_id}/significance", {"significant": True}),
    ("GET", "/api/v1/referrals/{rid}/actions", None),
    ("POST", "/api/v1/referrals/{rid}/actions", {"description": "Ours now.", "due_on": "{due_on}"}),
    ("GET", "/api/v1/referrals/{rid}/screenings", None),
    ("POST", "/api/v1/referrals/{rid}/screenings", {"answers": screening_answers()}),
    ("GET", "/api/v1/referrals/{rid}/screenings/{screening_id}", None),
    (
        "POST",
        "/api/v1/referrals/{rid}/screenings/{screening_id}/judgement",
        {"judgement_level": "high", "judgement_reason": "Ours now."},
    ),
    ("GET", "/api/v1/referrals/{rid}/consent", None),
    (
        "POST",
        "/api/v1/referrals/{rid}/consent",
        {
            "status": "withdrawn",
            "given_by": "child",
            "method": "phone",
            "occurred_at": "2026-01-05T10:00:00+00:00",
        },
    ),
    (
        "POST",
        "/api/v1/referrals/{rid}/shares/{share_id}/consent-decision",
        {"decision": "revoke", "reason": "Ours now."},
    ),
    ("GET", "/api/v1/referrals/{rid}/documents", None),
    ("POST", "/api/v1/referrals/{rid}/documents", DOCUMENT_UPLOAD),
    ("GET", "/api/v1/referrals/{rid}/documents/{document_id}", None),
    ("GET", "/api/v1/referrals/{rid}/documents/{document_id}/content", None),
    ("GET", "/api/v1/referrals/{rid}/fhir", None),
]


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


@pytest.fixture
def case(client, world):
    """A referral in progress, shared with the charity, with notes of each kind."""
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    share = share_with(client, world, referral["id"], world.charity)
    note_ids = []
    for visibility in ("shared", "internal"):
        response = client.post(
            f"/api/v1/referrals/{referral['id']}/notes",
            json={"body": f"{visibility} note from YJS", "visibility": visibility},
            headers=world.caseworker.headers,
        )
        assert response.status_code == 201
        note_ids.append(response.json["id"])
    screening = client.post(
        f"/api/v1/referrals/{referral['id']}/screenings",
        json={"answers": screening_answers()},
        headers=world.officer.headers,
    )
    assert screening.status_code == 201
    document = client.post(
        f"/api/v1/referrals/{referral['id']}/documents",
        data=document_form(),
        content_type="multipart/form-data",
        headers=world.officer.headers,
    )
    assert document.status_code == 201
    etag = client.get(f"/api/v1/referrals/{referral['id']}", headers=world.officer.headers).headers[
        "ETag"
    ]
    return {
        "rid": referral["id"],
        "child_id": referral["child"]["id"],
        "reference": referral["reference"],
        "share_id": share["id"],
        "etag": etag,
        "other_org": str(world.stranger_org.id),
        "expires": (utcnow() + timedelta(days=5)).isoformat(),
        "note_id": note_ids[0],  # the shared one
        "due_on": (uk_today() + timedelta(days=5)).isoformat(),
        "screening_id": screening.json["id"],
        "document_id": document.json["id"],
    }


def fill(template, case):
    if template is None:
        return None
    text = json.dumps(template)
    for name in ("rid", "other_org", "expires", "due_on"):
        text = text.replace("{" + name + "}", case[name])
    return json.loads(text)


def call(client, actor, method, path, body, case):
    url = path.format(**case)
    headers = dict(actor.headers)
    if method == "PATCH":
        headers["If-Match"] = case["etag"]
    if body is DOCUMENT_UPLOAD:
        return client.open(url, method=method, data=document_form(), headers=headers)
    return client.open(url, method=method, json=fill(body, case), headers=headers)


def assert_sees_nothing(client, actor, case):
    unknown = {**case, "rid": str(uuid.uuid4()), "child_id": str(uuid.uuid4())}
    for method, path, body in ROUTES:
        response = call(client, actor, method, path, body, case)
        if response.status_code == 403:
            # A role that may never do this anywhere (a referrer sharing) is
            # refused before any record is looked at: the answer must be the
            # same as for a referral that does not exist at all.
            for_nothing = call(client, actor, method, path, body, unknown)
            assert (for_nothing.status_code, for_nothing.json) == (403, response.json)
            continue
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert response.json["code"] == "not_found"
    for query in ("", "?direction=incoming", "?direction=outgoing", "?direction=shared"):
        listed = client.get("/api/v1/referrals" + query, headers=actor.headers)
        assert listed.status_code == 200
        assert listed.json == []
        assert json.loads(listed.headers["X-Pagination"])["total"] == 0
    for term in ("Jayden", "Miller", "jayden miller", case["reference"]):
        found = client.post("/api/v1/referrals/search", json={"q": term}, headers=actor.headers)
        assert found.status_code == 200
        assert found.json == []
        assert json.loads(found.headers["X-Pagination"])["total"] == 0


def test_routes_list_covers_every_referral_and_child_route(app):
    documented = {(m, p.replace("{rid}", "<uuid:referral_id>")) for m, p, _ in ROUTES}
    documented = {
        (
            m,
            p.replace("{share_id}", "<uuid:share_id>")
            .replace("{child_id}", "<uuid:child_id>")
            .replace("{note_id}", "<uuid:note_id>")
            .replace("{screening_id}", "<uuid:screening_id>")
            .replace("{document_id}", "<uuid:document_id>"),
        )
        for m, p in documented
    }
    actual = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        # The search is a list: assert_sees_nothing checks it returns nothing.
        if (rule.rule.startswith("/api/v1/referrals/") and rule.rule != "/api/v1/referrals/search")
        # The other child routes (matching, merging, export, rectification)
        # have their cross-agency tests in tests/children/test_access.py.
        or (rule.rule == "/api/v1/children/<uuid:child_id>" and method == "GET")
    }
    assert actual == documented


@pytest.mark.parametrize("who", ["stranger", "stranger_manager"])
def test_unrelated_agency_gets_404_everywhere_and_empty_lists(client, world, case, who):
    assert_sees_nothing(client, getattr(world, who), case)


def test_after_revocation_the_shared_agency_sees_nothing(client, world, case):
    revoke = client.delete(
        f"/api/v1/referrals/{case['rid']}/shares/{case['share_id']}",
        headers=world.yjs_manager.headers,
    )
    assert revoke.status_code == 200
    assert revoke.json["revoked_at"] is not None
    assert_sees_nothing(client, world.charity_manager, case)


def test_after_expiry_the_shared_agency_sees_nothing(app, client, world, case):
    with app.app_context():
        db.session.get(Share, uuid.UUID(case["share_id"])).expires_at = utcnow() - timedelta(
            seconds=1
        )
        db.session.commit()
    assert_sees_nothing(client, world.charity_manager, case)


def test_shared_agency_sees_the_referral_shared_notes_and_its_own_share_only(client, world, case):
    headers = world.charity_worker.headers
    rid = case["rid"]
    assert client.get(f"/api/v1/referrals/{rid}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/children/{case['child_id']}", headers=headers).status_code == 200
    notes = client.get(f"/api/v1/referrals/{rid}/notes", headers=headers).json
    assert [n["body"] for n in notes] == ["shared note from YJS"]
    shares = client.get(f"/api/v1/referrals/{rid}/shares", headers=headers).json
    assert [s["id"] for s in shares] == [case["share_id"]]
    assert client.get(f"/api/v1/referrals/{rid}/history", headers=headers).status_code == 200
    # It may add notes, but not change, triage, share on or revoke.
    note = client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "Charity internal", "visibility": "internal"},
        headers=headers,
    )
    assert note.status_code == 201
    patch = client.patch(
        f"/api/v1/referrals/{rid}",
        json={"risk_level": "low"},
        headers={**headers, "If-Match": case["etag"]},
    )
    assert patch.status_code == 403
    reshare = client.post(
        f"/api/v1/referrals/{rid}/shares",
        json=fill(ROUTES[9][2], case),
        headers=world.charity_manager.headers,
    )
    assert reshare.status_code == 403
    revoke = client.delete(
        f"/api/v1/referrals/{rid}/shares/{case['share_id']}",
        headers=world.charity_manager.headers,
    )
    assert revoke.status_code == 403
    # Its internal note stays with the charity.
    officer_notes = client.get(f"/api/v1/referrals/{rid}/notes", headers=world.officer.headers)
    assert "Charity internal" not in [n["body"] for n in officer_notes.json]


def test_draft_is_invisible_to_the_receiving_agency(client, world):
    draft = create(client, world.officer, world.yjs)
    assert (
        client.get(
            f"/api/v1/referrals/{draft['id']}", headers=world.yjs_manager.headers
        ).status_code
        == 404
    )
    assert client.get("/api/v1/referrals", headers=world.yjs_manager.headers).json == []
    child = client.get(
        f"/api/v1/children/{draft['child']['id']}", headers=world.yjs_manager.headers
    )
    assert child.status_code == 404


def test_a_child_id_held_elsewhere_cannot_be_used_to_refer(client, world, case):
    response = client.post(
        "/api/v1/referrals",
        json={
            "child_id": case["child_id"],
            "receiving_organisation_id": str(world.yjs.id),
        },
        headers=world.stranger.headers,
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"child_id": ["No child with this id is visible to you."]}


@pytest.mark.parametrize("role_name", ["org_admin", "auditor", "system_admin"])
def test_non_case_roles_see_no_case_data(client, factory, world, case, role_name):
    from referral_app.models import Role
    from tests.factories import bearer, token_for

    user = factory.user(Role(role_name), organisation=world.yjs)
    headers = bearer(token_for(client, user))
    assert client.get("/api/v1/referrals", headers=headers).status_code == 403
    assert client.get(f"/api/v1/referrals/{case['rid']}", headers=headers).status_code == 403
