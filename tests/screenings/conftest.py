"""The screenings' tests: the referral world (police refers to youth
justice, a charity may be given a share), and helpers that answer the tool."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from referral_app import screening_tools
from tests.referral_helpers import Actor, World, advance, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def referral(client: FlaskClient, world: World) -> dict:
    """A referral from the police to youth justice (a child born in 2011), submitted."""
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "submitted")
    return made


def answers(yes: tuple[str, ...] = (), not_known: tuple[str, ...] = ()) -> dict[str, Any]:
    """An answer to every indicator of the current tool: yes (with evidence)
    to `yes`, not known to `not_known`, no to the rest."""
    found: dict[str, Any] = {}
    for indicator in screening_tools.current().indicators:
        if indicator.id in yes:
            found[indicator.id] = {"answer": "yes", "evidence": f"Seen: {indicator.id}."}
        elif indicator.id in not_known:
            found[indicator.id] = {"answer": "not_known"}
        else:
            found[indicator.id] = {"answer": "no"}
    return found


def screen(
    client: FlaskClient,
    actor: Actor,
    referral_id: str,
    expect: int | None = 201,
    **body: Any,
):
    body.setdefault("answers", answers())
    response = client.post(
        f"/api/v1/referrals/{referral_id}/screenings", json=body, headers=actor.headers
    )
    if expect is not None:
        assert response.status_code == expect, response.json
    return response


def judge(client: FlaskClient, actor: Actor, referral_id: str, screening_id: str, **body: Any):
    return client.post(
        f"/api/v1/referrals/{referral_id}/screenings/{screening_id}/judgement",
        json=body,
        headers=actor.headers,
    )
