"""Subscriptions through the API: an org admin's own agency's only; the
endpoint refused unless https to a public address (SSRF), loopback over
http only when the configuration allows it; the secret shown once and
rotatable (the old one stops verifying); audited."""

from __future__ import annotations

import socket

import pytest
from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from referral_app.models import AuditEvent
from tests.events.conftest import deliver, subscribe
from tests.referral_helpers import act, create

PATH = "/api/v1/event-subscriptions"


@pytest.fixture
def production_like(app):
    """The production rule: no loopback, https only."""
    app.config["ALLOW_HTTP_LOOPBACK_WEBHOOKS"] = False
    yield app
    app.config["ALLOW_HTTP_LOOPBACK_WEBHOOKS"] = True


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://10.0.0.7/hooks", "private or local network"),
        ("https://192.168.1.20/hooks", "private or local network"),
        ("https://169.254.169.254/latest/meta-data", "private or local network"),
        ("https://127.0.0.1/hooks", "private or local network"),
        ("https://[::1]/hooks", "private or local network"),
        ("https://localhost/hooks", "private or local network"),
        ("http://127.0.0.1:8080/hooks", "https://"),
        ("http://93.184.215.14/hooks", "https://"),
        ("ftp://example.org/hooks", "https://"),
        ("https://user:pw@93.184.215.14/hooks", "user name and password"),
        ("https://no-such-host.invalid/hooks", "could not be found"),
    ],
)
def test_unsafe_endpoints_are_refused_in_production(
    production_like, client, admins, url: str, said: str
):
    response = client.post(PATH, json={"url": url}, headers=admins["yjs"].headers)
    assert response.status_code == 422, response.json
    assert said in response.json["errors"]["url"][0]
    assert client.get(PATH, headers=admins["yjs"].headers).json == []


def test_a_name_resolving_to_a_private_address_is_refused(
    production_like, client, admins, monkeypatch
):
    """Resolved, not read: a public-looking name pointing inside is refused."""

    def inside(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", inside)
    response = client.post(
        PATH, json={"url": "https://hooks.example.org/in"}, headers=admins["yjs"].headers
    )
    assert response.status_code == 422
    assert "private or local network" in response.json["errors"]["url"][0]


def test_a_public_https_endpoint_is_taken(production_like, client, admins, monkeypatch):
    def public(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", public)
    made = subscribe(client, admins["yjs"], "https://hooks.example.org/in")
    assert made["active"] is True
    assert made["event_types"] == []


def test_an_endpoint_that_turns_private_is_not_called(
    app, client, world, admins, new_receiver, monkeypatch
):
    """Checked again before every delivery: DNS may change after subscribing."""
    receiver = new_receiver()
    made = subscribe(client, admins["yjs"], receiver.url)
    created = create(client, world.officer, world.yjs)
    act(client, world.officer, created["id"], "submit")
    app.config["ALLOW_HTTP_LOOPBACK_WEBHOOKS"] = False
    try:
        deliver(app)
    finally:
        app.config["ALLOW_HTTP_LOOPBACK_WEBHOOKS"] = True
    assert receiver.received == []
    log = client.get(f"{PATH}/{made['id']}/deliveries", headers=admins["yjs"].headers).json
    assert log[0]["succeeded"] is False
    assert log[0]["status_code"] is None
    assert log[0]["error"].startswith("Refused: ")


def test_subscriptions_crud_and_scoping(client, admins, world):
    made = subscribe(
        client,
        admins["yjs"],
        "http://127.0.0.1:9/hooks",
        event_types=["referral.share_revoked", "referral.received"],
        description="Case system",
    )
    assert made["secret"].startswith("whsec_")
    # Kept in the order of the types, never shown again.
    assert made["event_types"] == ["referral.received", "referral.share_revoked"]
    here = f"{PATH}/{made['id']}"
    shown = client.get(here, headers=admins["yjs"].headers).json
    assert "secret" not in shown
    assert [item["id"] for item in client.get(PATH, headers=admins["yjs"].headers).json] == [
        made["id"]
    ]
    # Another agency's org admin: it does not exist.
    assert client.get(here, headers=admins["police"].headers).status_code == 404
    assert client.get(PATH, headers=admins["police"].headers).json == []
    assert (
        client.patch(here, json={"description": "x"}, headers=admins["police"].headers).status_code
        == 404
    )
    # A manager is not an org admin.
    assert client.get(PATH, headers=world.yjs_manager.headers).status_code == 403

    changed = client.patch(
        here, json={"event_types": [], "description": "All of it"}, headers=admins["yjs"].headers
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["event_types"] == []
    refused = client.patch(
        here,
        json={"event_types": ["referral.exploded"], "url": "gopher://x"},
        headers=admins["yjs"].headers,
    )
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"event_types"}  # the schema answers first
    # Loopback is allowed in the tests; a private address never is.
    refused = client.patch(here, json={"url": "https://10.0.0.1/"}, headers=admins["yjs"].headers)
    assert refused.status_code == 422
    assert client.get(here, headers=admins["yjs"].headers).json["url"] == "http://127.0.0.1:9/hooks"

    assert client.delete(here, headers=admins["police"].headers).status_code == 404
    assert client.delete(here, headers=admins["yjs"].headers).status_code == 204
    assert client.get(here, headers=admins["yjs"].headers).status_code == 404


def test_a_rotated_secret_signs_from_then_on(app, client, world, admins, new_receiver):
    receiver = new_receiver()
    made = subscribe(client, admins["yjs"], receiver.url)
    rotated = client.post(f"{PATH}/{made['id']}/secret", headers=admins["yjs"].headers)
    assert rotated.status_code == 200
    new_secret = rotated.json["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != made["secret"]
    created = create(client, world.officer, world.yjs)
    act(client, world.officer, created["id"], "submit")
    deliver(app)
    (request,) = receiver.received
    assert Webhook(new_secret).verify(request.body, request.headers)["type"] == "referral.received"
    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(request.body, request.headers)


def test_subscriptions_and_the_feed_are_audited(app, client, world, admins):
    made = subscribe(client, admins["yjs"], "http://127.0.0.1:9/hooks")
    client.post(f"{PATH}/{made['id']}/secret", headers=admins["yjs"].headers)
    created = create(client, world.officer, world.yjs)
    act(client, world.officer, created["id"], "submit")
    deliver(app)
    client.get("/api/v1/events", headers=world.yjs_manager.headers)
    with app.app_context():
        from sqlalchemy import select

        from referral_app.extensions import db

        rows = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_(
                    [
                        "event_subscription.created",
                        "event_subscription.secret_rotated",
                        "event.feed_read",
                    ]
                )
            )
        ).all()
    by_action = {row.action: row for row in rows}
    assert by_action["event_subscription.created"].actor_user_id == admins["yjs"].user.id
    assert by_action["event_subscription.secret_rotated"].record_id == made["id"]
    feed_read = by_action["event.feed_read"]
    assert feed_read.actor_user_id == world.yjs_manager.user.id
    assert len(feed_read.record_ids) == 1


def make_system(client: FlaskClient, admin, permissions: list[str]) -> dict:
    response = client.post(
        "/api/v1/system-accounts",
        json={"name": "Case records system", "permissions": permissions},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.json
    return dict(response.json)


def test_a_subscription_may_name_a_system_of_its_agency(client, admins):
    own = make_system(client, admins["yjs"], ["events:read"])
    other = make_system(client, admins["police"], ["events:read"])
    made = subscribe(
        client,
        admins["yjs"],
        "http://127.0.0.1:9/hooks",
        system_account_id=own["system"]["id"],
    )
    assert made["system_account_id"] == own["system"]["id"]
    refused = client.post(
        PATH,
        json={"url": "http://127.0.0.1:9/hooks", "system_account_id": other["system"]["id"]},
        headers=admins["yjs"].headers,
    )
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"system_account_id"}


def test_a_system_reads_the_feed_with_client_credentials(app, client, world, admins):
    system = make_system(client, admins["yjs"], ["events:read"])
    created = create(client, world.officer, world.yjs)
    act(client, world.officer, created["id"], "submit")
    deliver(app)
    token = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": system["client_id"],
            "client_secret": system["client_secret"],
        },
    )
    assert token.status_code == 200, token.json
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}
    listed = client.get("/api/v1/events", headers=headers)
    assert listed.status_code == 200, listed.json
    assert [(e["type"], e["referral_id"]) for e in listed.json["events"]] == [
        ("referral.received", created["id"])
    ]
    # Without events:read, a system may not read the feed.
    blind = make_system(client, admins["yjs"], ["referrals:read"])
    other = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": blind["client_id"],
            "client_secret": blind["client_secret"],
        },
    ).json["access_token"]
    refused = client.get("/api/v1/events", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403
