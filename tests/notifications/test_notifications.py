"""Notifications: each kind created by its event, in-app and as an e-mail in
the outbox; `flask outbox send` delivers over real SMTP on loopback and
retries after the server was down."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import Notification, OutboxEmail, Referral, utcnow
from tests.referral_helpers import act, advance, create, make_world, share_with


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_port(app):
    port = free_port()
    previous = (app.config["SMTP_HOST"], app.config["SMTP_PORT"])
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield port
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = previous


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def notifications_of(app, user) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.recipient_id == user.id)
        ).all()
        return [(str(n.kind), str(n.referral_id)) for n in rows]


def test_each_event_notifies_the_right_people(app, client, world):
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    advance(client, world, rid, "submitted")
    assert ("referral_arrived", rid) in notifications_of(app, world.yjs_manager.user)
    assert notifications_of(app, world.caseworker.user) == []  # managers only
    act(client, world.yjs_manager, rid, "accept")
    act(client, world.yjs_manager, rid, "assign", assignee_id=str(world.caseworker.user.id))
    assert notifications_of(app, world.caseworker.user) == [("referral_assigned", rid)]
    share_with(client, world, rid, world.charity)
    assert notifications_of(app, world.charity_manager.user) == [("referral_shared", rid)]
    act(
        client,
        world.caseworker,
        rid,
        "close",
        outcome="engaged_and_completed",
        outcome_summary="Done.",
    )
    for person in (world.officer, world.police_manager):
        assert ("referral_closed", rid) in notifications_of(app, person.user)
    act(client, world.yjs_manager, rid, "reopen", reason="New concerns.")
    assert ("referral_reopened", rid) in notifications_of(app, world.officer.user)
    declined = create(client, world.officer, world.yjs)
    advance(client, world, declined["id"], "declined")
    assert ("referral_declined", declined["id"]) in notifications_of(app, world.officer.user)
    # Nobody is told about what they did themselves.
    assert all(
        kind != "referral_reopened" for kind, _ in notifications_of(app, world.yjs_manager.user)
    )


def test_overdue_triage_notifies_the_receiving_managers_once(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    with app.app_context():
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(referral["id"]))
            .values(triage_deadline=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["outbox", "send"])
    assert "overdue notices: 1" in first.output
    second = runner.invoke(args=["outbox", "send"])
    assert "overdue notices: 0" in second.output
    kinds = [kind for kind, _ in notifications_of(app, world.yjs_manager.user)]
    assert kinds.count("triage_overdue") == 1


def test_emails_carry_the_reference_and_a_link_but_no_personal_data(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    with app.app_context():
        emails = db.session.scalars(select(OutboxEmail)).all()
        texts = [e.subject + e.body for e in emails if referral["reference"] in e.subject]
    assert texts
    for text in texts:
        assert f"/referrals/{referral['id']}" in text
        for personal in ("Jayden", "Miller", "2011", "SS1", "county line"):
            assert personal not in text


def test_outbox_send_delivers_over_smtp_and_retries_after_the_server_was_down(
    app, client, world, smtp_port
):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    runner = app.test_cli_runner()
    down = runner.invoke(args=["outbox", "send"])  # nothing listens on the port yet
    assert "sent: 0" in down.output
    assert "failed: 0" not in down.output
    with app.app_context():
        waiting = db.session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))).all()
        assert waiting
        assert all(e.attempts == 1 and e.next_attempt_at > utcnow() for e in waiting)
        assert all("ConnectionRefusedError" in (e.last_error or "") for e in waiting)
        expected = {e.recipient for e in waiting}
    # Not due yet: the back-off holds.
    assert "sent: 0" in runner.invoke(args=["outbox", "send"]).output
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        with app.app_context():
            db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
            db.session.commit()
        sent = runner.invoke(args=["outbox", "send"])
        assert f"sent: {len(expected)}" in sent.output
    finally:
        server.stop()
    delivered = {recipient for recipients, _ in inbox.messages for recipient in recipients}
    assert delivered == expected
    assert all(referral["reference"] in content for _, content in inbox.messages)
    # Sent once: a second run sends nothing again.
    assert "sent: 0" in runner.invoke(args=["outbox", "send"]).output


def test_notifications_api_lists_and_marks_read_only_ones_own(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    mine = client.get("/api/v1/notifications?unread=true", headers=world.yjs_manager.headers)
    assert mine.status_code == 200
    assert [n["reference"] for n in mine.json] == [referral["reference"]]
    notification_id = mine.json[0]["id"]
    stolen = client.post(
        f"/api/v1/notifications/{notification_id}/read", headers=world.officer.headers
    )
    assert stolen.status_code == 404
    marked = client.post(
        f"/api/v1/notifications/{notification_id}/read", headers=world.yjs_manager.headers
    )
    assert marked.json == {"marked": 1}
    assert (
        client.get("/api/v1/notifications?unread=true", headers=world.yjs_manager.headers).json
        == []
    )


def test_notifications_page_shows_and_opens_them(app, client, world):
    from tests.blueprints.web.test_referral_pages import sign_in
    from tests.conftest import csrf_token

    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    browser = sign_in(app, world.yjs_manager.user)
    page = browser.get("/notifications").get_data(as_text=True)
    assert referral["reference"] in page
    assert 'class="app-count"' in browser.get("/").get_data(as_text=True)
    with app.app_context():
        notification_id = db.session.scalar(
            select(Notification.id).where(Notification.recipient_id == world.yjs_manager.user.id)
        )
    opened = browser.post(
        f"/notifications/{notification_id}/read",
        data={"csrf_token": csrf_token(browser, "/notifications"), "referral_id": referral["id"]},
    )
    assert opened.location == f"/referrals/{referral['id']}"
    assert 'class="app-count"' not in browser.get("/").get_data(as_text=True)
