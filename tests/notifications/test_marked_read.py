"""Notifications are marked read when their person acts on the referral they
point to (a transition, a note, a share, a revocation), in the service and
so through the API and the pages alike; looking is not acting. And the
notifications page: a page of 25 at a time, each with its reference and a
link, marking one or all read."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    Note,
    NoteKind,
    NoteVisibility,
    Notification,
    NotificationKind,
    Referral,
    Role,
    User,
)
from referral_app.services import casework, lifecycle, notifications
from tests.blueprints.web.test_referral_detail_pages import send, sign_in
from tests.conftest import csrf_token
from tests.referral_helpers import act, advance, create, make_world, share_with


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def unread(app, user) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == user.id, Notification.read_at.is_(None)
            )
        ).all()
        return sorted((str(n.kind), str(n.referral_id)) for n in rows)


def test_a_note_marks_the_authors_notifications_about_that_referral_read(
    app, client, factory, world
):
    """The service itself, in the caller's transaction: only the actor's,
    only about this referral."""
    colleague = factory.user(Role.MANAGER, organisation=world.yjs)
    first = create(client, world.officer, world.yjs)
    second = create(client, world.officer, world.yjs)
    for referral in (first, second):
        advance(client, world, referral["id"], "submitted")
    assert len(unread(app, world.yjs_manager.user)) == 2
    with app.app_context():
        actor = db.session.get(User, world.yjs_manager.user.id)
        referral = db.session.get(Referral, uuid.UUID(first["id"]))
        assert actor is not None
        assert referral is not None
        casework.add_note(
            actor,
            referral,
            kind=NoteKind.NOTE,
            body="Looked into it.",
            visibility=NoteVisibility.INTERNAL,
        )
        # Not committed yet: the marking is part of the note's transaction.
        still = db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == actor.id, Notification.read_at.is_(None)
            )
        ).all()
        assert [str(n.referral_id) for n in still] == [second["id"]]
        db.session.rollback()
        assert db.session.scalar(select(Note.id).where(Note.body == "Looked into it.")) is None
    # Rolled back with the note: both unread again.
    assert len(unread(app, world.yjs_manager.user)) == 2
    assert ("referral_arrived", first["id"]) in unread(app, colleague)


def test_each_kind_of_action_marks_the_actors_notifications_read_through_the_api(
    app, client, world
):
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    act(client, world.officer, rid, "submit")
    assert unread(app, world.yjs_manager.user) == [("referral_arrived", rid)]
    # Reading is not acting.
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=world.yjs_manager.headers).status_code == 200
    )
    assert unread(app, world.yjs_manager.user) == [("referral_arrived", rid)]
    # A transition.
    assert act(client, world.yjs_manager, rid, "accept").status_code == 200
    assert unread(app, world.yjs_manager.user) == []
    # A note.
    act(client, world.yjs_manager, rid, "assign", assignee_id=str(world.caseworker.user.id))
    assert unread(app, world.caseworker.user) == [("referral_assigned", rid)]
    noted = client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "First meeting booked.", "visibility": "shared"},
        headers=world.caseworker.headers,
    )
    assert noted.status_code == 201
    assert unread(app, world.caseworker.user) == []
    # A share, by someone told about the referral.
    grant = share_with(client, world, rid, world.charity)
    assert unread(app, world.charity_manager.user) == [("referral_shared", rid)]
    noted = client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "Mentor allocated.", "visibility": "shared"},
        headers=world.charity_manager.headers,
    )
    assert noted.status_code == 201
    assert unread(app, world.charity_manager.user) == []
    # A revocation: the receiving manager, told again by a fresh notice.
    with app.app_context():
        db.session.add(
            Notification(
                recipient_id=world.yjs_manager.user.id,
                kind=NotificationKind.OVERDUE,
                referral_id=uuid.UUID(rid),
            )
        )
        db.session.commit()
    revoked = client.delete(
        f"/api/v1/referrals/{rid}/shares/{grant['id']}", headers=world.yjs_manager.headers
    )
    assert revoked.status_code in (200, 204)
    assert unread(app, world.yjs_manager.user) == []
    # The referrer's closed notice, answered by a note of theirs.
    act(
        client,
        world.caseworker,
        rid,
        "close",
        outcome="engaged_and_completed",
        outcome_summary="Done.",
    )
    assert ("referral_closed", rid) in unread(app, world.officer.user)
    assert ("referral_closed", rid) in unread(app, world.police_manager.user)
    client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "Thank you.", "visibility": "shared"},
        headers=world.officer.headers,
    )
    assert unread(app, world.officer.user) == []
    # A colleague's notice is theirs to answer.
    assert ("referral_closed", rid) in unread(app, world.police_manager.user)


def test_a_refused_action_marks_nothing_read(app, client, world):
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    act(client, world.officer, rid, "submit")
    refused = act(client, world.yjs_manager, rid, "decline")  # no reason
    assert refused.status_code == 422
    assert unread(app, world.yjs_manager.user) == [("referral_arrived", rid)]


def test_accepting_on_the_confirmation_page_marks_the_arrival_read(app, client, world):
    referral = create(client, world.officer, world.yjs)
    rid = referral["id"]
    act(client, world.officer, rid, "submit")
    manager = sign_in(app, world.yjs_manager.user)
    path = f"/referrals/{rid}"
    assert manager.get(path).status_code == 200
    assert unread(app, world.yjs_manager.user) == [("referral_arrived", rid)]
    done = send(manager, f"{path}/confirm/accept", f"{path}/transitions")
    assert done.status_code == 302
    assert unread(app, world.yjs_manager.user) == []


def test_the_service_marks_only_what_is_about_the_referral(app, client, world):
    first = create(client, world.officer, world.yjs)
    second = create(client, world.officer, world.yjs)
    for referral in (first, second):
        advance(client, world, referral["id"], "submitted")
    with app.app_context():
        actor = db.session.get(User, world.yjs_manager.user.id)
        referral = db.session.get(Referral, uuid.UUID(second["id"]))
        assert actor is not None
        assert referral is not None
        lifecycle.transition(actor, referral, lifecycle.Action.ACCEPT)
        assert notifications.unread_count(actor) == 1
        db.session.commit()
    assert unread(app, world.yjs_manager.user) == [("referral_arrived", first["id"])]


# --- the notifications page ----------------------------------------------------------


def notify_many(app, user, referral_id: str, how_many: int) -> None:
    with app.app_context():
        for _ in range(how_many):
            db.session.add(
                Notification(
                    recipient_id=user.id,
                    kind=NotificationKind.ARRIVED,
                    referral_id=uuid.UUID(referral_id),
                )
            )
        db.session.commit()


def test_the_notifications_page_shows_25_at_a_time_with_references_and_links(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")  # one notice
    notify_many(app, world.yjs_manager.user, referral["id"], 30)
    browser = sign_in(app, world.yjs_manager.user)
    first = browser.get("/notifications").get_data(as_text=True)
    assert "Showing 1 to 25 of 31 notifications; 31 unread." in first
    assert first.count(f'href="/referrals/{referral["id"]}">{referral["reference"]}</a>') == 25
    assert f"Referral {referral['reference']} arrived for triage" in first
    assert 'href="/notifications?page=2"' in first
    second = browser.get("/notifications?page=2").get_data(as_text=True)
    assert "Showing 26 to 31 of 31 notifications" in second
    assert second.count(f'href="/referrals/{referral["id"]}"') == 6
    assert browser.get("/notifications?page=3").status_code == 404
    assert browser.get("/notifications?page=x").status_code == 200  # a mangled link: page 1


def test_mark_one_and_all_read_from_the_page(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    notify_many(app, world.yjs_manager.user, referral["id"], 2)
    browser = sign_in(app, world.yjs_manager.user)
    with app.app_context():
        one = db.session.scalar(
            select(Notification.id).where(Notification.recipient_id == world.yjs_manager.user.id)
        )
    marked = send(browser, "/notifications", f"/notifications/{one}/read")
    assert marked.status_code == 302
    assert marked.location == "/notifications"
    assert len(unread(app, world.yjs_manager.user)) == 2
    page = browser.get("/notifications").get_data(as_text=True)
    assert "Marked as read" in page
    assert "2 unread" in page
    assert len(re.findall(r">\s*New\s*<", page)) == 2
    everything = send(browser, "/notifications", "/notifications/read-all")
    assert everything.status_code == 302
    assert "2 notifications marked as read" in browser.get("/notifications").get_data(True)
    assert unread(app, world.yjs_manager.user) == []
    # Someone else's notification does not exist for them.
    officer = sign_in(app, world.officer.user)
    response = officer.post(
        f"/notifications/{one}/read", data={"csrf_token": csrf_token(officer, "/notifications")}
    )
    assert response.status_code == 404
