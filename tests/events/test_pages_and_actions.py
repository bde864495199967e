"""An action coming due is an event (the morning's sweep records it with
its notice); the org admins' page: add a subscription (its secret shown
once, errors in our words), see it with its delivery log, rotate, turn back
on, remove; the job runs every minute."""

from __future__ import annotations

import re
from datetime import datetime

from flask.testing import FlaskClient

from referral_app import jobs
from tests.actions.conftest import add_action, due_in
from tests.conftest import csrf_token
from tests.events.conftest import deliver, subscribe
from tests.factories import PASSWORD
from tests.referral_helpers import advance, create


def test_an_action_due_tomorrow_is_an_event(app, client, world, admins, new_receiver):
    receiver = new_receiver()
    secret = subscribe(client, admins["yjs"], receiver.url, event_types=["referral.action_due"])[
        "secret"
    ]
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "in_progress")
    action = add_action(
        client,
        world.yjs_manager,
        made["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due_in(1),
    ).json
    with app.app_context():
        assert jobs.actions_due.call_local() == 1
    deliver(app)
    (body,) = receiver.delivered(secret)
    assert body["type"] == "referral.action_due"
    assert body["action_id"] == action["id"]
    assert body["referral_id"] == made["id"]


def test_the_delivery_job_runs_every_minute():
    task = next(
        task for task in jobs.huey._registry._periodic_tasks if task.__name__ == "deliver_events"
    )
    assert all(task().validate_datetime(datetime(2026, 11, 30, 9, minute)) for minute in range(60))


def sign_in(client: FlaskClient, email: str) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.data


def form_token(page: str) -> dict[str, str]:
    return {
        name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        for name in ("csrf_token", "form_token")
    }


def test_an_org_admin_manages_subscriptions_on_the_page(client, admins, new_receiver):
    sign_in(client, admins["yjs"].user.email)
    listing = client.get("/admin/events")
    assert listing.status_code == 200
    assert "Your agency has no event subscriptions." in listing.text

    form = client.get("/admin/events/new").text
    refused = client.post(
        "/admin/events/new", data={**form_token(form), "url": "https://10.0.0.9/hooks"}
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert "events are only sent to public addresses" in refused.text
    blank = client.post("/admin/events/new", data=form_token(client.get("/admin/events/new").text))
    assert blank.status_code == 422
    assert "Enter the address events are sent to" in blank.text

    receiver = new_receiver()
    added = client.post(
        "/admin/events/new",
        data={
            **form_token(client.get("/admin/events/new").text),
            "url": receiver.url,
            "description": "Case system",
            "event_types": ["referral.received", "referral.share_revoked"],
        },
    )
    assert added.status_code == 200, added.text
    secret = re.search(r"(whsec_[A-Za-z0-9+/=]+)", added.text).group(1)  # type: ignore[union-attr]
    link = re.search(r'href="(/admin/events/[0-9a-f-]{36})"', added.text).group(1)  # type: ignore[union-attr]

    detail = client.get(link)
    assert detail.status_code == 200
    assert secret not in detail.text  # shown once
    assert "Case system" in detail.text
    assert "A referral is received" in detail.text
    assert "Nothing has been sent yet." in detail.text

    rotated = client.post(f"{link}/secret", data=form_token(detail.text))
    assert rotated.status_code == 200
    assert "New signing secret" in rotated.text
    assert secret not in rotated.text

    enabled = client.post(f"{link}/enable", data=form_token(client.get(link).text))
    assert enabled.status_code == 302
    removed = client.post(f"{link}/delete", data=form_token(client.get(link).text))
    assert removed.status_code == 302
    assert client.get(link).status_code == 404
    assert "Your agency has no event subscriptions." in client.get("/admin/events").text
