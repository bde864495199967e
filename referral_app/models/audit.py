"""The audit trail: append-only and hash-chained.

An event is written unsealed, in the transaction of what it records: `id`
(provisional, in insertion order) and `mac`, with `seq`, `prev_hash` and
`hash` still NULL. The sequencer (services/audit_sequencer.py) seals it
shortly after its commit: the next gap-free `seq`, the hash before it, and
its own hash. What the hashes cover is defined here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Identity, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from referral_app.extensions import Model
from referral_app.models.types import UTCDateTime

GENESIS_HASH = "0" * 64
# The mac's message starts with this, so a mac can never pass for a chain hash.
MAC_DOMAIN = "referral-audit-event/v1\n"
_Id = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Model):
    """One event. Once sealed, `seq` is gap-free and `hash` = HMAC-SHA256(
    AUDIT_HMAC_KEY, canonical row + prev_hash). Until then `mac` =
    HMAC-SHA256(AUDIT_HMAC_KEY, canonical row without seq, with written_at)
    shows whether it was changed while it waited. No foreign keys: the trail
    outlives what it describes, and nothing may cascade into it. Holds field
    names, never values."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_record", "record_type", "record_id"),
        Index("ix_audit_event_actor_organisation", "actor_organisation_id", "id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ux_audit_event_seq", "seq", unique=True),
        # What the sequencer reads: the few rows still waiting, in order.
        Index(
            "ix_audit_event_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    # An identity column on PostgreSQL (a role with INSERT on the table may
    # write, without a grant on a sequence); SQLite's rowid.
    id: Mapped[int] = mapped_column(_Id, Identity(), primary_key=True)
    # NULL until sealed.
    seq: Mapped[int | None] = mapped_column(_Id)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_role: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64))
    # A list read names every record it showed.
    record_ids: Mapped[list[str] | None] = mapped_column(JSON)
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    recipient_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    # When the row was inserted (the seal bound runs from here). NULL, like
    # `mac`, on events sealed before the sequencer existed.
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mac: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    def canonical(self) -> dict[str, Any]:
        return canonical(self)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} seq={self.seq} {self.action}>"


def _text(value: object) -> str | None:
    return str(value) if value else None


def content(event: Any) -> dict[str, Any]:
    """What an event says, without its place in the chain. `event` is an
    AuditEvent, a row read with Core, or an event not yet written."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "request_id": event.request_id,
        "actor_user_id": _text(event.actor_user_id),
        "actor_organisation_id": _text(event.actor_organisation_id),
        "actor_role": event.actor_role,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "record_ids": event.record_ids,
        "fields": event.fields,
        "recipient_organisation_id": _text(event.recipient_organisation_id),
        "reason": event.reason,
        "outcome": event.outcome,
        "client_ip": event.client_ip,
    }


def canonical(event: Any, seq: int | None = None) -> dict[str, Any]:
    """The sealed row as the chain hash covers it (unchanged since the
    first events: old chains still verify)."""
    return {"seq": event.seq if seq is None else seq, **content(event)}


def _digest(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def chain_hash(event: Any, prev_hash: str, key: bytes, seq: int | None = None) -> str:
    """HMAC-SHA256(key, canonical row + prev_hash): `seq` when the event does
    not carry it yet (while it is being sealed)."""
    return _digest(key, _json(canonical(event, seq)) + prev_hash)


def event_mac(event: Any, written_at: datetime, key: bytes) -> str:
    """The HMAC an unsealed event carries: its content and when it was
    written (so a waiting event cannot be made to look fresh), not its seq."""
    return _digest(
        key, MAC_DOMAIN + _json({**content(event), "written_at": written_at.isoformat()})
    )
