"""Every answer that shows one referral says what the caller may do with it
now (worked out by the lifecycle service once, for that caller; the schema
only shapes it)."""

from __future__ import annotations

from tests.referral_helpers import create, make_world, referral_body


def test_each_answer_showing_a_referral_carries_the_callers_actions(client, factory):
    world = make_world(client, factory)
    headers = {**world.officer.headers, "Idempotency-Key": "allowed-actions-1"}
    body = referral_body(world.yjs)
    made = client.post("/api/v1/referrals", json=body, headers=headers)
    assert made.json["allowed_actions"] == ["submit", "withdraw"]
    replayed = client.post("/api/v1/referrals", json=body, headers=headers)
    assert replayed.json["allowed_actions"] == ["submit", "withdraw"]
    url = f"/api/v1/referrals/{made.json['id']}"
    etag = client.get(url, headers=world.officer.headers).headers["ETag"]
    changed = client.patch(
        url, json={"risk_level": "low"}, headers={**world.officer.headers, "If-Match": etag}
    )
    assert changed.json["allowed_actions"] == ["submit", "withdraw"]
    submitted = client.post(
        f"{url}/transitions", json={"action": "submit"}, headers=world.officer.headers
    )
    assert submitted.json["allowed_actions"] == ["withdraw"]
    # The same referral, for the receiving manager: their actions, not the officer's.
    seen = client.get(url, headers=world.yjs_manager.headers)
    assert set(seen.json["allowed_actions"]) == {"accept", "decline"}
    assert create(client, world.officer, world.yjs)["allowed_actions"] == ["submit", "withdraw"]
