"""No N+1 queries: a page of 50 referrals costs the same number of SQL
statements as a page of 5, and no request needs more than a handful."""

from __future__ import annotations

import pytest

from tests.referral_helpers import advance, create, make_world, share_with


@pytest.fixture
def counting(app):
    app.config["QUERY_COUNT_HEADER"] = True
    yield
    app.config["QUERY_COUNT_HEADER"] = False


def queries(response) -> int:
    assert response.status_code < 400, response.json
    return int(response.headers["X-Query-Count"])


def test_list_query_count_does_not_grow_with_the_page_size(client, factory, counting):
    world = make_world(client, factory)
    for n in range(12):
        referral = create(client, world.officer, world.yjs)
        advance(client, world, referral["id"], "in_progress" if n % 2 else "submitted")
        if n % 3 == 0:
            share_with(client, world, referral["id"], world.charity)
    small = queries(client.get("/api/v1/referrals?page_size=2", headers=world.yjs_manager.headers))
    large = queries(client.get("/api/v1/referrals?page_size=12", headers=world.yjs_manager.headers))
    assert small == large
    search = queries(
        client.post(
            "/api/v1/referrals/search?page_size=12",
            json={"q": "Jayden"},
            headers=world.yjs_manager.headers,
        )
    )
    assert search == large
    detail = queries(
        client.get(f"/api/v1/referrals/{referral['id']}", headers=world.yjs_manager.headers)
    )
    # Today's ceiling, kept honest here (issue 8 aims for 8): SQLite 12; on
    # PostgreSQL 15, three of them the row-level-security settings per transaction.
    print(f"queries: list={large} search={search} detail={detail}")
    assert large <= 15
    assert detail <= 15
