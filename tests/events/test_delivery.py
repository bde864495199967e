"""Events delivered to real receivers on loopback: the closed loop reaches
the receiving agency's subscription in order, each request signed per
Standard Webhooks; an agency hears nothing of a referral it does not hold;
a revoked share stops events at once; a receiver that is down gets the
event on a later try; the pull feed lists the same events."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import AuditEvent, OutboxEmail, utcnow
from referral_app.models.event import EventDelivery, EventSubscription
from tests.events.conftest import deliver, subscribe
from tests.referral_helpers import World, act, create, share_with

LOOP_TYPES = [
    "referral.received",  # submit
    "referral.status_changed",  # accept
    "referral.status_changed",  # assign
    "referral.note_shared",  # a shared note (the internal one says nothing)
    "referral.share_granted",
    "referral.share_revoked",
    "referral.status_changed",  # close
    "referral.outcome_recorded",
]


def ok(response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.json
    return dict(response.json or {})


def note(client: FlaskClient, actor, referral_id: str, visibility: str) -> dict[str, Any]:
    return ok(
        client.post(
            f"/api/v1/referrals/{referral_id}/notes",
            json={"body": "Met the child at school.", "visibility": visibility},
            headers=actor.headers,
        )
    )


def revoke(client: FlaskClient, world: World, referral_id: str, share_id: str) -> None:
    ok(
        client.delete(
            f"/api/v1/referrals/{referral_id}/shares/{share_id}",
            headers=world.yjs_manager.headers,
        )
    )


def feed(client: FlaskClient, actor, after: int = 0, limit: int = 100) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/events?after={after}&limit={limit}", headers=actor.headers))


def closed_loop(app: Flask, client: FlaskClient, world: World, *, deliver_each: bool) -> dict:
    """The loop: created, submitted, accepted, assigned, a shared and an
    internal note, shared with the charity and revoked, closed with an outcome."""
    made = create(client, world.officer, world.yjs)
    rid = made["id"]
    steps = [
        lambda: ok(act(client, world.officer, rid, "submit")),
        lambda: ok(act(client, world.yjs_manager, rid, "accept")),
        lambda: ok(
            act(client, world.yjs_manager, rid, "assign", assignee_id=str(world.caseworker.user.id))
        ),
        lambda: note(client, world.caseworker, rid, "shared"),
        lambda: note(client, world.caseworker, rid, "internal"),
    ]
    found: dict[str, Any] = {"referral_id": rid}
    for step in steps:
        step()
        if deliver_each:
            deliver(app)
    grant = share_with(client, world, rid, world.charity)
    found["share_id"] = grant["id"]
    if deliver_each:
        deliver(app)
    revoke(client, world, rid, grant["id"])
    if deliver_each:
        deliver(app)
    ok(
        act(
            client,
            world.caseworker,
            rid,
            "close",
            outcome="engaged_and_completed",
            outcome_summary="Completed the programme.",
        )
    )
    deliver(app)
    return found


def test_the_closed_loop_reaches_every_holder_signed_and_in_order(
    app, client, world, admins, new_receiver
):
    receivers = {name: new_receiver() for name in admins}
    secrets = {
        name: subscribe(client, admins[name], receivers[name].url)["secret"] for name in admins
    }
    assert all(secret.startswith("whsec_") for secret in secrets.values())

    loop = closed_loop(app, client, world, deliver_each=True)

    yjs = receivers["yjs"].verified(secrets["yjs"])  # raises on a bad signature
    assert [body["type"] for body in yjs] == LOOP_TYPES
    ids = [body["id"] for body in yjs]
    assert ids == sorted(set(ids))
    assert {body["referral_id"] for body in yjs} == {loop["referral_id"]}
    by_type = {body["type"]: body for body in yjs}
    assert by_type["referral.share_granted"]["share_id"] == loop["share_id"]
    assert by_type["referral.note_shared"]["note_id"]
    # Ids, type and time: nothing about the child.
    assert set(yjs[0]) == {
        "id",
        "type",
        "occurred_at",
        "referral_id",
        "note_id",
        "share_id",
        "action_id",
    }
    headers = receivers["yjs"].received[0].headers
    assert headers["webhook-id"] == f"evt_{ids[0]}"
    assert headers["webhook-signature"].startswith("v1,")
    # The referring police hold it throughout: the same events.
    assert receivers["police"].verified(secrets["police"]) == yjs
    # The charity held it only while shared: the share, then nothing.
    charity = receivers["charity"].verified(secrets["charity"])
    assert [body["type"] for body in charity] == ["referral.share_granted"]
    # A stranger agency never hears of it.
    assert receivers["stranger_org"].received == []

    # Each delivery is audited as a disclosure to the receiving agency.
    with app.app_context():
        sent = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "event.delivered",
                AuditEvent.recipient_organisation_id == world.yjs.id,
            )
        ).all()
    assert sorted(int(row.record_ids[0]) for row in sent) == ids
    assert {row.record_id for row in sent} == {loop["referral_id"]}

    # A secret from another subscription does not verify.
    with pytest.raises(Exception, match="signature"):
        receivers["yjs"].verified(secrets["police"])

    # The pull feed lists the same events, in the same order.
    listed = feed(client, world.yjs_manager)
    assert listed["events"] == yjs
    assert listed["next_cursor"] == ids[-1]
    assert feed(client, world.officer)["events"] == yjs
    assert feed(client, world.stranger)["events"] == []
    assert [e["type"] for e in feed(client, world.charity_manager)["events"]] == []


def test_the_feed_pages_by_cursor(app, client, world, admins):
    closed_loop(app, client, world, deliver_each=False)
    everything = feed(client, world.yjs_manager)["events"]
    assert [event["type"] for event in everything] == LOOP_TYPES
    first = feed(client, world.yjs_manager, limit=3)
    assert first["events"] == everything[:3]
    rest = feed(client, world.yjs_manager, after=first["next_cursor"])
    assert rest["events"] == everything[3:]
    empty = feed(client, world.yjs_manager, after=rest["next_cursor"])
    assert empty == {"events": [], "next_cursor": rest["next_cursor"]}
    refused = client.get("/api/v1/events?after=-1&limit=501", headers=world.yjs_manager.headers)
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"after", "limit"}, refused.json


def test_unsequenced_events_are_not_in_the_feed_until_sequenced(app, client, world):
    made = create(client, world.officer, world.yjs)
    ok(act(client, world.officer, made["id"], "submit"))
    assert feed(client, world.yjs_manager)["events"] == []
    deliver(app)
    assert [e["type"] for e in feed(client, world.yjs_manager)["events"]] == ["referral.received"]


def test_a_change_that_rolls_back_announces_nothing(app, client, world, admins, new_receiver):
    receiver = new_receiver()
    subscribe(client, admins["yjs"], receiver.url)
    made = create(client, world.officer, world.yjs)
    ok(act(client, world.officer, made["id"], "submit"))
    # Closing without an outcome is refused: the transaction rolls back.
    refused = act(client, world.yjs_manager, made["id"], "close")
    assert refused.status_code in (409, 422)
    deliver(app)
    assert [r.body.count(b"received") for r in receiver.received] == [1]


def test_a_revoked_share_stops_events_queued_before_it(app, client, world, admins, new_receiver):
    """An event queued for the charity while it held the referral, not yet
    delivered (its receiver was down), is withheld once the share is revoked."""
    charity = new_receiver()
    charity.statuses = [500]
    secret = subscribe(client, admins["charity"], charity.url)["secret"]
    made = create(client, world.officer, world.yjs)
    rid = made["id"]
    ok(act(client, world.officer, rid, "submit"))
    grant = share_with(client, world, rid, world.charity)
    note(client, world.caseworker, rid, "shared")
    # Sequenced while the charity holds the referral: its three events
    # (received, shared, the note) are queued for it; the first fails (500)
    # and the others wait behind it.
    deliver(app)
    assert len(charity.received) == 1
    revoke(client, world, rid, grant["id"])
    charity.statuses = [200]
    make_due(app)
    deliver(app)
    assert len(charity.received) == 1  # nothing more: withheld, not sent
    assert charity.delivered(secret) == []
    with app.app_context():
        statuses = db.session.scalars(select(EventDelivery.status)).all()
    assert sorted(str(status) for status in statuses) == ["withheld"] * 3


def test_a_receiver_that_is_down_gets_the_event_on_a_later_try(
    app, client, world, admins, new_receiver
):
    receiver = new_receiver()
    receiver.statuses = [500, 503, 200]
    secret = subscribe(client, admins["yjs"], receiver.url)["secret"]
    made = create(client, world.officer, world.yjs)
    ok(act(client, world.officer, made["id"], "submit"))
    ok(act(client, world.yjs_manager, made["id"], "accept"))
    deliver(app)
    assert len(receiver.received) == 1  # failed; the accept waits behind it
    deliver(app)
    assert len(receiver.received) == 1  # not due again yet (back-off)
    for _ in range(2):
        make_due(app)
        deliver(app)
    assert [body["type"] for body in receiver.delivered(secret)] == [
        "referral.received",
        "referral.status_changed",
    ]
    # The same event, the same webhook-id on every try.
    assert len({r.headers["webhook-id"] for r in receiver.received[:3]}) == 1
    log = client.get(
        f"/api/v1/event-subscriptions/{_only_subscription(app)}/deliveries",
        headers=admins["yjs"].headers,
    ).json
    assert [entry["status_code"] for entry in log] == [200, 200, 503, 500]
    assert [entry["succeeded"] for entry in log] == [True, True, False, False]
    assert all(len(entry["response_excerpt"] or "") <= 300 for entry in log)
    assert log[-1]["error"] == "The receiver answered 500."
    assert log[-1]["event_type"] == "referral.received"


def make_due(app: Flask) -> None:
    """Every waiting retry due now, as if its back-off had passed."""
    with app.app_context():
        db.session.execute(update(EventDelivery).values(next_attempt_at=utcnow()))
        db.session.commit()


def _only_subscription(app: Flask) -> str:
    with app.app_context():
        return str(db.session.scalar(select(EventSubscription.id)))


def test_a_receiver_failing_again_and_again_is_disabled_and_its_admins_told(
    app, client, world, admins, new_receiver
):
    app.config["EVENT_MAX_FAILURES"] = 3
    try:
        receiver = new_receiver()
        receiver.statuses = [500]
        made = subscribe(client, admins["yjs"], receiver.url)
        created = create(client, world.officer, world.yjs)
        ok(act(client, world.officer, created["id"], "submit"))
        for _ in range(3):
            deliver(app)
            make_due(app)
        deliver(app)  # disabled: not tried a fourth time
        assert len(receiver.received) == 3
        shown = ok(
            client.get(f"/api/v1/event-subscriptions/{made['id']}", headers=admins["yjs"].headers)
        )
        assert shown["active"] is False
        assert shown["disabled_reason"] == "3 tries failed in a row."
        with app.app_context():
            mail = db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.recipient == admins["yjs"].user.email)
            ).all()
        assert [m.subject for m in mail] == ["An event subscription of your agency was turned off"]
        assert receiver.url in mail[0].body

        # Turned back on: the waiting event is tried again at once, and taken.
        receiver.statuses = [200]
        ok(
            client.post(
                f"/api/v1/event-subscriptions/{made['id']}/enable", headers=admins["yjs"].headers
            )
        )
        deliver(app)
        assert [body["type"] for body in receiver.delivered(made["secret"])] == [
            "referral.received"
        ]
    finally:
        app.config["EVENT_MAX_FAILURES"] = 10


def test_an_agency_never_receives_events_of_a_referral_it_does_not_hold(
    app, client, world, admins, new_receiver
):
    """The charity is given a share of one referral: it hears of that one
    only, never of the YJS's other referrals; the stranger hears nothing;
    a subscription wanting only some types gets only those."""
    charity, stranger, picky = new_receiver(), new_receiver(), new_receiver()
    subscribe(client, admins["charity"], charity.url)
    subscribe(client, admins["stranger_org"], stranger.url)
    picky_secret = subscribe(
        client, admins["police"], picky.url, event_types=["referral.status_changed"]
    )["secret"]
    shared = create(client, world.officer, world.yjs)
    other = create(client, world.officer, world.yjs)
    for made in (shared, other):
        ok(act(client, world.officer, made["id"], "submit"))
    share_with(client, world, shared["id"], world.charity)
    for made in (shared, other):
        ok(act(client, world.yjs_manager, made["id"], "accept"))
    deliver(app)
    assert {r.body.count(shared["id"].encode()) for r in charity.received} == {1}
    assert all(other["id"].encode() not in r.body for r in charity.received)
    assert stranger.received == []
    assert [body["type"] for body in picky.delivered(picky_secret)] == [
        "referral.status_changed",
        "referral.status_changed",
    ]
