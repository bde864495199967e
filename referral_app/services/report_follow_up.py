"""The report's follow-up figures: the work after a referral.

- Actions open and overdue now, by the agency that owns them, over the
  referrals the manager's agency holds (an agency sees the actions of the
  referrals it holds, and counts no others).
- Meetings the agency took part in that were held in the range, and how
  many children the agency holds a referral about were reviewed at them.
- Time from a referral's submission to the first meeting that had it on
  its agenda, over the report's referrals (received or sent in the range).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Meeting,
    MeetingInvitation,
    Organisation,
    Referral,
    User,
    uk_today,
    utcnow,
)
from referral_app.report_periods import DateRange, percentile
from referral_app.services.scoping import holds


@dataclass(frozen=True)
class ActionCount:
    organisation: Organisation
    open: int
    overdue: int


@dataclass(frozen=True)
class FirstMeeting:
    """Days from submission to the first meeting, over the referrals that had one."""

    count: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class FollowUp:
    actions_by_agency: list[ActionCount]
    meetings_held: int
    children_reviewed: int
    time_to_first_meeting: FirstMeeting


def _action_counts(actor: User) -> list[ActionCount]:
    today = uk_today()
    rows = db.session.execute(
        select(
            Organisation,
            func.count(Action.id),
            func.count(case((Action.due_on < today, 1))),
        )
        .select_from(Action)
        .join(Referral, Action.referral_id == Referral.id)
        .join(Organisation, Action.owning_organisation_id == Organisation.id)
        .where(Action.status == ActionStatus.OPEN, holds(actor.organisation_id))
        .group_by(Organisation.id)
    )
    found = [ActionCount(row[0], int(row[1]), int(row[2])) for row in rows]
    return sorted(found, key=lambda count: (-count.overdue, -count.open, count.organisation.name))


def _meetings(actor: User, date_range: DateRange) -> tuple[int, int]:
    """(meetings held in the range that the agency took part in, children
    it holds a referral about that were on their agendas)."""
    held = (
        select(Meeting.id)
        .join(MeetingInvitation, MeetingInvitation.meeting_id == Meeting.id)
        .where(
            MeetingInvitation.organisation_id == actor.organisation_id,
            Meeting.held_at >= date_range.start,
            Meeting.held_at < min(date_range.end, utcnow()),
        )
    )
    children = (
        select(func.count(func.distinct(Referral.child_id)))
        .select_from(AgendaItem)
        .join(Referral, AgendaItem.referral_id == Referral.id)
        .where(AgendaItem.meeting_id.in_(held), holds(actor.organisation_id))
        .scalar_subquery()
    )
    meetings_count = select(func.count()).select_from(held.subquery()).scalar_subquery()
    meetings, children_count = db.session.execute(select(meetings_count, children)).one()
    return int(meetings or 0), int(children_count or 0)


def _percentile(values: list[float], fraction: float) -> float | None:
    found = percentile(values, fraction)
    return None if found is None else round(found, 1)


def _first_meetings(in_report: ColumnElement[bool]) -> FirstMeeting:
    now = utcnow()
    rows = db.session.execute(
        select(Referral.submitted_at, func.min(Meeting.held_at))
        .select_from(Referral)
        .join(AgendaItem, AgendaItem.referral_id == Referral.id)
        .join(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(in_report, Referral.submitted_at.is_not(None), Meeting.held_at <= now)
        .group_by(Referral.id, Referral.submitted_at)
    )
    days = sorted(
        max(0.0, (first - submitted).total_seconds() / 86400)
        for submitted, first in rows
        if first is not None and submitted is not None
    )
    return FirstMeeting(len(days), _percentile(days, 0.5), _percentile(days, 0.9))


def follow_up(actor: User, date_range: DateRange, in_report: ColumnElement[bool]) -> FollowUp:
    """The follow-up figures for the actor's agency (`in_report`: the
    condition that selects the report's referrals, services.reports)."""
    meetings, children = _meetings(actor, date_range)
    return FollowUp(
        actions_by_agency=_action_counts(actor),
        meetings_held=meetings,
        children_reviewed=children,
        time_to_first_meeting=_first_meetings(in_report),
    )
