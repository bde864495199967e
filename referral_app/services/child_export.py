"""Subject access: everything the actor's organisation holds about a child,
and who read or changed it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    AgendaItem,
    AuditEvent,
    Child,
    ChildMerge,
    Meeting,
    Note,
    Organisation,
    Referral,
    Screening,
    Share,
    StatusChange,
    User,
    utcnow,
)
from referral_app.models.consent import ConsentChange
from referral_app.services import actions, audit, casework, consent, screenings
from referral_app.services.children import merges_into
from referral_app.services.documents import ExportedDocument
from referral_app.services.documents import for_export as documents_for_export
from referral_app.services.scoping import (
    Relation,
    get_visible_child,
    held_referrals,
    relations,
)

# --- subject access -----------------------------------------------------------

# The most access-log entries an export lists (newest kept); more is flagged.
MAX_ACCESS_ENTRIES = 5000


@dataclass(frozen=True)
class ExportedReferral:
    referral: Referral
    history: list[StatusChange]
    notes: list[Note]
    shares: list[Share]
    actions: list[Action] = field(default_factory=list)
    meeting_decisions: list[AgendaItem] = field(default_factory=list)
    screenings: list[Screening] = field(default_factory=list)
    documents: list[ExportedDocument] = field(default_factory=list)
    consent: list[ConsentChange] = field(default_factory=list)


@dataclass(frozen=True)
class AccessEntry:
    occurred_at: datetime
    action: str
    outcome: str
    record_type: str
    record_id: str
    actor: User | None
    actor_organisation: Organisation | None


@dataclass(frozen=True)
class SubjectAccessExport:
    exported_at: datetime
    organisation: Organisation
    child: Child
    referrals: list[ExportedReferral]
    merges: list[ChildMerge]
    access: list[AccessEntry] = field(default_factory=list)
    access_truncated: bool = False


def _access_entries(
    actor: User,
    child_ids: Iterable[uuid.UUID],
    referral_ids: Iterable[uuid.UUID],
    shared_only_ids: Iterable[uuid.UUID] = (),
) -> tuple[list[AccessEntry], bool]:
    """Who read or changed these referrals (every agency, as in a referral's
    access log; for those held only through a share, the actor's own agency,
    as there) and this child's record (the actor's own agency only: another
    agency's reads would say it holds something about the child)."""
    shared_only = {str(referral_id) for referral_id in shared_only_ids}
    fully_held = [str(referral_id) for referral_id in referral_ids]
    about_referrals = (AuditEvent.record_type == "referral") & or_(
        AuditEvent.record_id.in_([rid for rid in fully_held if rid not in shared_only]),
        AuditEvent.record_id.in_(sorted(shared_only))
        & (AuditEvent.actor_organisation_id == actor.organisation_id),
    )
    about_child = (
        (AuditEvent.record_type == "child")
        & AuditEvent.record_id.in_([str(child_id) for child_id in child_ids])
        & (AuditEvent.actor_organisation_id == actor.organisation_id)
    )
    rows = db.session.execute(
        select(AuditEvent, User, Organisation)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.actor_organisation_id)
        .where(or_(about_referrals, about_child))
        .order_by(AuditEvent.id.desc())  # written order: unsealed events too
        .limit(MAX_ACCESS_ENTRIES + 1)
    ).all()
    entries = [
        AccessEntry(
            event.occurred_at,
            event.action,
            event.outcome,
            event.record_type or "",
            event.record_id or "",
            user,
            organisation,
        )
        for event, user, organisation in rows[:MAX_ACCESS_ENTRIES]
    ]
    entries.reverse()  # oldest first, as a record reads
    return entries, len(rows) > MAX_ACCESS_ENTRIES


def _decisions(referral: Referral) -> list[AgendaItem]:
    """What the multi-agency meetings decided about a held referral, in the
    order they met (the holder sees every item about its referral)."""
    return list(
        db.session.scalars(
            select(AgendaItem)
            .join(Meeting, AgendaItem.meeting_id == Meeting.id)
            .where(AgendaItem.referral_id == referral.id, AgendaItem.recorded_at.is_not(None))
            .order_by(Meeting.held_at, AgendaItem.id)
        )
    )


def export(actor: User, child_id: uuid.UUID) -> SubjectAccessExport:
    """Everything the actor's organisation holds about a visible child, for a
    subject access request: the child's details; each referral it holds about
    them with its status history, the notes it may read (shared ones and its
    own internal ones), the shares as casework.list_shares shows them, its
    actions, what multi-agency meetings decided about it and its
    exploitation screenings (answers, evidence, levels, judgement) and its
    consent history; the
    records merged into this one; and who accessed those referrals and the
    child's record (when, who, which agency, what).

    Refuses a child not visible to the actor's organisation (NotFound); the
    permission (children:export) is the route's. Audited as a disclosure to
    the actor's organisation, with the referrals it covered."""
    child = get_visible_child(actor, child_id)
    referrals = list(
        db.session.scalars(
            held_referrals(actor)
            .where(Referral.child_id == child.id)
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    documents = documents_for_export(actor, referrals)
    exported = [
        ExportedReferral(
            referral=referral,
            history=casework.history(actor, referral),
            notes=casework.list_notes(actor, referral),
            shares=casework.list_shares(actor, referral),
            actions=actions.list_actions(actor, referral),
            meeting_decisions=_decisions(referral),
            screenings=screenings.list_screenings(actor, referral),
            documents=documents[referral.id],
            consent=consent.history(actor, referral),
        )
        for referral in referrals
    ]
    held_ids = {str(referral.id) for referral in referrals}
    # Merges that moved a referral this agency holds: another agency's merge
    # of records this agency never held is theirs to know.
    merges = [record for record in merges_into(child) if held_ids & set(record.moved_referral_ids)]
    shared_only = [
        referral.id
        for referral in referrals
        if not relations(actor, referral) & {Relation.REFERRING, Relation.RECEIVING}
    ]
    access, truncated = _access_entries(
        actor,
        [child.id, *(record.merged_id for record in merges)],
        [referral.id for referral in referrals],
        shared_only,
    )
    organisation = db.session.get(Organisation, actor.organisation_id)
    assert organisation is not None
    audit.record(
        "child.export",
        actor,
        record_type="child",
        record_id=child.id,
        record_ids=[referral.id for referral in referrals],
        fields=[
            "details",
            "referrals",
            "history",
            "notes",
            "shares",
            "actions",
            "meeting_decisions",
            "screenings",
            "documents",
            "consent",
            "access",
        ],
        recipient_organisation_id=actor.organisation_id,
        reason="subject access",
    )
    return SubjectAccessExport(
        exported_at=utcnow(),
        organisation=organisation,
        child=child,
        referrals=exported,
        merges=merges,
        access=access,
        access_truncated=truncated,
    )
