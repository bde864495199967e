"""Two people change the same referral at once from the same version: exactly
one wins, the other is told with 412, and nothing is lost."""

from __future__ import annotations

import threading

from tests.factories import Factory
from tests.referral_helpers import create, make_world

ROUNDS = 8


def test_concurrent_patches_with_the_same_etag(live_app):
    setup_client = live_app.test_client()
    world = make_world(setup_client, Factory(live_app))
    referral = create(setup_client, world.officer, world.yjs)
    url = f"/api/v1/referrals/{referral['id']}"
    people = [world.officer, world.police_manager]

    for round_number in range(ROUNDS):
        etag = setup_client.get(url, headers=world.officer.headers).headers["ETag"]
        barrier = threading.Barrier(len(people))
        results: dict[int, tuple[int, str]] = {}

        def patch(
            index: int,
            etag: str = etag,
            barrier: threading.Barrier = barrier,
            results: dict[int, tuple[int, str]] = results,
            round_number: int = round_number,
        ) -> None:
            client = live_app.test_client()
            reason = f"round {round_number} by person {index}"
            headers = {**people[index].headers, "If-Match": etag}
            barrier.wait()
            response = client.patch(url, json={"reason": reason}, headers=headers)
            results[index] = (response.status_code, reason)

        threads = [threading.Thread(target=patch, args=(i,)) for i in range(len(people))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        statuses = sorted(status for status, _ in results.values())
        assert statuses == [200, 412], results
        winner = next(reason for status, reason in results.values() if status == 200)
        final = setup_client.get(url, headers=world.officer.headers).json
        assert final["reason"] == winner
        assert final["version"] == referral["version"] + round_number + 1


def test_both_pass_the_etag_check_and_the_version_column_still_refuses_one(live_app, monkeypatch):
    """The hard interleaving: both requests read version N and pass the ETag
    check before either writes (forced by a pause). The UPDATE ... WHERE
    version = N of the slower one then matches no row: 412, not a lost update.
    (On SQLite the second transaction waits at BEGIN IMMEDIATE instead, and
    fails the ETag check: the answer is the same.)"""
    import time

    from referral_app.services import referrals

    setup_client = live_app.test_client()
    world = make_world(setup_client, Factory(live_app))
    referral = create(setup_client, world.officer, world.yjs)
    url = f"/api/v1/referrals/{referral['id']}"
    etag = setup_client.get(url, headers=world.officer.headers).headers["ETag"]

    original = referrals.update_referral

    def slow_update(*args, **kwargs):
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(referrals, "update_referral", slow_update)
    results: list[int] = []

    def patch(actor, reason):
        client = live_app.test_client()
        response = client.patch(
            url, json={"reason": reason}, headers={**actor.headers, "If-Match": etag}
        )
        results.append(response.status_code)

    threads = [
        threading.Thread(target=patch, args=(world.officer, "first")),
        threading.Thread(target=patch, args=(world.police_manager, "second")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [200, 412]
    final = setup_client.get(url, headers=world.officer.headers).json
    assert final["reason"] in ("first", "second")
    assert final["version"] == referral["version"] + 1
