"""A large list is not counted to the end on every page: past a window the
count stops and says so (`total_exact: false`), through the API and the page.
The window is shrunk here so that a few referrals overflow it."""

from __future__ import annotations

import json

import pytest

from referral_app.models import Role
from referral_app.services import paging
from tests.blueprints.web.test_referral_pages import sign_in
from tests.referral_helpers import advance, create, make_world

HELD = 7


@pytest.fixture
def world(client, factory):
    world = make_world(client, factory)
    for _ in range(HELD):
        advance(client, world, create(client, world.officer, world.yjs)["id"], "submitted")
    return world


def pagination(response) -> dict:
    assert response.status_code == 200, response.json
    return json.loads(response.headers["X-Pagination"])


def test_a_list_within_the_window_is_counted_exactly(client, world):
    metadata = pagination(
        client.get("/api/v1/referrals?page_size=2", headers=world.yjs_manager.headers)
    )
    assert metadata["total"] == HELD
    assert "total_exact" not in metadata
    assert metadata["last_page"] == 4


def test_past_the_window_the_count_stops_and_says_so(client, world, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_WINDOW", 3)
    first = pagination(
        client.get("/api/v1/referrals?page_size=2", headers=world.yjs_manager.headers)
    )
    assert first["total_exact"] is False
    assert first["total"] == 4  # the window and one more: there is more to see
    assert first["next_page"] == 2
    # The window is counted from the page's start: a later page still knows
    # the exact total once the end is within reach, and every row is reachable.
    seen = []
    for page in range(1, 5):
        response = client.get(
            f"/api/v1/referrals?page_size=2&page={page}", headers=world.yjs_manager.headers
        )
        seen += [row["id"] for row in response.json]
    assert len(set(seen)) == HELD
    last = pagination(
        client.get("/api/v1/referrals?page_size=2&page=3", headers=world.yjs_manager.headers)
    )
    assert last["total"] == HELD
    assert "total_exact" not in last


def test_a_name_search_is_not_counted_only_looked_ahead(client, world):
    def search(page_size, page=1):
        return client.post(
            f"/api/v1/referrals/search?page_size={page_size}&page={page}",
            json={"q": "Jayden"},
            headers=world.yjs_manager.headers,
        )

    # A full page: there is at least one more, and no more is claimed.
    first = pagination(search(2))
    assert first["total_exact"] is False
    assert first["total"] == 3
    assert first["next_page"] == 2
    # The last page, and one that holds them all, are exact.
    last = pagination(search(2, page=4))
    assert last["total"] == HELD
    assert "total_exact" not in last
    everything = search(HELD)
    assert len(everything.json) == HELD
    assert pagination(everything)["total"] == HELD
    # Past the end: counted, and still exact.
    beyond = pagination(search(2, page=9))
    assert beyond["total"] == HELD


def test_the_page_says_more_than_and_offers_the_next_page(app, factory, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_WINDOW", 3)
    client = app.test_client()
    world = make_world(client, factory)
    for _ in range(30):
        create(client, world.officer, world.yjs)
    officer = factory.user(Role.REFERRER, organisation=world.police)
    page = sign_in(app, officer).get("/referrals").get_data(as_text=True)
    assert "More than 3 referrals" in page
    assert 'aria-label="Page 1" aria-current="page"' in page
    assert 'href="/referrals?page=2" rel="next"' in page
