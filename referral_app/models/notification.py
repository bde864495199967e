"""In-app notifications and the e-mail outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.agreement import Agreement
from referral_app.models.organisation import enum_column
from referral_app.models.referral import Referral, Share
from referral_app.models.types import UTCDateTime, new_uuid, utcnow


class NotificationKind(enum.StrEnum):
    ARRIVED = "referral_arrived"  # submitted: the receiving agency's managers
    ASSIGNED = "referral_assigned"  # the assignee
    DECLINED = "referral_declined"  # the referrer and the referring managers
    CLOSED = "referral_closed"  # the referrer and the referring managers
    REOPENED = "referral_reopened"  # the referrer and the referring managers
    SHARED = "referral_shared"  # the further agency's managers
    OVERDUE = "triage_overdue"  # the receiving agency's managers
    ACTION_ASSIGNED = "action_assigned"  # the action's named owner
    ACTION_DUE = "action_due"  # due tomorrow: its owner, or its agency's managers
    ACTION_OVERDUE = "action_overdue"  # past its due date: the same
    # About a share, not a referral: the auditors of the sharing and the
    # recipient agency (auditors see no case data: the notice names the
    # agencies, the purpose and the reason, never the child).
    SHARED_WITHOUT_AGREEMENT = "shared_without_agreement"
    # About an agreement: the managers of every party agency.
    AGREEMENT_REVIEW_DUE = "agreement_review_due"


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient_unread", "recipient_id", "read_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind")
    )
    # A notification is about a referral, or (the kinds above say which)
    # about a share made without an agreement or about an agreement.
    referral_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    share_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("share.id", ondelete="CASCADE"))
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Referral | None] = relationship(lazy="joined")
    share: Mapped[Share | None] = relationship(lazy="joined")
    agreement: Mapped[Agreement | None] = relationship(lazy="joined")

    @property
    def notice(self) -> str | None:
        """What a notice about a share or an agreement says (None for one
        about a referral): agencies, purpose, reason, never the child."""
        if self.share is not None:
            grant = self.share
            return (
                f"{grant.granted_by.organisation.name} shared a referral with "
                f"{grant.organisation.name} without an information sharing agreement. "
                f"Purpose: {grant.purpose} Reason: {grant.no_agreement_reason}"
            )
        if self.agreement is not None:
            agreement = self.agreement
            return (
                f"The information sharing agreement {agreement.title} "
                f"({agreement.reference}) is due for review on "
                f"{agreement.review_on.day} {agreement.review_on:%B %Y}."
            )
        return None

    def __repr__(self) -> str:
        return f"<Notification {self.kind}>"


class OutboxEmail(Model):
    """An e-mail waiting to be sent, written in the same transaction as the
    event that causes it. Carries only the reference and a link: no personal data."""

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_email_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id}>"


class ChildMerge(Model):
    """Two child records found to be the same child: the merged one's
    referrals moved to the survivor. Undone by setting `undone_at`, which
    moves exactly `moved_referral_ids` back."""

    __tablename__ = "child_merge"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    survivor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("child.id"), index=True)
    merged_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("child.id"), index=True)
    moved_referral_ids: Mapped[list[str]] = mapped_column(JSON)
    merged_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ChildMerge {self.id}>"
