"""Merging two records of one child, and undoing it."""

from __future__ import annotations

import uuid

from referral_app.extensions import db
from referral_app.models import Child, ChildMerge
from tests.children.conftest import child, events, refer, refer_about


def merge(client, actor, survivor_id, duplicate_id):
    return client.post(
        f"/api/v1/children/{survivor_id}/merge",
        json={"duplicate_id": duplicate_id},
        headers=actor.headers,
    )


def undo(client, actor, merge_id):
    return client.post(f"/api/v1/children/merges/{merge_id}/undo", headers=actor.headers)


def history(client, actor, referral_id):
    response = client.get(f"/api/v1/referrals/{referral_id}/history", headers=actor.headers)
    assert response.status_code == 200
    return [(change["action"], change["to_status"], change["at"]) for change in response.json]


def child_of(client, actor, referral_id):
    response = client.get(f"/api/v1/referrals/{referral_id}", headers=actor.headers)
    assert response.status_code == 200
    return response.json["child"]["id"]


def two_records(client, world):
    """The police refer Jayden twice to the YJS, once misspelt: two records."""
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    also_second = refer_about(client, world.officer, world.yjs, second["child"]["id"])
    return first, second, also_second


def test_merge_and_unmerge_round_trip(app, client, world):
    first, second, also_second = two_records(client, world)
    survivor, duplicate = first["child"]["id"], second["child"]["id"]
    client.post(
        f"/api/v1/referrals/{second['id']}/transitions",
        json={"action": "accept"},
        headers=world.yjs_manager.headers,
    )
    before = {
        ref: history(client, world.yjs_manager, ref) for ref in (second["id"], also_second["id"])
    }

    merged = merge(client, world.yjs_manager, survivor, duplicate)
    assert merged.status_code == 201, merged.json
    body = merged.json
    assert body["survivor_id"] == survivor
    assert body["merged_id"] == duplicate
    assert sorted(body["moved_referral_ids"]) == sorted([second["id"], also_second["id"]])
    assert body["undone_at"] is None
    for ref in (second["id"], also_second["id"]):
        assert child_of(client, world.officer, ref) == survivor
        assert history(client, world.yjs_manager, ref) == before[ref]  # history intact
    # The merged record is gone from view and from matching.
    gone = client.get(f"/api/v1/children/{duplicate}", headers=world.yjs_manager.headers)
    assert gone.status_code == 404
    found = client.post(
        "/api/v1/children/matches",
        json={"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"},
        headers=world.yjs_manager.headers,
    ).json
    assert [match["child"]["id"] for match in found["matches"]] == [survivor]
    assert found["held_elsewhere"] == 0
    with app.app_context():
        assert db.session.get(Child, uuid.UUID(duplicate)).merged_into_id is not None

    undone = undo(client, world.yjs_manager, body["id"])
    assert undone.status_code == 200, undone.json
    assert undone.json["undone_at"] is not None
    assert undone.json["undone_by_id"] == str(world.yjs_manager.user.id)
    for ref in (second["id"], also_second["id"]):
        assert child_of(client, world.officer, ref) == duplicate
        assert history(client, world.yjs_manager, ref) == before[ref]
    assert child_of(client, world.officer, first["id"]) == survivor
    with app.app_context():
        assert db.session.get(Child, uuid.UUID(duplicate)).merged_into_id is None
        record = db.session.get(ChildMerge, uuid.UUID(body["id"]))
        assert record.undone_at is not None
    # Undone once is undone.
    assert undo(client, world.yjs_manager, body["id"]).status_code == 409

    (merge_event,) = events(app, "child.merge")
    assert merge_event.record_id == survivor
    assert set(merge_event.record_ids) == {duplicate, second["id"], also_second["id"]}
    assert merge_event.fields == ["merged_into_id"]
    (unmerge_event,) = events(app, "child.unmerge")
    assert set(unmerge_event.record_ids) == set(merge_event.record_ids)
    moved = events(app, "referral.child_changed")
    assert sorted(event.record_id for event in moved) == sorted(
        [second["id"], also_second["id"]] * 2
    )


def test_a_merged_record_cannot_be_merged_again(client, world):
    first, second, _ = two_records(client, world)
    third = refer(client, world.officer, world.yjs, child("Jay", "Miller", "2011-03-14"))
    survivor, duplicate = first["child"]["id"], second["child"]["id"]
    assert merge(client, world.police_manager, survivor, duplicate).status_code == 201
    # The duplicate no longer exists for anyone; the survivor can take another.
    assert merge(client, world.police_manager, third["child"]["id"], duplicate).status_code == 404
    assert merge(client, world.police_manager, survivor, third["child"]["id"]).status_code == 201


def test_refuses_merging_a_record_into_itself(client, world):
    first, _, _ = two_records(client, world)
    same = first["child"]["id"]
    response = merge(client, world.police_manager, same, same)
    assert response.status_code == 422
    assert "duplicate_id" in response.json["errors"]


def test_refuses_a_duplicate_with_referrals_only_others_hold(client, world):
    """The charity and the YJS both know Jayden; the police can see the
    charity's record only through a referral the charity sent them. Moving the
    charity's other referral (to the council) would show the council a record
    it never saw, so the police may not merge that record away."""
    police_record = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    charity_record = refer(
        client, world.charity_worker, world.police, child("Jayden", "Millar", "2011-03-14")
    )
    refer_about(client, world.charity_worker, world.stranger_org, charity_record["child"]["id"])
    refused = merge(
        client, world.police_manager, police_record["child"]["id"], charity_record["child"]["id"]
    )
    assert refused.status_code == 409
    assert (
        child_of(client, world.charity_worker, charity_record["id"])
        == charity_record["child"]["id"]
    )
    # The other way round is the police's to decide: every referral about
    # their record is one they hold.
    other_way = merge(
        client, world.police_manager, charity_record["child"]["id"], police_record["child"]["id"]
    )
    assert other_way.status_code == 201, other_way.json


def test_referrers_and_caseworkers_may_not_merge(client, world):
    first, second, _ = two_records(client, world)
    for actor in (world.officer, world.caseworker):
        refused = merge(client, actor, first["child"]["id"], second["child"]["id"])
        assert refused.status_code == 403
    assert child_of(client, world.officer, second["id"]) == second["child"]["id"]


def test_undo_refused_once_the_survivor_was_merged_again(client, world):
    first, second, _ = two_records(client, world)
    third = refer(client, world.officer, world.yjs, child("Jay", "Miller", "2011-03-14"))
    one = merge(client, world.police_manager, first["child"]["id"], second["child"]["id"]).json
    two = merge(client, world.police_manager, third["child"]["id"], first["child"]["id"])
    assert two.status_code == 201
    assert undo(client, world.police_manager, one["id"]).status_code == 409
    assert undo(client, world.police_manager, two.json["id"]).status_code == 200
    assert undo(client, world.police_manager, one["id"]).status_code == 200
    assert child_of(client, world.officer, second["id"]) == second["child"]["id"]
