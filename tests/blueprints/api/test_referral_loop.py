"""The closed loop end to end through the API: police refers, youth justice
accepts and assigns, the caseworker works and closes, police sees the outcome."""

from __future__ import annotations

import re

import pytest

from tests.referral_helpers import act, create, make_world, share_with


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def test_the_whole_loop(client, world):
    # Police refers.
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    assert referral["status"] == "draft"
    assert re.fullmatch(r"R-\d{4}-\d{6}", referral["reference"])
    assert referral["allowed_actions"] == ["submit", "withdraw"]
    # The draft is the police's alone.
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=world.yjs_manager.headers).status_code == 404
    )
    submitted = act(client, world.officer, rid, "submit")
    assert submitted.status_code == 200
    assert submitted.json["status"] == "submitted"
    assert submitted.json["triage_deadline"] is not None
    assert submitted.json["overdue"] is False

    # Youth justice sees it incoming, accepts and assigns.
    incoming = client.get("/api/v1/referrals?direction=incoming", headers=world.yjs_manager.headers)
    assert [r["id"] for r in incoming.json] == [rid]
    detail = client.get(f"/api/v1/referrals/{rid}", headers=world.yjs_manager.headers)
    assert set(detail.json["allowed_actions"]) == {"accept", "decline"}
    assert act(client, world.yjs_manager, rid, "accept").json["status"] == "accepted"
    assigned = act(
        client, world.yjs_manager, rid, "assign", assignee_id=str(world.caseworker.user.id)
    )
    assert assigned.json["status"] == "in_progress"
    assert assigned.json["assignee"]["id"] == str(world.caseworker.user.id)

    # The caseworker sees it, records work and closes it.
    mine = client.get("/api/v1/referrals?assigned_to=me", headers=world.caseworker.headers)
    assert [r["id"] for r in mine.json] == [rid]
    for kind, visibility in (("home_visit", "shared"), ("note", "internal")):
        note = client.post(
            f"/api/v1/referrals/{rid}/notes",
            json={"kind": kind, "body": f"A {kind}.", "visibility": visibility},
            headers=world.caseworker.headers,
        )
        assert note.status_code == 201
    closed = act(
        client,
        world.caseworker,
        rid,
        "close",
        outcome="engaged_and_completed",
        outcome_summary="Attended all sessions; back in school.",
    )
    assert closed.status_code == 200
    assert closed.json["status"] == "closed"

    # The loop closes: police see the outcome and the shared note, not the internal one.
    seen = client.get(f"/api/v1/referrals/{rid}", headers=world.officer.headers)
    assert seen.json["status"] == "closed"
    assert seen.json["outcome"] == "engaged_and_completed"
    assert seen.json["outcome_summary"] == "Attended all sessions; back in school."
    notes = client.get(f"/api/v1/referrals/{rid}/notes", headers=world.officer.headers)
    assert [n["kind"] for n in notes.json] == ["home_visit"]
    history = client.get(f"/api/v1/referrals/{rid}/history", headers=world.officer.headers)
    assert [h["action"] for h in history.json] == ["submit", "accept", "assign", "close"]
    assert history.json[-1]["actor"]["id"] == str(world.caseworker.user.id)

    # The receiving manager can reopen it.
    reopened = act(client, world.yjs_manager, rid, "reopen", reason="New concerns raised.")
    assert reopened.json["status"] == "in_progress"


def test_shared_agency_sees_the_referral_and_shared_notes_only(client, world):
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    act(client, world.officer, rid, "submit")
    for visibility in ("shared", "internal"):
        client.post(
            f"/api/v1/referrals/{rid}/notes",
            json={"body": f"{visibility} note", "visibility": visibility},
            headers=world.yjs_manager.headers,
        )
    share = share_with(client, world, rid, world.charity)
    got = client.get(f"/api/v1/referrals/{rid}", headers=world.charity_worker.headers)
    assert got.status_code == 200
    notes = client.get(f"/api/v1/referrals/{rid}/notes", headers=world.charity_worker.headers)
    assert [n["body"] for n in notes.json] == ["shared note"]
    listed = client.get("/api/v1/referrals?direction=shared", headers=world.charity_worker.headers)
    assert [r["id"] for r in listed.json] == [rid]
    # After revocation it is gone.
    revoked = client.delete(
        f"/api/v1/referrals/{rid}/shares/{share['id']}", headers=world.yjs_manager.headers
    )
    assert revoked.status_code == 200
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=world.charity_worker.headers).status_code
        == 404
    )
    assert client.get("/api/v1/referrals", headers=world.charity_worker.headers).json == []
