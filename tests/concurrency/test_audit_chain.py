"""Concurrent writers keep the audit chain whole: verified, gap-free."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import AuditEvent
from referral_app.services import audit
from tests.conftest import migrated_app
from tests.factories import Factory
from tests.referral_helpers import create, make_world, referral_body

WRITERS = 8


def hammer(live_app, total_requests: int) -> list[int]:
    setup = live_app.test_client()
    world = make_world(setup, Factory(live_app))
    referral = create(setup, world.officer, world.yjs)
    actors = [world.officer, world.police_manager]
    per_writer = -(-total_requests // WRITERS)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        client = live_app.test_client()
        actor = actors[index % len(actors)]
        barrier.wait()
        for n in range(per_writer):
            if n % 3 == 0:
                response = client.post(
                    "/api/v1/referrals", json=referral_body(world.yjs), headers=actor.headers
                )
            elif n % 3 == 1:
                response = client.post(
                    f"/api/v1/referrals/{referral['id']}/notes",
                    json={"body": f"note {index}-{n}"},
                    headers=actor.headers,
                )
            else:
                response = client.get(f"/api/v1/referrals/{referral['id']}", headers=actor.headers)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


def assert_chain_whole(live_app, requests: int) -> None:
    with live_app.app_context():
        result = audit.verify(db.session)
        count, lowest, highest = db.session.execute(
            select(func.count(), func.min(AuditEvent.seq), func.max(AuditEvent.seq))
        ).one()
        db.session.remove()
        db.engine.dispose()
    assert result.ok, result
    assert (lowest, highest) == (1, count)  # gap-free
    assert count >= requests


def test_eight_concurrent_writers_on_postgresql_leave_a_valid_gap_free_chain(postgres_url):
    live_app = migrated_app(postgres_url)
    statuses = hammer(live_app, 500)
    assert len(statuses) >= 500
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert_chain_whole(live_app, 500)


def test_concurrent_writers_on_the_suites_database(fresh_database_url):
    live_app = migrated_app(fresh_database_url)
    statuses = hammer(live_app, 120)
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert_chain_whole(live_app, 120)
