"""Exploitation screenings of a referral: the answers to a versioned tool
(referral_app.screening_tools), the level the tool indicated, and the
practitioner's own judgement beside it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.referral import Referral, RiskLevel
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


class Screening(Model):
    """One completed screening. `answers` is {indicator id: {"answer":
    "yes" | "no" | "not_known", "evidence": str | None}} for every indicator
    of the tool's version `tool_version`; the indicated level is what that
    version computed when it was completed (kept, not recomputed, so a
    report reads what the practitioner was shown). The judgement is the
    practitioner's level, with a reason when it differs from the indicated."""

    __tablename__ = "screening"
    __table_args__ = (Index("ix_screening_referral_completed", "referral_id", "completed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    tool_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    indicated_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "indicated_level"))
    judgement_level: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "judgement_level")
    )
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    judged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    judged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    completed_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(lazy="joined", innerjoin=True)
    completed_by: Mapped[User] = relationship(
        foreign_keys=[completed_by_id], lazy="joined", innerjoin=True
    )
    completed_by_organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    judged_by: Mapped[User | None] = relationship(foreign_keys=[judged_by_id], lazy="joined")

    @property
    def level(self) -> RiskLevel:
        """The level that stands: the practitioner's judgement, else the indicated."""
        return self.judgement_level or self.indicated_level

    def __repr__(self) -> str:
        return f"<Screening {self.id}>"
