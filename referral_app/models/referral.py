"""Children, referrals and what hangs off a referral: its status history,
shares with further agencies, and case notes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from referral_app.extensions import Model
from referral_app.models.directory import DirectoryService
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.referral_values import (
    ConsentDecision,
    ConsentStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Outcome,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    SpecialCategoryCondition,
    TransitionAction,
)
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


def _trigram(name: str, expression: Any) -> Index:
    """A trigram index for substring search (LIKE '%term%'), PostgreSQL only
    (pg_trgm); SQLite searches without it."""
    return Index(
        name,
        expression.label(name),
        postgresql_using="gin",
        postgresql_ops={name: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


class Child(Model):
    __tablename__ = "child"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(10))
    school: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    # Set when merged into another record (see ChildMerge); cleared by an unmerge.
    # (No foreign key: adding one would rebuild the table on SQLite; the
    # ChildMerge row holds the link with its keys.)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Set when retention removed the identifying details.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Child {self.id}>"


# Finding a child: the name search (services.referrals.search) and matching
# (services.child_matching.find_matches, which narrows by date of birth or postcode).


def child_full_name() -> Any:
    """lower(first_name || ' ' || last_name), the space a literal so that the
    search's expression is the index's, character for character."""
    return func.lower(Child.first_name + literal_column("' '") + Child.last_name)


_trigram("ix_child_full_name_trgm", child_full_name())
Index("ix_child_date_of_birth", Child.date_of_birth)
Index("ix_child_postcode", Child.postcode)


def overdue_at(status: ReferralStatus, triage_deadline: datetime | None, now: datetime) -> bool:
    """The one rule for an overdue referral: submitted and past its triage
    deadline (for a Referral, or for a row read without one)."""
    return (
        status is ReferralStatus.SUBMITTED and triage_deadline is not None and triage_deadline < now
    )


class Referral(Model):
    __tablename__ = "referral"
    # Lets `viewer_actions` below be a plain attribute, not a column.
    __allow_unmapped__ = True
    # The worklists: an agency's referrals newest first, optionally by status,
    # are read straight off these in order (LIMIT stops the scan early).
    __table_args__ = (
        Index("ix_referral_receiving_status", "receiving_organisation_id", "status", "created_at"),
        Index("ix_referral_referring_status", "referring_organisation_id", "status", "created_at"),
        Index("ix_referral_receiving_created", "receiving_organisation_id", "created_at"),
        Index("ix_referral_referring_created", "referring_organisation_id", "created_at"),
        Index("ix_referral_created", "created_at"),
        # Reports count an agency's referrals by when they arrived.
        Index("ix_referral_receiving_submitted", "receiving_organisation_id", "submitted_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("child.id"), index=True)
    referring_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    referring_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    receiving_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "referral_status"), default=ReferralStatus.DRAFT
    )
    risk_level: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "risk_level"))
    risk_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    consent_status: Mapped[ConsentStatus | None] = mapped_column(
        enum_column(ConsentStatus, "consent_status")
    )
    consent_notes: Mapped[str | None] = mapped_column(Text)
    lawful_basis: Mapped[LawfulBasis | None] = mapped_column(
        enum_column(LawfulBasis, "lawful_basis")
    )
    # Set when the referral holds special category data (services.consent
    # says which conditions apply to which basis).
    special_category_condition: Mapped[SpecialCategoryCondition | None] = mapped_column(
        enum_column(SpecialCategoryCondition, "special_category_condition")
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "outcome"))
    outcome_summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triage_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention skips a referral on legal hold (and its child's details).
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Why it was put on (or taken off) legal hold: free text that may name
    # people, so it lives here (where retention reaches it), never in the
    # append-only audit trail, which records only that a reason was given.
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    # When the receiving managers were told the triage deadline passed.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The directory service the referral is for, if it names one (optional).
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directory_service.id"), index=True
    )
    # Optimistic locking: every UPDATE says "WHERE version = <the version I
    # read>", so of two writers that read the same version only one wins.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012

    child: Mapped[Child] = relationship(lazy="joined", innerjoin=True)
    referring_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[referring_organisation_id], lazy="joined", innerjoin=True
    )
    receiving_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[receiving_organisation_id], lazy="joined", innerjoin=True
    )
    # selectin: one query per page of referrals, never one per referral.
    # Joined, not a query each: a page of referrals is one SELECT.
    referring_user: Mapped[User] = relationship(
        foreign_keys=[referring_user_id], lazy="joined", innerjoin=True
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    service: Mapped[DirectoryService | None] = relationship(lazy="joined")

    # The transitions the person reading it may take now, as the service that
    # read it for them worked out (services.lifecycle.for_viewer); not a
    # column, and nothing until a service fills it in.
    viewer_actions: tuple[str, ...] = ()

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Submitted and past its triage deadline."""
        return overdue_at(self.status, self.triage_deadline, now or utcnow())

    def __repr__(self) -> str:
        return f"<Referral {self.reference} {self.status}>"


class StatusChange(Model):
    __tablename__ = "status_change"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[ReferralStatus | None] = mapped_column(
        enum_column(ReferralStatus, "from_status")
    )
    to_status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus, "to_status"))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    actor_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User] = relationship(lazy="selectin")
    actor_organisation: Mapped[Organisation] = relationship(lazy="selectin")

    def __repr__(self) -> str:
        return f"<StatusChange {self.from_status}->{self.to_status}>"


class Share(Model):
    __tablename__ = "share"
    __table_args__ = (Index("ix_share_organisation_referral", "organisation_id", "referral_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    purpose: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[LawfulBasis] = mapped_column(enum_column(LawfulBasis, "share_basis"))
    granted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    # A share for a multi-agency meeting: its purpose is the meeting, its
    # expiry the meeting's date plus 30 days.
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL")
    )
    # The information sharing agreement that covers the share, or why it is
    # made without one (services.agreements.check_share): one of the two.
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreement.id"), index=True)
    no_agreement_reason: Mapped[str | None] = mapped_column(Text)
    # The family withdrew consent while the share was live: the granting
    # agency decides whether to go on sharing (services.consent). Until it
    # has (`consent_decision` null) the share is flagged to its holders.
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_decision: Mapped[ConsentDecision | None] = mapped_column(
        enum_column(ConsentDecision, "consent_decision")
    )
    consent_decision_basis: Mapped[LawfulBasis | None] = mapped_column(
        enum_column(LawfulBasis, "consent_decision_basis")
    )
    consent_decision_reason: Mapped[str | None] = mapped_column(Text)
    consent_decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    consent_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The action that asks the granting agency to decide (closed by the decision).
    consent_action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id], lazy="selectin")

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @property
    def consent_decision_needed(self) -> bool:
        """Consent was withdrawn while it was live and nobody has decided yet."""
        return (
            self.consent_withdrawn_at is not None
            and self.consent_decision is None
            and self.revoked_at is None
        )

    def __repr__(self) -> str:
        return f"<Share {self.id}>"


class Note(Model):
    """Append-only: a correction is a new note."""

    __tablename__ = "note"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[NoteKind] = mapped_column(enum_column(NoteKind, "note_kind"))
    body: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visibility: Mapped[NoteVisibility] = mapped_column(
        enum_column(NoteVisibility, "note_visibility")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Marked by a practitioner as significant: it goes into the child's
    # chronology (contacts and home visits always do).
    significant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when retention removed the text.
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(lazy="selectin")
    organisation: Mapped[Organisation] = relationship(lazy="selectin")

    def __repr__(self) -> str:
        return f"<Note {self.id}>"


class ReferenceCounter(Model):
    """The last human reference number issued in a year. Incremented with an
    UPDATE ... RETURNING, which locks the row until commit: two referrals
    never get the same number."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Model):
    """The first answer to a POST made with an Idempotency-Key, per user."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "Child",
    "ConsentDecision",
    "ConsentStatus",
    "IdempotencyRecord",
    "LawfulBasis",
    "Note",
    "NoteKind",
    "NoteVisibility",
    "Outcome",
    "ReferenceCounter",
    "Referral",
    "ReferralStatus",
    "RiskFactor",
    "RiskLevel",
    "Share",
    "SpecialCategoryCondition",
    "StatusChange",
    "TransitionAction",
]
