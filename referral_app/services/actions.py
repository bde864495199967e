"""Actions: what an agency (and optionally a named person in it) agreed to
do about a referral, by a date.

Made by a holder of the referral for its own agency, or agreed at a
meeting for an agency taking part in it (services.meetings passes the
agenda item). The owning agency must hold the referral: an action is seen
by the referral's holders only, so one for an agency that does not hold
it is refused (share the referral first). The owning agency completes or
cancels it, with a note. Owners see theirs in "My actions", overdue first;
managers see their agency's. A daily sweep tells owners of actions due
tomorrow and of those that became overdue (services.action_notices).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import selectinload

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    AgendaItem,
    MeetingInvitation,
    NotificationKind,
    Referral,
    ReferralStatus,
    Role,
    User,
    uk_today,
    utcnow,
)
from referral_app.policy import CASE_ROLES
from referral_app.services import audit, notifications, paging
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import holds, organisation_holds

# An action is due within two years; one due further ahead is a typo.
LONGEST_AHEAD = timedelta(days=731)


class Scope:
    """Whose actions a worklist shows."""

    MINE = "mine"  # the actor's own (named owner)
    AGENCY = "agency"  # every action of the actor's agency (managers)


def _visible() -> Select[Any]:
    return select(Action).join(Referral, Action.referral_id == Referral.id)


def _owner_refusal(owning_organisation_id: uuid.UUID, owner_id: uuid.UUID | None) -> str | None:
    if owner_id is None:
        return None
    owner = db.session.get(User, owner_id)
    if (
        owner is None
        or not owner.active
        or owner.organisation_id != owning_organisation_id
        or owner.is_system
        or not owner.roles & CASE_ROLES
    ):
        return "Choose an active member of staff of the owning agency."
    return None


def create_action(
    actor: User,
    referral: Referral,
    *,
    description: str,
    owning_organisation_id: uuid.UUID,
    due_on: date,
    owner_id: uuid.UUID | None = None,
    agenda_item: AgendaItem | None = None,
) -> Action:
    """An action on a referral the actor's agency holds (the caller read it
    with scoping.get_held_referral). Outside a meeting, for the actor's own
    agency; at a meeting (`agenda_item`), for an agency taking part in it.

    Refuses: a draft (Conflict); an owning agency other than the actor's
    outside a meeting, or not taking part in the meeting, or that does not
    hold the referral; a named owner who is not active staff of that agency;
    a due date in the past or more than two years ahead (Invalid)."""
    if referral.status is ReferralStatus.DRAFT:
        raise Conflict("A draft has no actions yet: submit the referral first.")
    if agenda_item is not None and agenda_item.referral_id != referral.id:
        # A caller's mistake, never a user's: the item is about another child.
        raise Invalid("The action is not valid.", {"agenda_item": ["Not about this referral."]})
    errors: dict[str, list[str]] = {}
    if agenda_item is None and owning_organisation_id != actor.organisation_id:
        errors["owning_organisation_id"] = ["Outside a meeting, an action is for your own agency."]
    elif agenda_item is not None and not _takes_part(
        agenda_item.meeting_id, owning_organisation_id
    ):
        errors["owning_organisation_id"] = ["This agency is not taking part in the meeting."]
    elif not organisation_holds(owning_organisation_id, referral.id):
        errors["owning_organisation_id"] = [
            "This agency does not hold the referral: share it with them first."
        ]
    refusal = _owner_refusal(owning_organisation_id, owner_id)
    if refusal:
        errors["owner_id"] = [refusal]
    today = uk_today()
    if due_on < today:
        errors["due_on"] = ["Not in the past."]
    elif due_on > today + LONGEST_AHEAD:
        errors["due_on"] = ["At most two years ahead."]
    if errors:
        raise Invalid("The action is not valid.", errors)
    action = Action(
        referral_id=referral.id,
        meeting_id=agenda_item.meeting_id if agenda_item is not None else None,
        agenda_item_id=agenda_item.id if agenda_item is not None else None,
        description=description,
        owning_organisation_id=owning_organisation_id,
        owner_id=owner_id,
        due_on=due_on,
        status=ActionStatus.OPEN,
        created_by_id=actor.id,
        created_by_organisation_id=actor.organisation_id,
        created_at=utcnow(),
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        "referral.action_added",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[action.id],
        fields=["description", "owning_organisation_id", "owner_id", "due_on"],
        recipient_organisation_id=(
            owning_organisation_id if owning_organisation_id != actor.organisation_id else None
        ),
    )
    # The named owner hears of it; an action agreed at a meeting for another
    # agency with nobody named goes to that agency's managers to hand out.
    told = (
        [action.owner]
        if action.owner is not None
        else notifications.staff_with_role(owning_organisation_id)
        if owning_organisation_id != actor.organisation_id
        else []
    )
    if told:
        notifications.notify(NotificationKind.ACTION_ASSIGNED, referral, told, actor=actor)
    return action


def _takes_part(meeting_id: uuid.UUID, organisation_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            select(MeetingInvitation.id).where(
                MeetingInvitation.meeting_id == meeting_id,
                MeetingInvitation.organisation_id == organisation_id,
            )
        )
        is not None
    )


def list_actions(actor: User, referral: Referral) -> list[Action]:
    """Every action on a referral the actor's agency holds: open ones first,
    by due date."""
    found = list(
        db.session.scalars(
            select(Action)
            .where(Action.referral_id == referral.id)
            .order_by(_open_first(), Action.due_on, Action.created_at, Action.id)
        )
    )
    audit.record(
        "referral.actions_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[action.id for action in found],
    )
    return found


def _open_first() -> Any:
    return case((Action.status == ActionStatus.OPEN, 0), else_=1)


def get_action(actor: User, action_id: uuid.UUID) -> Action:
    """An action on a referral the actor's agency holds; NotFound otherwise
    (an action of a referral one does not hold does not exist for one)."""
    action = db.session.scalar(
        _visible().where(Action.id == action_id, holds(actor.organisation_id))
    )
    if action is None:
        raise NotFound("No such action.")
    return action


def read_action(actor: User, action_id: uuid.UUID) -> Action:
    """`get_action`, its read recorded (it shows the child's name)."""
    action = get_action(actor, action_id)
    audit.record(
        "referral.actions_read",
        actor,
        record_type="referral",
        record_id=action.referral_id,
        record_ids=[action.id],
    )
    return action


def close_action(actor: User, action: Action, *, status: ActionStatus, note: str) -> Action:
    """Mark an open action done or cancelled, with a note. Only the owning
    agency closes its actions (Forbidden); a closed one stays closed
    (Conflict)."""
    if action.owning_organisation_id != actor.organisation_id:
        raise Forbidden("Only the agency that owns an action can complete or cancel it.")
    if status is ActionStatus.OPEN:
        raise Invalid("Say how the action ended.", {"status": ["Done or cancelled."]})
    if action.status is not ActionStatus.OPEN:
        raise Conflict(f"This action is already {action.status.value}.")
    return _close(actor, action, status, note)


def cancel_overtaken(actor: User, action: Action, *, note: str) -> Action:
    """Cancel an open action that events have overtaken, whoever owns it:
    for example the decision about a share that another agency's manager
    revoked (services.consent_decisions). Audited as any closing."""
    return _close(actor, action, ActionStatus.CANCELLED, note)


def _close(actor: User, action: Action, status: ActionStatus, note: str) -> Action:
    action.status = status
    action.closing_note = note
    action.closed_at = utcnow()
    action.closed_by = actor
    db.session.flush()
    audit.record(
        "referral.action_closed",
        actor,
        record_type="referral",
        record_id=action.referral_id,
        record_ids=[action.id],
        fields=["status", "closing_note"],
    )
    notifications.mark_read_about(actor, action.referral)
    return action


@dataclass(frozen=True)
class Worklist:
    items: list[Action]
    total: int
    overdue: int


def worklist(
    actor: User,
    *,
    scope: str = Scope.MINE,
    status: ActionStatus | None = ActionStatus.OPEN,
    page: int = 1,
    page_size: int = 25,
) -> Worklist:
    """The actor's actions (`mine`: those they own by name) or their
    agency's (`agency`: managers), on referrals the agency still holds:
    open ones first, the most overdue first. Refuses `agency` to anyone but
    a manager (Forbidden)."""
    if scope == Scope.AGENCY and not actor.has_role(Role.MANAGER):
        raise Forbidden("Only managers see every action of their agency.")
    query = _visible().where(
        Action.owning_organisation_id == actor.organisation_id, holds(actor.organisation_id)
    )
    if scope == Scope.MINE:
        query = query.where(Action.owner_id == actor.id)
    if status is not None:
        query = query.where(Action.status == status)
    counted = query.with_only_columns(
        func.count(),
        func.count(case((and_(Action.status == ActionStatus.OPEN, Action.due_on < uk_today()), 1))),
    ).order_by(None)
    total, overdue = db.session.execute(counted).one()
    items = list(
        db.session.scalars(
            query.order_by(_open_first(), Action.due_on, Action.created_at, Action.id)
            .limit(page_size)
            .offset(paging.offset(page, page_size))
        )
    )
    audit.record(
        "action.list",
        actor,
        record_type="referral",
        record_ids=sorted({str(action.referral_id) for action in items}),
    )
    return Worklist(items, int(total or 0), int(overdue or 0))


def owners_to_choose(organisation_id: uuid.UUID) -> list[User]:
    """Who may be named as an action's owner in an agency: its active staff
    with a case role, by name (what `create_action` accepts)."""
    candidates = db.session.scalars(
        select(User)
        .options(selectinload(User.role_grants))
        .where(User.organisation_id == organisation_id, User.active.is_(True))
        .order_by(User.full_name, User.id)
    )
    return [user for user in candidates if user.roles & CASE_ROLES and not user.is_system]


def counts_by_agency(actor: User) -> list[tuple[uuid.UUID, int, int]]:
    """(owning agency, open, overdue) for the actions on referrals the
    actor's agency holds: the reports' view of who has what outstanding."""
    today = uk_today()
    rows = db.session.execute(
        select(
            Action.owning_organisation_id,
            func.count(),
            func.count(case((Action.due_on < today, 1))),
        )
        .join(Referral, Action.referral_id == Referral.id)
        .where(Action.status == ActionStatus.OPEN, holds(actor.organisation_id))
        .group_by(Action.owning_organisation_id)
    )
    return [(row[0], int(row[1]), int(row[2])) for row in rows]


__all__ = [
    "Scope",
    "Worklist",
    "close_action",
    "counts_by_agency",
    "create_action",
    "get_action",
    "list_actions",
    "owners_to_choose",
    "read_action",
    "worklist",
]
