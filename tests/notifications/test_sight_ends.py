"""Sight ends with the holding: once a share is revoked, the agency's
notifications about that referral are gone from its list and its count
(they named a referral it no longer holds)."""

from __future__ import annotations

from tests.referral_helpers import advance, create, make_world, share_with


def listed(client, actor) -> list[str]:
    answer = client.get("/api/v1/notifications", headers=actor.headers)
    assert answer.status_code == 200
    return [item["referral_id"] for item in answer.json]


def test_a_revoked_share_takes_its_notifications_with_it(client, factory):
    world = make_world(client, factory)
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    share = share_with(client, world, referral["id"], world.charity)
    assert referral["id"] in listed(client, world.charity_manager)
    revoked = client.delete(
        f"/api/v1/referrals/{referral['id']}/shares/{share['id']}",
        headers=world.yjs_manager.headers,
    )
    assert revoked.status_code in (200, 204)
    assert referral["id"] not in listed(client, world.charity_manager)
    # The referring and receiving agencies still see theirs.
    assert referral["id"] in listed(client, world.yjs_manager)
