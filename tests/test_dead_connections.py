"""No liveness ping on every checkout (a round trip per request): a request
whose pooled connection has died (the server restarted, a proxy dropped it)
is retried once on a fresh connection instead of failing."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from referral_app.extensions import db
from tests.conftest import _postgres_admin_url, migrated_app
from tests.factories import Factory
from tests.referral_helpers import create, make_world


def _kill_connections(url: str) -> int:
    database = make_url(url).database
    with psycopg.connect(_postgres_admin_url(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    return int(killed[0]) if killed else 0


def test_a_request_on_a_dead_pooled_connection_is_retried_once(postgres_url):
    app = migrated_app(postgres_url)
    try:
        client = app.test_client()
        world = make_world(client, Factory(app))
        referral = create(client, world.officer, world.yjs)
        url = f"/api/v1/referrals/{referral['id']}"
        assert client.get(url, headers=world.officer.headers).status_code == 200
        assert _kill_connections(postgres_url) >= 1  # the pool's idle connection
        answer = client.get(url, headers=world.officer.headers)
        assert answer.status_code == 200, answer.json
        assert answer.json["id"] == referral["id"]
        # The read was audited on the fresh connection like any other.
        events = client.get(
            f"/api/v1/referrals/{referral['id']}/access-log", headers=world.police_manager.headers
        )
        assert events.status_code == 200
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
