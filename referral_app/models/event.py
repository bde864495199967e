"""Events about referrals, and their delivery to the agencies that hold them.

An `Event` is appended in the transaction of the change it announces (so a
change that rolled back announces nothing) with `seq` still NULL; the event
sequencer (services/event_delivery.sequence) gives each committed event the
next `seq` in the order the events became visible: `seq` is the pull feed's
cursor and the order of delivery. Events carry ids only, never personal data.

An `EventSubscription` is an agency's HTTPS endpoint for some or all event
types, with its Standard Webhooks signing secret (encrypted at rest). An
`EventDelivery` is one event for one subscription (made when the event is
sequenced, for the agencies that hold the referral then); each try is an
`EventDeliveryAttempt`, the subscription's delivery log.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.types import UTCDateTime, new_uuid, utcnow

_Id = BigInteger().with_variant(Integer(), "sqlite")


class EventType(enum.StrEnum):
    RECEIVED = "referral.received"  # submitted to the receiving agency
    STATUS_CHANGED = "referral.status_changed"  # accept, decline, assign, close, ...
    OUTCOME_RECORDED = "referral.outcome_recorded"  # closed with an outcome
    NOTE_SHARED = "referral.note_shared"  # a note visible to every holder
    SHARE_GRANTED = "referral.share_granted"
    SHARE_REVOKED = "referral.share_revoked"
    ACTION_DUE = "referral.action_due"  # due tomorrow, or now overdue


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Not sent: the agency no longer held the referral when its turn came.
    WITHHELD = "withheld"


class Event(Model):
    __tablename__ = "event"
    __table_args__ = (
        Index("ux_event_seq", "seq", unique=True),
        Index(
            "ix_event_unsequenced",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        Index("ix_event_referral", "referral_id"),
    )

    id: Mapped[int] = mapped_column(_Id, Identity(), primary_key=True)
    seq: Mapped[int | None] = mapped_column(_Id)
    type: Mapped[EventType] = mapped_column(enum_column(EventType, "event_type"))
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    # The note, share or action the event is about (None for the referral's own).
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: the same for every try."""
        return f"evt_{self.seq}"

    def _subject(self, *types: EventType) -> uuid.UUID | None:
        return self.subject_id if self.type in types else None

    @property
    def note_id(self) -> uuid.UUID | None:
        return self._subject(EventType.NOTE_SHARED)

    @property
    def share_id(self) -> uuid.UUID | None:
        return self._subject(EventType.SHARE_GRANTED, EventType.SHARE_REVOKED)

    @property
    def action_id(self) -> uuid.UUID | None:
        return self._subject(EventType.ACTION_DUE)

    def payload(self) -> dict[str, Any]:
        """What a receiver is sent, and the feed lists (schemas.event.EventSchema):
        ids, type and time only."""

        def text(value: uuid.UUID | None) -> str | None:
            return str(value) if value is not None else None

        return {
            "id": self.seq,
            "type": str(self.type),
            "occurred_at": self.occurred_at.isoformat(),
            "referral_id": str(self.referral_id),
            "note_id": text(self.note_id),
            "share_id": text(self.share_id),
            "action_id": text(self.action_id),
        }

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.type}>"


class EventSubscription(Model):
    __tablename__ = "event_subscription"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    # The event types sent; empty means every type.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The system of the agency that receives the events, when it is named
    # (services.system_accounts); the subscription is the agency's either way.
    system_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("system_account.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def __repr__(self) -> str:
        return f"<EventSubscription {self.id}>"


class EventDelivery(Model):
    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_event_delivery_queue", "subscription_id", "status", "event_seq"),
    )

    id: Mapped[int] = mapped_column(_Id, Identity(), primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    # The event's seq: deliveries of a subscription go in this order.
    event_seq: Mapped[int] = mapped_column(_Id)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "event_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    subscription: Mapped[EventSubscription] = relationship(lazy="joined", innerjoin=True)


class EventDeliveryAttempt(Model):
    """One try of a delivery: the subscription's log. `response_excerpt` is
    at most a few hundred characters of what the receiver answered."""

    __tablename__ = "event_delivery_attempt"
    __table_args__ = (Index("ix_event_delivery_attempt_log", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(_Id, Identity(), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("event_delivery.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_subscription.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_excerpt: Mapped[str | None] = mapped_column(String(300))

    delivery: Mapped[EventDelivery] = relationship(lazy="joined", innerjoin=True)
