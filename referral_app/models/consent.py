"""Consent as a history: every change in the family's consent to a referral,
who gave or withdrew it, how and when (append-only; the referral's
`consent_status` is the latest, kept in step by services.consent)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.referral import ConsentStatus
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


class ConsentGiver(enum.StrEnum):
    """Who gave, refused or withdrew consent."""

    CHILD = "child"
    PARENT_OR_CARER = "parent_or_carer"
    OTHER = "other"


class ConsentMethod(enum.StrEnum):
    """How the family said it."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    LETTER_OR_FORM = "letter_or_form"
    EMAIL = "email"
    OTHER = "other"
    # A status typed on the referral itself (when it was made or edited, and
    # the one back-filled for referrals made before the history).
    ON_THE_REFERRAL = "on_the_referral"


class ConsentChange(Model):
    """One change in consent. Never updated: a correction is a new change
    (retention may blank the note)."""

    __tablename__ = "consent_change"
    __table_args__ = (Index("ix_consent_change_referral_recorded", "referral_id", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    status: Mapped[ConsentStatus] = mapped_column(
        enum_column(ConsentStatus, "consent_change_status")
    )
    given_by: Mapped[ConsentGiver | None] = mapped_column(enum_column(ConsentGiver, "given_by"))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, "consent_method"))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    recorded_by_organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<ConsentChange {self.id} {self.status}>"


__all__ = ["ConsentChange", "ConsentGiver", "ConsentMethod"]
