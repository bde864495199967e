"""Delivering events to agencies' webhook subscriptions, from the
transactional outbox: events are rows written with the change
(services.events), and the job runner (referral_app.jobs.deliver_events)
sends them after the commit.

`sequence()` gives each committed, unsequenced event the next `seq` (one
sequencer at a time: an advisory lock on PostgreSQL, SQLite's IMMEDIATE
transactions otherwise) and queues one delivery per active subscription
that wants its type, of each agency holding the referral then.

`deliver_due()` sends each subscription's deliveries in `seq` order, one
at a time: a delivery waiting for its retry holds back the later ones, so a
receiver sees the events in order. Before each try the agency's holding is
asked again: a delivery of a referral the agency no longer holds (a share
revoked or expired since it was queued) is withheld, never sent. Each try
is signed per Standard Webhooks (webhook-id `evt_<seq>`, the same on every
try; webhook-timestamp; webhook-signature v1 HMAC-SHA256), posted with a
short timeout, redirects not followed, and logged (status, error, duration,
at most RESPONSE_EXCERPT characters of the answer). A 2xx answer delivers;
anything else is retried with exponential back-off. After
EVENT_MAX_FAILURES failed tries in a row, or EVENT_FAILING_FOR of failures,
the subscription is disabled and the agency's org admins are e-mailed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from flask import current_app
from sqlalchemy import func, select, text
from standardwebhooks.webhooks import Webhook

from referral_app.extensions import db
from referral_app.models import OutboxEmail, Role, utcnow
from referral_app.models.event import (
    DeliveryStatus,
    Event,
    EventDelivery,
    EventDeliveryAttempt,
    EventSubscription,
)
from referral_app.services import audit, events, notifications
from referral_app.services.event_subscriptions import UnsafeEndpoint, check_endpoint, secret_of
from referral_app.services.scoping import organisation_holds

# Any constant distinct from other advisory locks of the database ("EVNT").
SEQUENCE_LOCK_KEY = 0x45564E54
RESPONSE_EXCERPT = 300
BATCH = 200


@dataclass
class DeliveryReport:
    sequenced: int = 0
    delivered: int = 0
    failed: int = 0
    withheld: int = 0
    disabled: int = 0


def backoff(attempts: int) -> timedelta:
    config = current_app.config
    first, most = int(config["EVENT_BACKOFF_FIRST"]), int(config["EVENT_BACKOFF_MAX"])
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), most))


def sequence() -> int:
    """Sequence what is waiting and queue its deliveries; commits. Returns
    how many events were sequenced."""
    if db.session.get_bind().dialect.name == "postgresql":
        locked = db.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK_KEY}
        )
        if not locked:
            db.session.commit()
            return 0
    waiting = list(
        db.session.scalars(select(Event).where(Event.seq.is_(None)).order_by(Event.id).limit(BATCH))
    )
    if not waiting:
        db.session.commit()
        return 0
    head = int(db.session.scalar(select(func.max(Event.seq))) or 0)
    subscriptions = list(
        db.session.scalars(select(EventSubscription).where(EventSubscription.active.is_(True)))
    )
    now = utcnow()
    for event in waiting:
        head += 1
        event.seq = head
        holding = events.holders(event.referral_id) if subscriptions else set()
        for subscription in subscriptions:
            if subscription.organisation_id in holding and subscription.wants(event.type):
                db.session.add(
                    EventDelivery(
                        subscription_id=subscription.id,
                        event_id=event.id,
                        event_seq=head,
                        status=DeliveryStatus.PENDING,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
    db.session.commit()
    return len(waiting)


def _next_delivery(subscription_id: uuid.UUID) -> EventDelivery | None:
    return db.session.scalar(
        select(EventDelivery)
        .where(
            EventDelivery.subscription_id == subscription_id,
            EventDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(EventDelivery.event_seq)
        .limit(1)
    )


def _lock(subscription_id: uuid.UUID) -> EventSubscription | None:
    """The subscription, locked for this sender (PostgreSQL: SKIP LOCKED, so
    two senders never deliver the same subscription's queue at once)."""
    query = select(EventSubscription).where(
        EventSubscription.id == subscription_id, EventSubscription.active.is_(True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=EventSubscription)
    return db.session.scalar(query)


def signed_request(subscription: EventSubscription, event: Event) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers of one try."""
    body = json.dumps(event.payload(), separators=(",", ":"))
    timestamp = datetime.now(UTC)
    signature = Webhook(secret_of(subscription)).sign(event.webhook_id, timestamp, body)
    return body.encode(), {
        "content-type": "application/json",
        "user-agent": "referral-events/1",
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def _post(subscription: EventSubscription, event: Event) -> tuple[int | None, str | None, str]:
    """(status code, error, the start of the answer) of one try."""
    try:
        check_endpoint(subscription.url)
    except UnsafeEndpoint as error:
        return None, f"Refused: {error}", ""
    body, headers = signed_request(subscription, event)
    timeout = float(current_app.config["EVENT_DELIVERY_TIMEOUT"])
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", subscription.url, content=body, headers=headers) as answer,
        ):
            excerpt = b""
            for chunk in answer.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT:
                    break
            return answer.status_code, None, excerpt[:RESPONSE_EXCERPT].decode(errors="replace")
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {str(error)[:300]}", ""


def _disable(subscription: EventSubscription, now: datetime, reason: str) -> None:
    subscription.active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason
    base_url = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    for admin in notifications.staff_with_role(subscription.organisation_id, Role.ORG_ADMIN):
        db.session.add(
            OutboxEmail(
                recipient=admin.email,
                subject="An event subscription of your agency was turned off",
                body=(
                    f"Events stopped going to {subscription.url}: {reason}\n\n"
                    "See the delivery log and turn it back on: "
                    f"{base_url}/admin/events/{subscription.id}\n"
                ),
            )
        )
    audit.record(
        "event_subscription.disabled",
        None,
        record_type="event_subscription",
        record_id=subscription.id,
        reason=reason,
        fields=["active"],
    )


def _attempt(subscription: EventSubscription, delivery: EventDelivery, now: datetime) -> bool:
    """One try of `delivery`, logged; True when delivered."""
    started = time.monotonic()
    status_code, error, excerpt = _post(subscription, delivery.event)
    succeeded = error is None and status_code is not None and 200 <= status_code < 300
    if error is None and not succeeded:
        error = f"The receiver answered {status_code}."
    db.session.add(
        EventDeliveryAttempt(
            delivery_id=delivery.id,
            subscription_id=subscription.id,
            attempted_at=now,
            status_code=status_code,
            succeeded=succeeded,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
            response_excerpt=excerpt or None,
        )
    )
    delivery.attempts += 1
    if succeeded:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.finished_at = utcnow()
        subscription.consecutive_failures = 0
        subscription.failing_since = None
        audit.record(
            "event.delivered",
            None,
            record_type="referral",
            record_id=delivery.event.referral_id,
            record_ids=[delivery.event_seq],
            recipient_organisation_id=subscription.organisation_id,
        )
        return True
    delivery.next_attempt_at = now + backoff(delivery.attempts)
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    config = current_app.config
    if subscription.consecutive_failures >= int(config["EVENT_MAX_FAILURES"]):
        _disable(subscription, now, f"{subscription.consecutive_failures} tries failed in a row.")
    elif now - subscription.failing_since >= config["EVENT_FAILING_FOR"]:
        _disable(
            subscription,
            now,
            "Every try has failed since " + f"{subscription.failing_since:%d %B %Y %H:%M} UTC.",
        )
    return False


def _deliver_queue(subscription_id: uuid.UUID, report: DeliveryReport) -> None:
    """Send one subscription's due deliveries in order, committing each."""
    while True:
        subscription = _lock(subscription_id)
        delivery = _next_delivery(subscription_id) if subscription is not None else None
        now = utcnow()
        if subscription is None or delivery is None or delivery.next_attempt_at > now:
            db.session.commit()
            return
        if not organisation_holds(subscription.organisation_id, delivery.event.referral_id):
            delivery.status = DeliveryStatus.WITHHELD
            delivery.finished_at = now
            report.withheld += 1
            db.session.commit()
            continue
        delivered = _attempt(subscription, delivery, now)
        report.disabled += int(not subscription.active)
        db.session.commit()
        if not delivered:
            report.failed += 1
            return
        report.delivered += 1


def deliver_due() -> DeliveryReport:
    """Send what is due, every subscription's queue in turn."""
    report = DeliveryReport()
    now = utcnow()
    queues = list(
        db.session.scalars(
            select(EventDelivery.subscription_id)
            .join(EventSubscription, EventDelivery.subscription_id == EventSubscription.id)
            .where(
                EventSubscription.active.is_(True),
                EventDelivery.status == DeliveryStatus.PENDING,
                EventDelivery.next_attempt_at <= now,
            )
            .distinct()
        )
    )
    db.session.commit()
    for subscription_id in queues:
        _deliver_queue(subscription_id, report)
    return report


def run() -> DeliveryReport:
    """What the job runner does each time: sequence, then deliver."""
    sequenced = 0
    while count := sequence():
        sequenced += count
    report = deliver_due()
    report.sequenced = sequenced
    return report


def deliveries_log(
    subscription: EventSubscription, *, limit: int = 50
) -> list[EventDeliveryAttempt]:
    """The latest tries of a subscription's deliveries, newest first."""
    return list(
        db.session.scalars(
            select(EventDeliveryAttempt)
            .where(EventDeliveryAttempt.subscription_id == subscription.id)
            .order_by(EventDeliveryAttempt.id.desc())
            .limit(limit)
        )
    )


def waiting(subscription: EventSubscription) -> int:
    """How many of the subscription's deliveries wait to be sent."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                EventDelivery.subscription_id == subscription.id,
                EventDelivery.status == DeliveryStatus.PENDING,
            )
        )
        or 0
    )
