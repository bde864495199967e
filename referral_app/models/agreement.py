"""Information sharing agreements between agencies (the ICO's data sharing
code): who the parties are, for what purposes, on which lawful bases, which
categories of data, from when until when, and the signed document. A share
of a referral cites the agreement that covers it (Share.agreement_id) or
says why it is made without one (Share.no_agreement_reason)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation
from referral_app.models.types import UTCDateTime, new_uuid, uk_today, utcnow
from referral_app.models.user import User


class DataCategory(enum.StrEnum):
    """The categories of personal data an agreement covers."""

    IDENTITY_AND_CONTACT = "identity_and_contact"
    FAMILY_AND_HOUSEHOLD = "family_and_household"
    EDUCATION = "education"
    HEALTH = "health"
    OFFENDING_AND_POLICE_INTELLIGENCE = "offending_and_police_intelligence"
    SOCIAL_CARE = "social_care"
    SPECIAL_CATEGORY = "special_category"
    CRIMINAL_OFFENCE = "criminal_offence"


class Agreement(Model):
    """An agreement is in force from `starts_on` to `ends_on` (UK calendar
    days, both included; no end: open-ended). `lawful_bases` and
    `data_categories` hold LawfulBasis and DataCategory values."""

    __tablename__ = "agreement"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    title: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(64))
    purposes: Mapped[str] = mapped_column(Text)
    lawful_bases: Mapped[list[str]] = mapped_column(JSON)
    data_categories: Mapped[list[str]] = mapped_column(JSON)
    starts_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Where the signed paper is kept (a file reference or a link), and the
    # signed document itself when uploaded: checked by content and stored
    # encrypted (referral_app.document_storage), served only as a download.
    document_reference: Mapped[str | None] = mapped_column(String(500))
    document_key: Mapped[str | None] = mapped_column(String(100))
    document_filename: Mapped[str | None] = mapped_column(String(200))
    document_content_type: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    created_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The review date the parties' managers were last told about (once per date).
    review_notified_on: Mapped[date | None] = mapped_column(Date)

    parties: Mapped[list[AgreementParty]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AgreementParty.organisation_id"
    )
    created_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def party_ids(self) -> set[uuid.UUID]:
        return {party.organisation_id for party in self.parties}

    def in_force_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    @property
    def in_force_today(self) -> bool:
        return self.in_force_on(uk_today())

    def __repr__(self) -> str:
        return f"<Agreement {self.reference}>"


class AgreementParty(Model):
    __tablename__ = "agreement_party"
    __table_args__ = (Index("ix_agreement_party_organisation", "organisation_id", "agreement_id"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id"), primary_key=True
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<AgreementParty {self.agreement_id} {self.organisation_id}>"


__all__ = ["Agreement", "AgreementParty", "DataCategory"]
