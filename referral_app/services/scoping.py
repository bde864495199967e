"""The query-scoping layer: what an organisation holds, written once.

An organisation holds a referral when it is the referring organisation, the
receiving organisation (once the referral has been submitted: a draft
withdrawn before submission never reaches it), or has a
live share (not revoked, not expired). A child is visible to an organisation
that holds any referral about the child. Every query for case data starts
from these functions; anything outside them does not exist for the caller
(404, and never a hint in a list, count or search).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, Uuid, and_, any_, exists, func, or_, select

from referral_app.extensions import db
from referral_app.models import (
    Child,
    Note,
    NoteVisibility,
    Referral,
    Share,
    User,
    utcnow,
)
from referral_app.services.errors import NotFound

# An agency and a moment: values, or parameters of a statement built once
# and kept (services.referral_statements, referral_rows).
OrgId = uuid.UUID | ColumnElement[Any]
Moment = datetime | ColumnElement[Any]


class Relation(enum.StrEnum):
    """How an organisation comes to hold a referral."""

    REFERRING = "referring"
    RECEIVING = "receiving"
    SHARED = "shared"


def live_share(organisation_id: OrgId, now: Moment) -> ColumnElement[bool]:
    """SQL condition on a share row: it is the organisation's, not revoked,
    not expired. The one definition of a live share."""
    return and_(
        Share.organisation_id == organisation_id,
        Share.revoked_at.is_(None),
        Share.expires_at > now,
    )


def live_share_exists(organisation_id: OrgId, now: Moment) -> ColumnElement[bool]:
    return exists().where(Share.referral_id == Referral.id, live_share(organisation_id, now))


def _shared_with(organisation_id: OrgId, now: Moment) -> ColumnElement[bool]:
    """The referral has a live share with the organisation. On PostgreSQL as
    `id = ANY(ARRAY(SELECT ...))`: the subquery runs once, and the three ways
    of holding become three index scans OR-ed together (a BitmapOr) instead
    of a scan of every referral. SQLite keeps the correlated EXISTS."""
    if db.session.get_bind().dialect.name != "postgresql":
        return live_share_exists(organisation_id, now)
    shared = func.array(
        select(Share.referral_id).where(live_share(organisation_id, now)).scalar_subquery(),
        type_=ARRAY(Uuid),
    )
    return Referral.id == any_(shared)


def _holds_as(organisation_id: OrgId, relation: Relation, now: Moment) -> ColumnElement[bool]:
    """SQL condition: the organisation holds the referral row in this one way."""
    if relation is Relation.REFERRING:
        return Referral.referring_organisation_id == organisation_id
    if relation is Relation.RECEIVING:
        return and_(
            Referral.receiving_organisation_id == organisation_id,
            Referral.submitted_at.is_not(None),
        )
    # From the agency's live shares to their referrals (on PostgreSQL an
    # array of ids read once, then the primary key), never a scan of every
    # referral asking each whether it is shared: at 1M referrals the shared
    # list took 107 ms that way, against an agency's few thousand shares.
    return _shared_with(organisation_id, now)


def holds(organisation_id: OrgId, now: Moment | None = None) -> ColumnElement[bool]:
    """SQL condition: the organisation holds the referral row (any way)."""
    now = utcnow() if now is None else now
    return or_(
        _holds_as(organisation_id, Relation.REFERRING, now),
        _holds_as(organisation_id, Relation.RECEIVING, now),
        _shared_with(organisation_id, now),
    )


def held_referrals(actor: User) -> Select[Referral]:
    """Every referral the actor's organisation holds."""
    return select(Referral).where(holds(actor.organisation_id))


def held_as(actor: User, relation: Relation, now: Moment | None = None) -> Select[Referral]:
    """The referrals the actor's organisation holds in one way. Each is
    exactly `held_referrals` narrowed to that way: a referral's referring and
    receiving agencies differ, and neither is ever given a share of it
    (casework.share), so the three ways never overlap."""
    return select(Referral).where(
        _holds_as(actor.organisation_id, relation, utcnow() if now is None else now)
    )


def rules_in_force() -> tuple[Callable[..., Any], ...]:
    """The functions the scoping rules are made of, as they are now: a
    statement built from them once and kept (services.referral_lists,
    referral_rows) is kept under these, so that a changed rule (a test's
    faulty one, say) is never answered by a statement built from the old."""
    return (holds, live_share, live_share_exists, held_as, _holds_as, _shared_with, note_is_visible)


def get_held_referral(actor: User, referral_id: uuid.UUID) -> Referral:
    """The referral, if the actor's organisation holds it; NotFound otherwise."""
    referral = db.session.scalar(held_referrals(actor).where(Referral.id == referral_id))
    if referral is None:
        raise NotFound("No such referral.")
    return referral


def organisation_holds(organisation_id: uuid.UUID, referral_id: uuid.UUID) -> bool:
    """Whether an agency (not necessarily the caller's) holds a referral now:
    what an action's owning agency, and a meeting's view of an agenda item,
    ask."""
    found = db.session.scalar(
        select(Referral.id).where(Referral.id == referral_id, holds(organisation_id))
    )
    return found is not None


def sides(actor: User, referral: Referral) -> set[Relation]:
    """Whether the actor's organisation holds the referral as its referring
    or its receiving agency: what the lifecycle's rules ask (no statement;
    `referral` may be a row of services.referral_rows)."""
    found: set[Relation] = set()
    org = actor.organisation_id
    if referral.referring_organisation_id == org:
        found.add(Relation.REFERRING)
    if referral.receiving_organisation_id == org and referral.submitted_at is not None:
        found.add(Relation.RECEIVING)
    return found


def relations(actor: User, referral: Referral, now: datetime | None = None) -> set[Relation]:
    """How the actor's organisation holds this referral (possibly several ways)."""
    found = sides(actor, referral)
    org = actor.organisation_id
    if referral.receiving_organisation_id == org or found:
        # The referring and receiving agencies are never given a share
        # (casework.share refuses it), so there is nothing more to ask.
        return found
    has_share = db.session.scalar(
        select(Referral.id).where(
            Referral.id == referral.id, live_share_exists(org, now or utcnow())
        )
    )
    if has_share is not None:
        found.add(Relation.SHARED)
    return found


def note_is_visible(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The one rule for which notes of a held referral an agency reads:
    `shared` ones, and `internal` ones its own people wrote."""
    return or_(Note.visibility == NoteVisibility.SHARED, Note.organisation_id == organisation_id)


def visible_notes(actor: User, referral: Referral) -> Select[Note]:
    """Notes of a held referral the actor's organisation may read."""
    return select(Note).where(
        Note.referral_id == referral.id, note_is_visible(actor.organisation_id)
    )


def child_is_visible(
    organisation_id: uuid.UUID, now: datetime | None = None
) -> ColumnElement[bool]:
    return exists().where(Referral.child_id == Child.id, holds(organisation_id, now))


def get_visible_child(actor: User, child_id: uuid.UUID) -> Child:
    """The child, if the actor's organisation holds a referral about them."""
    child = db.session.scalar(
        select(Child).where(Child.id == child_id, child_is_visible(actor.organisation_id))
    )
    if child is None:
        raise NotFound("No such child.")
    return child
