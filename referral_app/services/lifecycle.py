"""The referral lifecycle as one state machine (DESIGN section 3).

draft --submit--> submitted --accept--> accepted --assign--> in_progress --close--> closed
  |                   |  \\--decline--> declined                    ^                   |
  +----withdraw-------+---withdraw--> withdrawn                    +-----reopen--------+

Each action states where it may start, where it ends, which side of the
referral may take it (referring or receiving organisation) and with which
roles, and what it requires. `transition()` is the only code that changes a
referral's status; it writes the status change in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from referral_app.extensions import db
from referral_app.models import (
    Outcome,
    Referral,
    ReferralStatus,
    Role,
    StatusChange,
    TransitionAction,
    User,
    utcnow,
)
from referral_app.policy import CASE_ROLES
from referral_app.services import audit, events, notifications
from referral_app.services.errors import Conflict, Forbidden, Invalid
from referral_app.services.referral_rows import Row
from referral_app.services.scoping import Relation, relations, sides

# The moves, defined with the model (the schemas name them too).
Action: TypeAlias = TransitionAction


@dataclass(frozen=True)
class Rule:
    sources: frozenset[ReferralStatus]
    target: ReferralStatus
    side: Relation
    roles: frozenset[Role]
    needs_reason: bool = False
    # Close: the assignee may take it as well as the roles above.
    assignee_may: bool = False


S = ReferralStatus
MANAGERS = frozenset({Role.MANAGER})

RULES: dict[Action, Rule] = {
    Action.SUBMIT: Rule(frozenset({S.DRAFT}), S.SUBMITTED, Relation.REFERRING, CASE_ROLES),
    Action.WITHDRAW: Rule(
        frozenset({S.DRAFT, S.SUBMITTED}),
        S.WITHDRAWN,
        Relation.REFERRING,
        CASE_ROLES,
        needs_reason=True,
    ),
    Action.ACCEPT: Rule(frozenset({S.SUBMITTED}), S.ACCEPTED, Relation.RECEIVING, MANAGERS),
    Action.DECLINE: Rule(
        frozenset({S.SUBMITTED}), S.DECLINED, Relation.RECEIVING, MANAGERS, needs_reason=True
    ),
    Action.ASSIGN: Rule(
        frozenset({S.ACCEPTED, S.IN_PROGRESS}), S.IN_PROGRESS, Relation.RECEIVING, MANAGERS
    ),
    Action.CLOSE: Rule(
        frozenset({S.IN_PROGRESS}), S.CLOSED, Relation.RECEIVING, MANAGERS, assignee_may=True
    ),
    Action.REOPEN: Rule(
        frozenset({S.CLOSED}), S.IN_PROGRESS, Relation.RECEIVING, MANAGERS, needs_reason=True
    ),
}

# Fields that must be filled in before a draft can be submitted.
REQUIRED_TO_SUBMIT = ("reason", "risk_level", "consent_status", "lawful_basis")


def may_take(actor: User, referral: Referral, action: Action, held_as: set[Relation]) -> bool:
    """Whether the actor has the right to take `action` (status aside)."""
    rule = RULES[action]
    if rule.side not in held_as:
        return False
    if actor.roles & rule.roles:
        return True
    return rule.assignee_may and referral.assignee_id == actor.id


def allowed_actions(actor: User, referral: Referral) -> list[Action]:
    """The actions the actor may take now: what the page offers them. Every
    rule is the referring or the receiving side's, so only those are asked
    (no statement; `referral` may be a row of services.referral_rows)."""
    held_as = sides(actor, referral)
    return [
        action
        for action, rule in RULES.items()
        if referral.status in rule.sources and may_take(actor, referral, action, held_as)
    ]


def check_may_take(actor: User, referral: Referral, action: Action) -> None:
    """Refuses, as `transition` would, an actor without the right to this
    action on this referral (Forbidden) and an action its current status does
    not allow (Conflict): what a confirmation page asks before it offers the
    action."""
    rule = RULES[action]
    if not may_take(actor, referral, action, relations(actor, referral)):
        raise Forbidden(_refusal_reason(action, rule))
    if referral.status not in rule.sources:
        raise Conflict(
            f"A {referral.status} referral cannot be {_past(action)}: "
            f"only from {', '.join(sorted(rule.sources))}."
        )


def triage_deadline(referral: Referral, submitted_at: datetime) -> datetime:
    days: dict[str, float] = current_app.config["TRIAGE_DEADLINE_DAYS"]
    level = str(referral.risk_level) if referral.risk_level else "low"
    return submitted_at + timedelta(days=days[level])


def is_overdue(referral: Referral | Row, now: datetime | None = None) -> bool:
    if isinstance(referral, Row):  # worked out when the row was read
        return bool(referral["overdue"])
    return referral.is_overdue(now)


def for_viewer(actor: User, referral: Referral) -> Referral:
    """The referral with what `actor` may do with it now worked out once
    (`viewer_actions`), for a response that shows it."""
    referral.viewer_actions = tuple(str(action) for action in allowed_actions(actor, referral))
    return referral


def row_for_viewer(actor: User, row: Row) -> Row:
    """The same for a referral read as a row: `allowed_actions` in the row."""
    row["allowed_actions"] = [str(action) for action in allowed_actions(actor, row)]  # type: ignore[arg-type]
    return row


def assignable_users(referral: Referral) -> list[User]:
    """Active caseworkers and managers of the receiving agency, by name."""
    candidates = db.session.scalars(
        select(User)
        .options(selectinload(User.role_grants))
        .where(User.organisation_id == referral.receiving_organisation_id, User.active.is_(True))
        .order_by(User.full_name)
    )
    return [user for user in candidates if user.roles & {Role.CASEWORKER, Role.MANAGER}]


def _eligible_assignee(referral: Referral, assignee_id: uuid.UUID | None) -> User:
    if assignee_id is None:
        raise Invalid("Choose who to assign.", {"assignee_id": ["Choose a caseworker."]})
    assignee = (
        db.session.execute(
            select(User)
            .options(joinedload(User.role_grants))
            .where(
                User.id == assignee_id,
                User.organisation_id == referral.receiving_organisation_id,
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if (
        assignee is None
        or not assignee.is_active
        or not assignee.roles & {Role.CASEWORKER, Role.MANAGER}
    ):
        raise Invalid(
            "The assignee must be an active caseworker or manager of the receiving agency.",
            {"assignee_id": ["Choose an active caseworker or manager of your agency."]},
        )
    return assignee


def transition(
    actor: User,
    referral: Referral,
    action: Action,
    *,
    reason: str | None = None,
    outcome: Outcome | None = None,
    outcome_summary: str | None = None,
    assignee_id: uuid.UUID | None = None,
) -> StatusChange:
    """Take `action` on a referral the actor's organisation holds.

    Refuses: an actor without the right to this action on this referral
    (Forbidden, 403), an action the current status does not allow (Conflict,
    409), and missing or invalid inputs: a reason for withdraw, decline and
    reopen, an outcome and summary for close, an eligible assignee for
    assign, the required fields for submit (Invalid, 422). The actor's own
    unread notifications about the referral are marked read."""
    rule = RULES[action]
    check_may_take(actor, referral, action)
    if rule.needs_reason and not reason:
        raise Invalid("Give a reason.", {"reason": ["Give a reason."]})
    now = utcnow()
    previous = referral.status
    if action is Action.SUBMIT:
        missing = [name for name in REQUIRED_TO_SUBMIT if not getattr(referral, name)]
        if missing:
            raise Invalid(
                "Complete the referral before submitting it.",
                {name: ["Required before the referral is submitted."] for name in missing},
            )
        referral.submitted_at = now
        referral.triage_deadline = triage_deadline(referral, now)
    elif action in (Action.ACCEPT, Action.DECLINE):
        referral.triaged_at = now
        if action is Action.DECLINE:
            referral.decline_reason = reason
    elif action is Action.ASSIGN:
        referral.assignee = _eligible_assignee(referral, assignee_id)
    elif action is Action.CLOSE:
        errors: dict[str, list[str]] = {}
        if outcome is None:
            errors["outcome"] = ["Choose an outcome."]
        if not outcome_summary:
            errors["outcome_summary"] = ["Summarise the outcome for the referrer."]
        if errors:
            raise Invalid("Give the outcome.", errors)
        referral.outcome = outcome
        referral.outcome_summary = outcome_summary
        referral.closed_at = now
    elif action is Action.REOPEN:
        referral.closed_at = None
    referral.status = rule.target
    change = StatusChange(
        referral_id=referral.id,
        action=str(action),
        from_status=previous,
        to_status=rule.target,
        actor_id=actor.id,
        actor_organisation_id=actor.organisation_id,
        reason=reason,
        at=now,
    )
    db.session.add(change)
    db.session.flush()
    notifications.on_transition(actor, referral, str(action))
    events.on_transition(referral, str(action))
    notifications.mark_read_about(actor, referral)
    audit.record(
        f"referral.{action}",
        actor,
        record_type="referral",
        record_id=referral.id,
        fields=[
            "status",
            *(name for name, value in (("outcome", outcome), ("assignee", assignee_id)) if value),
        ],
        # Submitting is when the receiving agency is given the referral.
        recipient_organisation_id=(
            referral.receiving_organisation_id if action is Action.SUBMIT else None
        ),
    )
    return change


def _past(action: Action) -> str:
    return {
        Action.SUBMIT: "submitted",
        Action.WITHDRAW: "withdrawn",
        Action.ACCEPT: "accepted",
        Action.DECLINE: "declined",
        Action.ASSIGN: "assigned",
        Action.CLOSE: "closed",
        Action.REOPEN: "reopened",
    }[action]


def _refusal_reason(action: Action, rule: Rule) -> str:
    side = "referring" if rule.side is Relation.REFERRING else "receiving"
    who = "a manager" if rule.roles == MANAGERS else "a caseworker, referrer or manager"
    if rule.assignee_may:
        who = "the assignee or " + who
    return f"Only {who} of the {side} agency can {action} this referral."
