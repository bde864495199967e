"""The work after a referral: actions with owners and due dates, and
multi-agency child exploitation (MACE) meetings with their invited agencies,
attendance, agenda of referrals and decisions."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.referral import Referral, RiskLevel
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    """Whether an invited agency came to the meeting."""

    ATTENDED = "attended"
    APOLOGIES = "apologies"  # sent apologies
    ABSENT = "absent"  # did not attend, no apologies


class AgendaDecision(enum.StrEnum):
    """What a meeting decided about a child on its agenda."""

    CONTINUE = "continue"  # stays on review: carried to the next meeting
    CLOSE = "close"  # comes off review
    ESCALATE_CSC = "escalate_to_childrens_social_care"
    NRM_REFERRAL = "nrm_referral"  # a National Referral Mechanism referral


# Decisions that keep the child on review at the next meeting.
ON_REVIEW = frozenset(
    {AgendaDecision.CONTINUE, AgendaDecision.ESCALATE_CSC, AgendaDecision.NRM_REFERRAL}
)


class Meeting(Model):
    """A multi-agency meeting, convened by one agency, about the referrals
    on its agenda. Visible to the convening agency and the agencies invited."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_convening_held", "convening_organisation_id", "held_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    title: Mapped[str] = mapped_column(String(200))
    convening_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    convened_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    place: Mapped[str | None] = mapped_column(String(300))
    # The meeting this one follows: its open actions and the children still
    # on review were carried forward into this one.
    follows_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meeting.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    convening_organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    convened_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Meeting {self.id}>"


class MeetingInvitation(Model):
    """An agency taking part in a meeting (the convening agency has one
    too), and whether it attended, with who came."""

    __tablename__ = "meeting_invitation"
    __table_args__ = (
        UniqueConstraint("meeting_id", "organisation_id"),
        Index("ix_meeting_invitation_organisation", "organisation_id", "meeting_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    attendance: Mapped[Attendance | None] = mapped_column(enum_column(Attendance, "attendance"))
    # Who came: names and roles as the minutes record them.
    attendees: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<MeetingInvitation {self.organisation_id}>"


class AgendaItem(Model):
    """A referral on a meeting's agenda, put there by an agency that holds
    it, and what the meeting made of it. Only the referral's holders see
    its details; other participants see that an item exists."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "referral_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    added_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    added_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Carried forward from the previous meeting's item (still on review).
    carried_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agenda_item.id"))
    discussion: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[AgendaDecision | None] = mapped_column(
        enum_column(AgendaDecision, "agenda_decision")
    )
    # The risk level before the meeting and the one it agreed (the same
    # level: confirmed; another: changed, and the referral's level with it).
    risk_level_before: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "risk_level_before")
    )
    risk_level: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "agreed_risk"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id")
    )
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(lazy="joined", innerjoin=True)
    added_by_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[added_by_organisation_id], lazy="joined", innerjoin=True
    )

    def __repr__(self) -> str:
        return f"<AgendaItem {self.id}>"


class Action(Model):
    """Something an agency (and optionally a named person in it) agreed to
    do about a referral, by a date: made by a holder of the referral for its
    own agency, or agreed at a meeting for an agency taking part. Visible to
    the agencies that hold the referral."""

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_owning_status_due", "owning_organisation_id", "status", "due_on"),
        Index("ix_action_owner_status_due", "owner_id", "status", "due_on"),
        Index("ix_action_status_due", "status", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL"), index=True
    )
    agenda_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL")
    )
    description: Mapped[str] = mapped_column(Text)
    owning_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus, "action_status"), default=ActionStatus.OPEN
    )
    closing_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    created_by_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last day a "due tomorrow" or "overdue" notice went out for it.
    notified_on: Mapped[date | None] = mapped_column(Date)

    referral: Mapped[Referral] = relationship(lazy="joined", innerjoin=True)
    owning_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[owning_organisation_id], lazy="joined", innerjoin=True
    )
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="selectin")
    created_by_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[created_by_organisation_id], lazy="selectin"
    )
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], lazy="selectin")

    def is_overdue(self, today: date) -> bool:
        return self.status is ActionStatus.OPEN and self.due_on < today

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.status}>"


__all__ = [
    "ON_REVIEW",
    "Action",
    "ActionStatus",
    "AgendaDecision",
    "AgendaItem",
    "Attendance",
    "Meeting",
    "MeetingInvitation",
]
