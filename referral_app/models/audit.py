"""The audit trail: append-only and hash-chained."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from referral_app.extensions import Model
from referral_app.models.types import UTCDateTime


class AuditEvent(Model):
    """One event. `seq` is gap-free; `hash` = HMAC-SHA256(AUDIT_HMAC_KEY,
    canonical row + prev_hash). No foreign keys: the trail outlives what it
    describes, and nothing may cascade into it. Holds field names, never values."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_record", "record_type", "record_id"),
        Index("ix_audit_event_actor_organisation", "actor_organisation_id", "seq"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def canonical(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "request_id": self.request_id,
            "actor_user_id": str(self.actor_user_id) if self.actor_user_id else None,
            "actor_organisation_id": (
                str(self.actor_organisation_id) if self.actor_organisation_id else None
            ),
            "actor_role": self.actor_role,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "record_ids": self.record_ids,
            "fields": self.fields,
            "recipient_organisation_id": (
                str(self.recipient_organisation_id) if self.recipient_organisation_id else None
            ),
            "reason": self.reason,
            "outcome": self.outcome,
            "client_ip": self.client_ip,
        }

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action}>"
