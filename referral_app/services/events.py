"""Events about referrals: recorded in the transaction of the change they
announce, and read back as the pull feed.

`record()` only adds a row: a change that rolls back announces nothing.
The row has no `seq` until the event sequencer (services.event_delivery)
gives it one after its commit, in the order events became visible; `seq`
is the feed's cursor and the order of delivery, so a reader never skips
an event that committed late with a lower id.

Who hears of an event is decided when it is read or delivered, never when
it was recorded: an agency reads (and is sent) the events of the referrals
it holds at that moment (services.scoping). An agency whose share is
revoked stops hearing at once, including of the revocation itself: it no
longer holds the referral, and no exception is made (it learns of the
revocation the way it learns of every lost holding: the referral is gone,
404). Payloads carry ids, type and time, never personal data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Referral, Share, User, utcnow
from referral_app.models.event import Event, EventType
from referral_app.services import audit
from referral_app.services.errors import Invalid
from referral_app.services.scoping import holds

FEED_LIMIT = 100
FEED_MAX = 500

# A transition's events: submitting is the receiving agency's "received";
# every other move changes the status; closing also records the outcome.
_TRANSITION_EVENTS: dict[str, tuple[EventType, ...]] = {
    "submit": (EventType.RECEIVED,),
    "close": (EventType.STATUS_CHANGED, EventType.OUTCOME_RECORDED),
}


def record(
    event_type: EventType, referral_id: uuid.UUID, subject_id: uuid.UUID | None = None
) -> Event:
    """Append an event in the current transaction (unsequenced)."""
    event = Event(
        type=event_type, referral_id=referral_id, subject_id=subject_id, occurred_at=utcnow()
    )
    db.session.add(event)
    return event


def on_transition(referral: Referral, action: str) -> None:
    """The events of a status change (services.lifecycle.transition)."""
    for event_type in _TRANSITION_EVENTS.get(action, (EventType.STATUS_CHANGED,)):
        record(event_type, referral.id)


def on_note(note_id: uuid.UUID, referral_id: uuid.UUID, shared: bool) -> None:
    """A note added: an event when every holder may read it (an internal
    note is its own agency's business and is announced to nobody)."""
    if shared:
        record(EventType.NOTE_SHARED, referral_id, note_id)


def holders(referral_id: uuid.UUID) -> set[uuid.UUID]:
    """The agencies that hold a referral now: its referring agency, its
    receiving agency once submitted, and those with a live share (the same
    rule as services.scoping.holds, asked the other way round)."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        return set()
    found = {referral.referring_organisation_id}
    if referral.submitted_at is not None:
        found.add(referral.receiving_organisation_id)
    now = utcnow()
    found.update(
        db.session.scalars(
            select(Share.organisation_id).where(
                Share.referral_id == referral_id,
                Share.revoked_at.is_(None),
                Share.expires_at > now,
            )
        )
    )
    return found


@dataclass
class FeedPage:
    events: list[Event]
    next_cursor: int


def feed(actor: User, *, after: int = 0, limit: int = FEED_LIMIT) -> FeedPage:
    """The sequenced events after the cursor `after` about referrals the
    actor's agency holds now, in order; `next_cursor` is the last one's
    seq (or `after` when there is nothing new). Refuses a negative cursor
    and a limit outside 1..FEED_MAX (Invalid). The read is audited."""
    errors: dict[str, list[str]] = {}
    if after < 0:
        errors["after"] = ["Must be 0 or more: the next_cursor of the last page read."]
    if not 1 <= limit <= FEED_MAX:
        errors["limit"] = [f"Must be between 1 and {FEED_MAX}."]
    if errors:
        raise Invalid("The cursor or the limit is not valid.", errors)
    events = list(
        db.session.scalars(
            select(Event)
            .join(Referral, Event.referral_id == Referral.id)
            .where(Event.seq.is_not(None), Event.seq > after, holds(actor.organisation_id))
            .order_by(Event.seq)
            .limit(limit)
        )
    )
    audit.record(
        "event.feed_read",
        actor,
        record_type="event",
        record_ids=[event.seq for event in events],
    )
    return FeedPage(events, int(events[-1].seq or after) if events else after)
