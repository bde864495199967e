"""Event delivery's tests: the referral world, its agencies' org admins, and
real receivers: an http.server on loopback in a thread, recording every
request it is sent and answering with the status it is told."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook

from referral_app import jobs
from referral_app.models import Role
from tests.factories import OrgInfo, bearer, token_for
from tests.referral_helpers import Actor, World, make_world


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1. `statuses` are answered in turn
    (the last one for ever after); `received` records every request."""

    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every body received, each checked against its Standard Webhooks signature."""
        hook = Webhook(secret)
        return [hook.verify(item.body, item.headers) for item in self.received]

    def delivered(self, secret: str) -> list[dict[str, Any]]:
        """The bodies of the requests answered 2xx (what the receiver took)."""
        return [body for body, ok in zip(self.verified(secret), self.oks, strict=True) if ok]

    oks: list[bool] = field(default_factory=list)


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            receiver = holder["receiver"]
            status = receiver.answer()
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            receiver.oks.append(200 <= status < 300)
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"thanks" if status < 300 else b"x" * 2000)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    holder["receiver"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def new_receiver(receivers: list[Receiver]):
    def make() -> Receiver:
        receiver = start_receiver()
        receivers.append(receiver)
        return receiver

    return make


@dataclass
class EventWorld:
    world: World
    admins: dict[str, Actor]


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def admins(client: FlaskClient, factory, world: World) -> dict[str, Actor]:
    """An org admin of each agency of the world, by its name in World."""

    def admin(org: OrgInfo) -> Actor:
        user = factory.user(Role.ORG_ADMIN, organisation=org)
        return Actor(user, bearer(token_for(client, user)))

    return {
        name: admin(getattr(world, name)) for name in ("police", "yjs", "charity", "stranger_org")
    }


def subscribe(
    client: FlaskClient, admin: Actor, url: str, expect: int = 201, **body: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/event-subscriptions", json={"url": url, **body}, headers=admin.headers
    )
    assert response.status_code == expect, response.json
    return dict(response.json)


def deliver(app: Flask) -> int:
    """What the job runner does each minute, run now."""
    with app.app_context():
        return int(jobs.deliver_events.call_local())
