"""Notifications: in-app, and e-mail through the outbox, written in the
same transaction as the event. An e-mail carries the reference and a link,
never personal data."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select, update

from referral_app.extensions import db
from referral_app.models import (
    Notification,
    NotificationKind,
    OutboxEmail,
    Referral,
    ReferralStatus,
    Role,
    Share,
    User,
    UserRole,
    utcnow,
)
from referral_app.models.agreement import Agreement
from referral_app.services import paging
from referral_app.services.errors import NotFound
from referral_app.services.scoping import holds

K = NotificationKind

SUBJECTS = {
    K.ARRIVED: "arrived for triage",
    K.ASSIGNED: "assigned to you",
    K.DECLINED: "declined",
    K.CLOSED: "closed with an outcome",
    K.REOPENED: "reopened",
    K.SHARED: "shared with your agency",
    K.OVERDUE: "past its triage deadline",
    K.ACTION_ASSIGNED: "has an action for you",
    K.ACTION_DUE: "has an action due tomorrow",
    K.ACTION_OVERDUE: "has an overdue action",
}
# Notices about a share or an agreement rather than a referral.
NOTICES = {
    K.SHARED_WITHOUT_AGREEMENT: "A referral was shared without an information sharing agreement",
    K.AGREEMENT_REVIEW_DUE: "An information sharing agreement is due for review",
}


def staff_with_role(organisation_id: uuid.UUID, role: Role = Role.MANAGER) -> list[User]:
    """The active staff of an agency with a role (its managers by default):
    who is told of what reaches the agency rather than a named person."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organisation_id == organisation_id,
                User.active.is_(True),
                UserRole.role == role,
            )
        ).unique()
    )


def notify(
    kind: NotificationKind, referral: Referral, recipients: Iterable[User], *, actor: User | None
) -> list[Notification]:
    """One notification and one e-mail per recipient (the actor excluded)."""
    created = []
    seen: set[uuid.UUID] = set()
    base_url = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    for user in recipients:
        if (
            user.id in seen
            or (actor is not None and user.id == actor.id)
            or not user.active
            or user.is_system  # a system fetches what it needs; no notices, no e-mail
        ):
            continue
        seen.add(user.id)
        notification = Notification(recipient_id=user.id, kind=kind, referral=referral)
        db.session.add(notification)
        created.append(notification)
        db.session.add(
            OutboxEmail(
                recipient=user.email,
                subject=f"Referral {referral.reference} {SUBJECTS[kind]}",
                body=(
                    f"Referral {referral.reference} {SUBJECTS[kind]}.\n\n"
                    f"Open it: {base_url}/referrals/{referral.id}\n\n"
                    "This e-mail carries no personal details: sign in to see the referral.\n"
                ),
            )
        )
    db.session.flush()
    return created


def on_transition(actor: User, referral: Referral, action: str) -> None:
    """Who hears about a status change (DESIGN section 1's closed loop)."""
    if action == "submit":
        notify(
            K.ARRIVED, referral, staff_with_role(referral.receiving_organisation_id), actor=actor
        )
    elif action == "assign" and referral.assignee is not None:
        notify(K.ASSIGNED, referral, [referral.assignee], actor=actor)
    elif action in ("decline", "close", "reopen"):
        kind = {"decline": K.DECLINED, "close": K.CLOSED, "reopen": K.REOPENED}[action]
        referrer = db.session.get(User, referral.referring_user_id)
        recipients = [referrer] if referrer is not None else []
        recipients += staff_with_role(referral.referring_organisation_id)
        notify(kind, referral, recipients, actor=actor)


def on_share(actor: User, referral: Referral, organisation_id: uuid.UUID) -> None:
    notify(K.SHARED, referral, staff_with_role(organisation_id), actor=actor)


def _notice(kind: NotificationKind, recipients: Iterable[User], body: str, **about: Any) -> int:
    """A notice about a share (`share`) or an agreement (`agreement`), not
    a referral: one notification and one e-mail per active recipient. The
    e-mail says what happened in general words and links to the page;
    details (agencies, purpose, reason) are read on the page after signing in."""
    base_url = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    seen: set[uuid.UUID] = set()
    for user in recipients:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(Notification(recipient_id=user.id, kind=kind, **about))
        db.session.add(
            OutboxEmail(
                recipient=user.email,
                subject=NOTICES[kind],
                body=f"{NOTICES[kind]}.\n\n{body}: {base_url}/notifications\n",
            )
        )
    db.session.flush()
    return len(seen)


def on_share_without_agreement(actor: User, grant: Share) -> None:
    """Tell the auditors of the sharing agency and of the recipient agency
    that a referral was shared without an agreement (the notice shows the
    agencies, the purpose and the reason: never the child)."""
    recipients = staff_with_role(actor.organisation_id, Role.AUDITOR)
    recipients += staff_with_role(grant.organisation_id, Role.AUDITOR)
    _notice(K.SHARED_WITHOUT_AGREEMENT, recipients, "See who shared and why", share=grant)


def notify_agreement_review(agreement: Agreement) -> int:
    """Tell the managers of every party agency that the agreement is due
    for review. Returns how many were told."""
    recipients = [
        user for party_id in sorted(agreement.party_ids) for user in staff_with_role(party_id)
    ]
    return _notice(K.AGREEMENT_REVIEW_DUE, recipients, "See the agreement", agreement=agreement)


def notify_overdue() -> int:
    """Tell the receiving managers of each referral that passed its triage
    deadline since the last sweep (once per referral). Returns how many."""
    now = utcnow()
    overdue = list(
        db.session.scalars(
            select(Referral).where(
                Referral.status == ReferralStatus.SUBMITTED,
                Referral.triage_deadline < now,
                Referral.overdue_notified_at.is_(None),
            )
        )
    )
    for referral in overdue:
        notify(K.OVERDUE, referral, staff_with_role(referral.receiving_organisation_id), actor=None)
        # A plain UPDATE: no version bump, this is not a change of the referral.
        db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id)
            .values(overdue_notified_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(overdue)


def _shown_to(actor: User) -> Select[Any]:
    """The actor's notifications about referrals their agency still holds:
    sight of a referral ends with the holding (a share revoked or expired),
    and so does sight of what was said about it."""
    return (
        select(Notification)
        .outerjoin(Referral, Notification.referral_id == Referral.id)
        .where(
            Notification.recipient_id == actor.id,
            # A notice about a share or an agreement (no referral) is the
            # recipient's own: it names agencies, never a child.
            Notification.referral_id.is_(None) | holds(actor.organisation_id),
        )
    )


def list_notifications(
    actor: User, *, unread_only: bool, page: int, page_size: int
) -> tuple[list[Notification], int]:
    query = _shown_to(actor)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id)
        .limit(page_size)
        .offset(paging.offset(page, page_size))
    )
    return list(items), total


def unread_count(actor: User) -> int:
    unread = _shown_to(actor).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(unread.subquery())) or 0


def mark_read_about(actor: User, referral: Referral) -> int:
    """Mark the actor's unread notifications about `referral` read: they
    acted on it (a transition, a note, a share), so what the notifications
    asked of them has been seen to. Same transaction as the action; returns
    how many were marked."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == actor.id,
            Notification.referral_id == referral.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_read(actor: User, notification_id: uuid.UUID | None = None) -> int:
    """Mark one of the actor's notifications (or all of them) read. Another
    user's notification does not exist for them (NotFound)."""
    query = update(Notification).where(
        Notification.recipient_id == actor.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        owned = db.session.scalar(
            select(Notification.id).where(
                Notification.id == notification_id, Notification.recipient_id == actor.id
            )
        )
        if owned is None:
            raise NotFound("No such notification.")
        query = query.where(Notification.id == notification_id)
    result = db.session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
