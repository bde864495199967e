"""Notes marked as significant (they go into the child's chronology) and
the date of contact, through the API: who may mark which note, what is
recorded, and what the API says the fields are."""

from __future__ import annotations

import pytest

from tests.actions.conftest import audit_events
from tests.referral_helpers import share_with


def add_note(client, actor, referral_id, **body):
    response = client.post(
        f"/api/v1/referrals/{referral_id}/notes",
        json={"body": "Saw him at school.", **body},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def mark(client, actor, referral_id, note_id, significant=True, **extra):
    return client.post(
        f"/api/v1/referrals/{referral_id}/notes/{note_id}/significance",
        json={"significant": significant, **extra},
        headers=actor.headers,
    )


def test_a_note_is_not_significant_unless_said(client, world, referral):
    assert add_note(client, world.caseworker, referral["id"])["significant"] is False
    said = add_note(client, world.caseworker, referral["id"], significant=True)
    assert said["significant"] is True
    listed = client.get(
        f"/api/v1/referrals/{referral['id']}/notes", headers=world.caseworker.headers
    )
    assert [note["significant"] for note in listed.json] == [False, True]


def test_a_holder_marks_a_note_significant_and_removes_the_mark(app, client, world, referral):
    rid = referral["id"]
    note = add_note(client, world.caseworker, rid, visibility="shared", kind="home_visit")
    marked = mark(client, world.officer, rid, note["id"])  # another holder, a shared note
    assert marked.status_code == 200
    assert marked.json["significant"] is True
    assert marked.json["body"] == "Saw him at school."  # the text never changes
    unmarked = mark(client, world.caseworker, rid, note["id"], significant=False)
    assert unmarked.json["significant"] is False
    [event] = audit_events(app, "referral.note_marked", world.officer)
    assert event.record_id == rid
    assert event.record_ids == [note["id"]]
    assert event.fields == ["significant"]


def test_another_agencys_internal_note_cannot_be_marked(app, client, world, referral):
    rid = referral["id"]
    internal = add_note(client, world.caseworker, rid, visibility="internal")
    refused = mark(client, world.officer, rid, internal["id"])
    assert refused.status_code == 404
    assert "Saw him" not in refused.get_data(as_text=True)
    assert audit_events(app, "referral.note_marked", world.officer) == []
    # Its own agency may.
    assert mark(client, world.yjs_manager, rid, internal["id"]).status_code == 200


def test_an_agency_that_does_not_hold_the_referral_cannot_mark_its_notes(client, world, referral):
    note = add_note(client, world.caseworker, referral["id"], visibility="shared")
    assert mark(client, world.stranger, referral["id"], note["id"]).status_code == 404


def test_a_note_of_another_referral_is_not_found_under_this_one(client, world, referral):
    from tests.referral_helpers import advance, create

    other = create(client, world.officer, world.yjs)
    advance(client, world, other["id"], "submitted")
    note = add_note(client, world.yjs_manager, other["id"], visibility="shared")
    assert mark(client, world.yjs_manager, referral["id"], note["id"]).status_code == 404


def test_a_share_that_ended_ends_the_marking(client, world, referral):
    rid = referral["id"]
    note = add_note(client, world.caseworker, rid, visibility="shared")
    share = share_with(client, world, rid, world.charity)
    assert mark(client, world.charity_worker, rid, note["id"]).status_code == 200
    client.delete(
        f"/api/v1/referrals/{rid}/shares/{share['id']}", headers=world.yjs_manager.headers
    )
    assert mark(client, world.charity_worker, rid, note["id"], False).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"significant": "yes"}, {"significant": 1}, {"significant": True, "body": "changed"}],
)
def test_a_bad_marking_is_refused(client, world, referral, body):
    note = add_note(client, world.caseworker, referral["id"])
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/notes/{note['id']}/significance",
        json=body,
        headers=world.caseworker.headers,
    )
    assert response.status_code == 422, response.json


def test_the_api_documents_the_date_of_contact_and_the_mark(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    note = schemas["Note"]["properties"]
    assert "date of contact" in note["occurred_at"]["description"]
    assert "recorded" in note["created_at"]["description"]
    assert note["significant"]["type"] == "boolean"
    created = schemas["NoteCreate"]["properties"]
    assert "date of contact" in created["occurred_at"]["description"]
    assert created["significant"]["default"] is False
