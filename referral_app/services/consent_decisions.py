"""What withdrawn consent does to a referral's shares, and the decision.

When the family withdraws consent (and consent had been obtained, or was
the basis of the referral or of the share), every live share of the
referral is flagged and the agency that granted it (the organisation of
the manager who granted it) gets an action, due in two working days: decide
whether to keep sharing. Until a manager of that agency decides, the share
is flagged "Consent withdrawn: decision needed" to every agency that holds
it. The decision is either to continue on another lawful basis, with a
reason, or to revoke the share now; either closes the action.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    ConsentDecision,
    ConsentStatus,
    LawfulBasis,
    NotificationKind,
    Referral,
    Share,
    User,
    uk_today,
    utcnow,
)
from referral_app.services import actions, audit, casework, notifications
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import Relation, relations

DECISION_WORKING_DAYS = 2
REASON_LIMIT = 2000


@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start`: weekends and bank holidays in
    England and Wales skipped."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in _bank_holidays(day.year):
            left -= 1
    return day


def _acts_on(previous: ConsentStatus | None, referral: Referral, grant: Share) -> bool:
    """Withdrawal matters to a share when consent had been obtained, or when
    the referral or the share rested on it."""
    return (
        previous in (ConsentStatus.OBTAINED_FROM_CHILD, ConsentStatus.OBTAINED_FROM_PARENT)
        or referral.lawful_basis is LawfulBasis.CONSENT
        or grant.lawful_basis is LawfulBasis.CONSENT
    )


def granting_organisation_id(grant: Share) -> uuid.UUID:
    return grant.granted_by.organisation_id


def on_withdrawal(
    actor: User, referral: Referral, previous: ConsentStatus | None, now: datetime
) -> int:
    """Flag each live share of the referral that the withdrawal acts on and
    is not already waiting for a decision, with an action for its granting
    agency (audited and told to that agency's managers as an action agreed
    for another agency is). Returns how many shares were flagged."""
    live = db.session.scalars(
        select(Share)
        .where(
            Share.referral_id == referral.id,
            Share.revoked_at.is_(None),
            Share.expires_at > now,
        )
        .order_by(Share.granted_at, Share.id)
    )
    due_on = add_working_days(uk_today(), DECISION_WORKING_DAYS)
    flagged = 0
    for grant in live:
        if grant.consent_decision_needed or not _acts_on(previous, referral, grant):
            continue
        owning = granting_organisation_id(grant)
        action = Action(
            referral_id=referral.id,
            description=(
                f"Consent withdrawn: decide whether to keep sharing with {grant.organisation.name}"
            ),
            owning_organisation_id=owning,
            due_on=due_on,
            status=ActionStatus.OPEN,
            created_by_id=actor.id,
            created_by_organisation_id=actor.organisation_id,
            created_at=now,
        )
        db.session.add(action)
        db.session.flush()
        grant.consent_withdrawn_at = now
        grant.consent_decision = None
        grant.consent_decision_basis = None
        grant.consent_decision_reason = None
        grant.consent_decided_by_id = None
        grant.consent_decided_at = None
        grant.consent_action_id = action.id
        audit.record(
            "referral.action_added",
            actor,
            record_type="referral",
            record_id=referral.id,
            record_ids=[action.id],
            fields=["description", "owning_organisation_id", "due_on"],
            recipient_organisation_id=owning if owning != actor.organisation_id else None,
        )
        notifications.notify(
            NotificationKind.ACTION_ASSIGNED,
            referral,
            notifications.staff_with_role(owning),
            actor=actor,
        )
        flagged += 1
    db.session.flush()
    return flagged


def may_decide(actor: User, referral: Referral, grant: Share) -> bool:
    """A manager of the agency that granted the share (who may manage the
    referral's shares)."""
    return casework.may_manage_shares(actor, referral) and (
        actor.organisation_id == granting_organisation_id(grant)
    )


def _held_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    """A share of a held referral as its holder sees it: the referring and
    receiving agencies see every share, a shared agency only its own."""
    grant = db.session.scalar(
        select(Share).where(Share.id == share_id, Share.referral_id == referral.id)
    )
    granting_side = relations(actor, referral) & {Relation.REFERRING, Relation.RECEIVING}
    if grant is None or (not granting_side and grant.organisation_id != actor.organisation_id):
        raise NotFound("No such share.")
    return grant


def get_pending_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    """A share waiting for the actor's agency's decision (what the decision
    page shows). Refuses: an actor who may not manage the referral's shares
    (Forbidden, as casework does), an unknown share (NotFound); a manager of
    another agency than the one that granted it (Forbidden); no decision
    pending (Conflict)."""
    if not casework.may_manage_shares(actor, referral):
        raise Forbidden("Only a manager of the agency that granted the share decides.")
    grant = _held_share(actor, referral, share_id)
    if not may_decide(actor, referral, grant):
        raise Forbidden("Only a manager of the agency that granted the share decides.")
    if not grant.consent_decision_needed:
        if grant.consent_decision is not None:
            raise Conflict("The decision about this share has been made.")
        raise Conflict("No decision is needed about this share.")
    return grant


def read_pending_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    """`get_pending_share`, its read recorded (referral.shares_read)."""
    grant = get_pending_share(actor, referral, share_id)
    audit.record(
        "referral.shares_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
    )
    return grant


def decide(
    actor: User,
    referral: Referral,
    share_id: uuid.UUID,
    *,
    decision: ConsentDecision,
    reason: str,
    lawful_basis: LawfulBasis | None = None,
) -> Share:
    """Decide what happens to a share after consent was withdrawn: continue
    on a lawful basis other than consent, or revoke it now. Records the
    decision on the share, closes its action as done with the reason, and is
    audited (referral.consent_decided).

    Refuses as `get_pending_share` does; and (Invalid) no reason, or
    continuing without a basis or on consent."""
    grant = get_pending_share(actor, referral, share_id)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Say why."]
    if decision is ConsentDecision.CONTINUE:
        if lawful_basis is None:
            errors["lawful_basis"] = ["Select the lawful basis for sharing without consent."]
        elif lawful_basis is LawfulBasis.CONSENT:
            errors["lawful_basis"] = ["Consent was withdrawn: select another lawful basis."]
    if errors:
        raise Invalid("The decision is not valid.", errors)
    if decision is ConsentDecision.REVOKE:
        lawful_basis = None
    # Recorded before revoking, so that the revocation knows it was decided.
    _record_decision(grant, actor, decision, reason, lawful_basis)
    if decision is ConsentDecision.REVOKE:
        casework.revoke_share(actor, referral, grant.id)
    if lawful_basis is not None:
        grant.lawful_basis = lawful_basis
    db.session.flush()
    audit.record(
        "referral.consent_decided",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
        recipient_organisation_id=grant.organisation_id,
        fields=["consent_decision", "reason", *(["lawful_basis"] if lawful_basis else [])],
    )
    action = db.session.get(Action, grant.consent_action_id) if grant.consent_action_id else None
    if action is not None and action.status is ActionStatus.OPEN:
        verb = "Kept sharing" if decision is ConsentDecision.CONTINUE else "Revoked the share"
        actions.close_action(actor, action, status=ActionStatus.DONE, note=f"{verb}: {reason}")
    return grant


def _record_decision(
    grant: Share,
    actor: User,
    decision: ConsentDecision,
    reason: str,
    lawful_basis: LawfulBasis | None,
) -> None:
    grant.consent_decision = decision
    grant.consent_decision_basis = lawful_basis
    grant.consent_decision_reason = reason
    grant.consent_decided_by_id = actor.id
    grant.consent_decided_at = utcnow()


def on_share_revoked(actor: User, referral: Referral, grant: Share) -> None:
    """A share waiting for a decision after consent was withdrawn, revoked
    from the shares list rather than through the decision: the revocation
    is the decision (recorded and audited as one) and its action closes."""
    if grant.consent_withdrawn_at is None or grant.consent_decision is not None:
        return
    reason = "The share was revoked from the referral's shares."
    _record_decision(grant, actor, ConsentDecision.REVOKE, reason, None)
    db.session.flush()
    audit.record(
        "referral.consent_decided",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
        recipient_organisation_id=grant.organisation_id,
        fields=["consent_decision", "reason"],
    )
    action = db.session.get(Action, grant.consent_action_id) if grant.consent_action_id else None
    if action is None or action.status is not ActionStatus.OPEN:
        return
    if action.owning_organisation_id == actor.organisation_id:
        actions.close_action(actor, action, status=ActionStatus.DONE, note=reason)
    else:
        actions.cancel_overtaken(actor, action, note=reason)


def pending_for(referral: Referral) -> list[Share]:
    """The referral's shares waiting for a decision (no read recorded: the
    caller shows them with the shares it read)."""
    return list(
        db.session.scalars(
            select(Share)
            .where(
                Share.referral_id == referral.id,
                Share.consent_withdrawn_at.is_not(None),
                Share.consent_decision.is_(None),
                Share.revoked_at.is_(None),
            )
            .order_by(Share.granted_at, Share.id)
        )
    )


__all__ = [
    "add_working_days",
    "decide",
    "get_pending_share",
    "granting_organisation_id",
    "may_decide",
    "on_withdrawal",
    "pending_for",
    "read_pending_share",
]
