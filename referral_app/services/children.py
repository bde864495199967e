"""Children as records: reading one, merging two records of one child (and
undoing it), and correcting a child's details (rectification). Finding the
same child is services.child_matching; subject access, services.child_export.

Everything here starts from what the actor's organisation can see
(services.scoping): a child is visible to an agency that holds a referral
about them. The one deliberate look beyond that is counting: how many likely
matches other agencies hold (`held_elsewhere`), and whether other agencies'
referrals are about a record before it is merged away. Both return a count
and nothing else.

Changing a child's record (correcting it, merging records, undoing a merge)
is for the referring or receiving agency of a referral about the child: a
further agency with a share sees the referral and changes nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.exc import DBAPIError

from referral_app.extensions import db
from referral_app.models import (
    Child,
    ChildMerge,
    Referral,
    ReferralStatus,
    User,
    utcnow,
)
from referral_app.services import audit
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import (
    get_visible_child,
    held_referrals,
)


@contextmanager
def beyond_holdings() -> Iterator[None]:
    """Lift PostgreSQL row-level security for the statements inside.

    Only for counting what other agencies hold (DESIGN section 5:
    `held_elsewhere`; and the referrals that keep a record from being merged):
    under row-level security those rows do not exist for the request, and the
    count would always be 0. The statements inside decide for themselves what
    the agency holds (services.scoping) and their callers return a count of
    the rest, never the rows. The setting is transaction-local and put back at
    once."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.execute(text("SELECT current_setting('app.rls_bypass', true)")).scalar()
    connection.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
    try:
        yield
    finally:
        # A failed statement aborted the transaction, and the setting dies with
        # it; do not hide that failure behind this one.
        with suppress(DBAPIError):
            connection.execute(
                text("SELECT set_config('app.rls_bypass', :value, true)"),
                {"value": previous or ""},
            )


# --- reading a child ----------------------------------------------------------


def held_referrals_about(actor: User, child: Child) -> list[Referral]:
    """The referrals about a visible child that the actor's organisation
    holds, oldest first (a list read, audited)."""
    referrals = list(
        db.session.scalars(
            held_referrals(actor)
            .where(Referral.child_id == child.id)
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    audit.record(
        "referral.list",
        actor,
        record_type="referral",
        record_ids=[referral.id for referral in referrals],
        fields=["child_id"],
    )
    return referrals


def merges_into(child: Child) -> list[ChildMerge]:
    """Merges (not undone) that moved other records' referrals to this
    (visible) child, newest first."""
    return list(
        db.session.scalars(
            select(ChildMerge)
            .where(ChildMerge.survivor_id == child.id, ChildMerge.undone_at.is_(None))
            .order_by(ChildMerge.merged_at.desc(), ChildMerge.id)
        )
    )


# --- changing a child's record -----------------------------------------------


def as_a_side(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition: the organisation is the referring or the receiving
    agency of the referral row (a draft: the referring agency alone). Not a
    further agency with a share, which sees a referral and changes nothing
    but its own notes (DESIGN section 4): nor the child's record."""
    return or_(
        Referral.referring_organisation_id == organisation_id,
        and_(
            Referral.receiving_organisation_id == organisation_id,
            Referral.status != ReferralStatus.DRAFT,
        ),
    )


def may_change_record(actor: User, child: Child) -> bool:
    """Whether the actor's organisation is the referring or receiving agency
    of a referral about this (visible) child: who may correct the child's
    details and merge records of them (with children:manage)."""
    found = db.session.scalar(
        select(Referral.id)
        .where(Referral.child_id == child.id, as_a_side(actor.organisation_id))
        .limit(1)
    )
    return found is not None


def _changeable_child(actor: User, child_id: uuid.UUID, which: str) -> Child:
    """A visible child whose record the actor's organisation may change:
    NotFound when not visible, Forbidden when seen only through a share,
    Conflict when merged away or anonymised."""
    child = get_visible_child(actor, child_id)
    if not may_change_record(actor, child):
        raise Forbidden(
            "Only the referring or receiving agency of a referral about this child can "
            "change the child's record; a share gives sight of the referral only."
        )
    if child.merged_into_id is not None:
        raise Conflict(f"The {which} record has already been merged into another.")
    if child.anonymised_at is not None:
        raise Conflict(f"The {which} record was anonymised under the retention policy.")
    return child


def merge(actor: User, survivor_id: uuid.UUID, duplicate_id: uuid.UUID) -> ChildMerge:
    """Merge the record `duplicate_id` into `survivor_id`: every referral
    about the duplicate moves to the survivor (its history untouched), the
    duplicate is marked `merged_into_id`, and a ChildMerge row remembers which
    referrals moved, so `unmerge` can move exactly those back.

    Needs both records visible to the actor's organisation (NotFound
    otherwise), and it the referring or receiving agency of a referral about
    each (Forbidden when it sees one only through a share) and of every
    referral about the duplicate: moving another agency's referral would show
    it, and that agency, a record they never saw (Conflict). Refuses a record
    merged into itself (Invalid) and a record already merged or anonymised
    (Conflict). The permission (children:manage) is the route's."""
    survivor = _changeable_child(actor, survivor_id, "surviving")
    if survivor_id == duplicate_id:
        raise Invalid(
            "A record cannot be merged into itself.",
            {"duplicate_id": ["Choose another record of the same child."]},
        )
    duplicate = _changeable_child(actor, duplicate_id, "duplicate")
    with beyond_holdings():
        not_ours = db.session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.child_id == duplicate.id, ~as_a_side(actor.organisation_id))
        )
    if not_ours:
        raise Conflict(
            "Other agencies referred or received referrals about the duplicate record: "
            "merge the other way round, or ask them to."
        )
    moving = list(
        db.session.scalars(
            select(Referral)
            .where(Referral.child_id == duplicate.id, as_a_side(actor.organisation_id))
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    # Marked first, while its referrals still make it visible (row-level
    # security checks the updated row against the agency's holdings).
    duplicate.merged_into_id = survivor.id
    db.session.flush()
    for referral in moving:
        referral.child = survivor
    db.session.flush()
    record = ChildMerge(
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        moved_referral_ids=[str(referral.id) for referral in moving],
        merged_by_id=actor.id,
        merged_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    _record_moves(actor, "child.merge", record, moving)
    return record


def _record_moves(actor: User, action: str, record: ChildMerge, moved: Sequence[Referral]) -> None:
    audit.record(
        action,
        actor,
        record_type="child",
        record_id=record.survivor_id,
        record_ids=[record.merged_id, *(referral.id for referral in moved)],
        fields=["merged_into_id"],
        reason=f"child merge {record.id}",
    )
    for referral in moved:
        # In each referral's own access log too.
        audit.record(
            "referral.child_changed",
            actor,
            record_type="referral",
            record_id=referral.id,
            fields=["child_id"],
            reason=f"child merge {record.id}",
        )


def unmerge(actor: User, merge_id: uuid.UUID) -> ChildMerge:
    """Undo a merge: move exactly the referrals it moved back to the merged
    record and clear its `merged_into_id`.

    A merge exists for the actor when their organisation holds a referral it
    moved (NotFound otherwise). Needs the organisation to be the referring or
    receiving agency of the referrals it moved (Forbidden when it holds them
    only through a share). Refuses (Conflict): a merge already undone;
    referrals moved away from the survivor since (it was merged again: undo
    that first), or no longer all the organisation's to move."""
    record = db.session.get(ChildMerge, merge_id)
    moved_ids = [uuid.UUID(value) for value in record.moved_referral_ids] if record else []
    held = (
        list(
            db.session.scalars(
                held_referrals(actor).where(Referral.id.in_(moved_ids)).order_by(Referral.id)
            ).unique()
        )
        if moved_ids
        else []
    )
    if record is None or not held:
        raise NotFound("No such merge.")
    ours = {
        referral.id
        for referral in held
        if referral.referring_organisation_id == actor.organisation_id
        or (
            referral.receiving_organisation_id == actor.organisation_id
            and referral.status is not ReferralStatus.DRAFT
        )
    }
    if not ours:
        raise Forbidden(
            "Only the referring or receiving agency of the referrals a merge moved can undo it."
        )
    if record.undone_at is not None:
        raise Conflict("This merge has already been undone.")
    if ours != set(moved_ids):
        raise Conflict(
            "Your agency is not the referring or receiving agency of every referral "
            "this merge moved."
        )
    if any(referral.child_id != record.survivor_id for referral in held):
        raise Conflict(
            "Some referrals this merge moved are no longer about the surviving record "
            "(it was merged again since): undo the later merge first."
        )
    for referral in held:
        # The merged record is not visible until its referrals are back, so
        # it is named by id (and loaded after).
        referral.child_id = record.merged_id
    db.session.flush()
    for referral in held:
        db.session.expire(referral, ["child"])
    merged = db.session.scalars(
        select(Child).where(Child.id == record.merged_id).execution_options(populate_existing=True)
    ).one()
    merged.merged_into_id = None
    record.undone_at = utcnow()
    record.undone_by_id = actor.id
    db.session.flush()
    _record_moves(actor, "child.unmerge", record, held)
    return record


def rectify(actor: User, child_id: uuid.UUID, changes: dict[str, Any]) -> tuple[Child, list[str]]:
    """Correct a visible child's details; returns the child and the names of
    the fields that changed, which the audit event lists (never their
    values). The permission (children:manage) is the route's.

    Refuses a child not visible to the actor's organisation (NotFound); one
    it sees only through a share: it is not the referring or receiving agency
    of any referral about them (Forbidden); and a record merged into another
    or anonymised (Conflict)."""
    child = _changeable_child(actor, child_id, "child's")
    changed = []
    for name, value in changes.items():
        if name == "aliases":
            value = list(value or [])
        if getattr(child, name) != value:
            setattr(child, name, value)
            changed.append(name)
    db.session.flush()
    audit.record("child.rectify", actor, record_type="child", record_id=child.id, fields=changed)
    return child, changed
