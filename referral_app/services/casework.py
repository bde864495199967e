"""Case notes and shares with further agencies, on referrals the actor's
organisation holds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    LawfulBasis,
    Note,
    NoteKind,
    NoteVisibility,
    Organisation,
    Referral,
    ReferralStatus,
    Share,
    StatusChange,
    User,
    utcnow,
)
from referral_app.services import agreements, audit, events, notifications
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import Relation, relations, visible_notes

# A note may be dated a little ahead to allow for clocks that disagree.
CLOCK_SKEW = timedelta(minutes=5)
MAX_SHARE_DAYS = 366


def list_notes(actor: User, referral: Referral) -> list[Note]:
    """The notes of a held referral the actor may read, oldest first."""
    notes = list(
        db.session.scalars(
            visible_notes(actor, referral).order_by(Note.occurred_at, Note.created_at, Note.id)
        )
    )
    audit.record(
        "referral.notes_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[note.id for note in notes],
    )
    return notes


def add_note(
    actor: User,
    referral: Referral,
    *,
    kind: NoteKind,
    body: str,
    visibility: NoteVisibility,
    occurred_at: datetime | None = None,
    significant: bool = False,
) -> Note:
    """Append a note. `occurred_at` is the date of contact (when it
    happened; now when not given), `created_at` when it was recorded;
    `significant` puts it in the child's chronology. Refuses a time in the
    future (Invalid). The actor's own unread notifications about the
    referral are marked read (as for a share, a revocation and a
    transition: acting on it answers them)."""
    now = utcnow()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise Invalid("A note records what happened.", {"occurred_at": ["Not in the future."]})
    note = Note(
        referral_id=referral.id,
        author_id=actor.id,
        organisation_id=actor.organisation_id,
        kind=kind,
        body=body,
        visibility=visibility,
        occurred_at=occurred_at,
        created_at=now,
        significant=significant,
    )
    db.session.add(note)
    db.session.flush()
    events.on_note(note.id, referral.id, shared=visibility is NoteVisibility.SHARED)
    audit.record(
        "referral.note_added",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[note.id],
        fields=[
            "kind",
            "body",
            "visibility",
            "occurred_at",
            *(["significant"] if significant else []),
        ],
    )
    notifications.mark_read_about(actor, referral)
    return note


def mark_significant(
    actor: User, referral: Referral, note_id: uuid.UUID, *, significant: bool
) -> Note:
    """Mark a note of a held referral as significant (it goes into the
    child's chronology) or remove the mark. Any note the actor's agency may
    read: another agency's internal note does not exist for it (NotFound).
    Notes stay append-only: only the mark changes, and the change is
    recorded."""
    note = db.session.scalar(visible_notes(actor, referral).where(Note.id == note_id))
    if note is None:
        raise NotFound("No such note.")
    note.significant = significant
    db.session.flush()
    audit.record(
        "referral.note_marked",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[note.id],
        fields=["significant"],
    )
    return note


def history(actor: User, referral: Referral) -> list[StatusChange]:
    """The status changes of a held referral, oldest first."""
    changes = list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.referral_id == referral.id)
            .order_by(StatusChange.at, StatusChange.id)
        )
    )
    audit.record("referral.history_read", actor, record_type="referral", record_id=referral.id)
    return changes


def may_manage_shares(actor: User, referral: Referral) -> bool:
    """Managers of the referring or receiving agency decide who else sees a
    referral; an agency that holds it through a share cannot pass it on."""
    held_as = relations(actor, referral)
    return "manager" in actor.roles and bool(held_as & {Relation.REFERRING, Relation.RECEIVING})


def list_shares(actor: User, referral: Referral) -> list[Share]:
    """All shares for the referring and receiving agencies; a shared agency
    sees only its own."""
    query = select(Share).where(Share.referral_id == referral.id)
    if not relations(actor, referral) & {Relation.REFERRING, Relation.RECEIVING}:
        query = query.where(Share.organisation_id == actor.organisation_id)
    shares = list(db.session.scalars(query.order_by(Share.granted_at, Share.id)))
    audit.record(
        "referral.shares_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id for grant in shares],
    )
    return shares


def share(
    actor: User,
    referral: Referral,
    *,
    organisation_id: uuid.UUID,
    purpose: str,
    lawful_basis: LawfulBasis,
    expires_at: datetime,
    agreement_id: uuid.UUID | None = None,
    no_agreement_reason: str | None = None,
) -> Share:
    """Share a referral with a further agency until `expires_at`, citing the
    information sharing agreement that covers it (`agreement_id`) or saying
    why it is shared without one (`no_agreement_reason`): see
    agreements.check_share.

    Refuses: an actor who is not a manager of the referring or receiving
    agency (Forbidden); a draft (Conflict); an agency that is missing,
    inactive, or already holds the referral, and an expiry in the past or
    more than a year ahead (Invalid); a live share to the same agency
    (Conflict). The actor's own unread notifications about the referral are
    marked read."""
    if not may_manage_shares(actor, referral):
        raise Forbidden("Only a manager of the referring or receiving agency can share it.")
    if referral.status is ReferralStatus.DRAFT:
        raise Conflict("A draft cannot be shared: submit it first.")
    now = utcnow()
    errors: dict[str, list[str]] = {}
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.active:
        errors["organisation_id"] = ["Choose an active agency."]
    elif organisation.id in (
        referral.referring_organisation_id,
        referral.receiving_organisation_id,
    ):
        errors["organisation_id"] = ["This agency already holds the referral."]
    if expires_at <= now:
        errors["expires_at"] = ["Must be in the future."]
    elif expires_at > now + timedelta(days=MAX_SHARE_DAYS):
        errors["expires_at"] = [f"At most {MAX_SHARE_DAYS} days ahead."]
    citation, citation_errors = agreements.check_share(
        actor,
        organisation_id=organisation_id,
        lawful_basis=lawful_basis,
        agreement_id=agreement_id,
        no_agreement_reason=no_agreement_reason,
    )
    errors.update(citation_errors)
    if errors or citation is None:
        raise Invalid("The share is not valid.", errors)
    live = db.session.scalar(
        select(Share.id).where(
            Share.referral_id == referral.id,
            Share.organisation_id == organisation_id,
            Share.revoked_at.is_(None),
            Share.expires_at > now,
        )
    )
    if live is not None:
        raise Conflict("This agency already has a live share of the referral.")
    grant = Share(
        referral_id=referral.id,
        organisation_id=organisation_id,
        purpose=purpose,
        lawful_basis=lawful_basis,
        granted_by_id=actor.id,
        granted_at=now,
        expires_at=expires_at,
        agreement_id=citation.agreement_id,
        no_agreement_reason=citation.no_agreement_reason,
    )
    db.session.add(grant)
    db.session.flush()
    notifications.on_share(actor, referral, organisation_id)
    events.record(events.EventType.SHARE_GRANTED, referral.id, grant.id)
    notifications.mark_read_about(actor, referral)
    # A disclosure: the recipient agency is named.
    audit.record(
        "referral.shared",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
        recipient_organisation_id=organisation_id,
        fields=[
            "organisation_id",
            "purpose",
            "lawful_basis",
            "expires_at",
            "agreement_id" if citation.agreement_id else "no_agreement_reason",
        ],
    )
    agreements.on_shared(actor, grant)
    return grant


def _managed_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    if not may_manage_shares(actor, referral):
        raise Forbidden("Only a manager of the referring or receiving agency can revoke a share.")
    grant = db.session.scalar(
        select(Share).where(Share.id == share_id, Share.referral_id == referral.id)
    )
    if grant is None:
        raise NotFound("No such share.")
    return grant


def read_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    """One share of a held referral, for an actor who may manage its shares
    (what the page that confirms a revocation shows), its read recorded.
    Refuses as `revoke_share` does: an actor who may not manage shares
    (Forbidden), an unknown share (NotFound)."""
    grant = _managed_share(actor, referral, share_id)
    audit.record(
        "referral.shares_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
    )
    return grant


def revoke_share(actor: User, referral: Referral, share_id: uuid.UUID) -> Share:
    """Revoke a share now. Refuses an actor who may not manage shares
    (Forbidden), an unknown share (NotFound) and one already revoked
    (Conflict). The actor's own unread notifications about the referral are
    marked read."""
    grant = _managed_share(actor, referral, share_id)
    if grant.revoked_at is not None:
        raise Conflict("This share is already revoked.")
    grant.revoked_at = utcnow()
    grant.revoked_by_id = actor.id
    db.session.flush()
    # Imported here: consent_decisions revokes through this module.
    from referral_app.services import consent_decisions

    consent_decisions.on_share_revoked(actor, referral, grant)
    events.record(events.EventType.SHARE_REVOKED, referral.id, grant.id)
    audit.record(
        "referral.share_revoked",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[grant.id],
        recipient_organisation_id=grant.organisation_id,
        fields=["revoked_at"],
    )
    notifications.mark_read_about(actor, referral)
    return grant
