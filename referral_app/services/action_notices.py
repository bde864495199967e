"""The morning's notices about actions: the daily sweep (a huey periodic
task, referral_app.jobs) tells the owner of each open action due tomorrow,
and of each that became overdue, once each (services.actions holds the
actions themselves)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    NotificationKind,
    Referral,
    User,
    uk_today,
)
from referral_app.services import events, notifications
from referral_app.services.scoping import holds


def _staff_to_tell(action: Action) -> list[User]:
    """The named owner while they are active staff of the owning agency;
    otherwise (nobody named, or the person left) its managers."""
    owner = action.owner
    still_theirs = owner is not None and owner.organisation_id == action.owning_organisation_id
    if owner is not None and owner.active and still_theirs:
        return [owner]
    return notifications.staff_with_role(action.owning_organisation_id)


def notify_due(today: date | None = None) -> int:
    """The daily sweep: tell the owner (or, with no named owner, the owning
    agency's managers) of each open action due tomorrow, and of each that
    became overdue, once each, however often the sweep runs. Only an owning
    agency that still holds the referral hears of it (a share that ended
    ends the notices too). Returns how many actions were told of."""
    today = today or uk_today()
    tomorrow = today + timedelta(days=1)
    due_tomorrow = and_(Action.due_on == tomorrow, Action.notified_on.is_(None))
    # Overdue and not yet told so: told nothing, or only that it was due.
    newly_overdue = and_(
        Action.due_on < today,
        or_(Action.notified_on.is_(None), Action.notified_on <= Action.due_on),
    )
    due = list(
        db.session.scalars(
            select(Action)
            .join(Referral, Action.referral_id == Referral.id)
            .where(
                Action.status == ActionStatus.OPEN,
                or_(due_tomorrow, newly_overdue),
                holds(Action.owning_organisation_id.expression),
            )
            .order_by(Action.due_on, Action.id)
        )
    )
    for action in due:
        kind = (
            NotificationKind.ACTION_OVERDUE
            if action.due_on < today
            else NotificationKind.ACTION_DUE
        )
        notifications.notify(kind, action.referral, _staff_to_tell(action), actor=None)
        events.record(events.EventType.ACTION_DUE, action.referral_id, action.id)
        action.notified_on = today
    db.session.flush()
    return len(due)
