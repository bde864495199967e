"""Finding referrals: the lists and the search, always within what the
actor's organisation holds (services.scoping), a page at a time, counted
no further than needed (services.paging), in one of the orders of
services.referral_order. Each read is audited with the ids it showed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, union_all

from referral_app.extensions import db
from referral_app.models import Child, Referral, ReferralStatus, Share, User, utcnow
from referral_app.models.referral import child_full_name
from referral_app.services import audit, paging
from referral_app.services.referral_order import Order, last_activity, order_for
from referral_app.services.referral_rows import Row, page_statement, shaped, with_overdue
from referral_app.services.scoping import Relation, held_as, held_referrals, live_share

# A referral's reference, e.g. R-2026-000123 (referrals.next_reference).
REFERENCE = re.compile(r"R-\d{4}-\d{6,}")


@dataclass(frozen=True)
class ReferralFilters:
    status: ReferralStatus | None = None
    risk_level: str | None = None
    direction: str | None = None
    assigned_to_me: bool = False
    overdue: bool | None = None
    q: str | None = None
    # Only the actor's own drafts ("My drafts").
    my_drafts: bool = False
    # One of SORTS: "newest" (created, newest first), a column (its values
    # ascending: "deadline" is the soonest triage deadline first) or "-" and
    # a column (descending).
    sort: str = "newest"

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> ReferralFilters:
        """From the loaded list or search schema (API query, body or web form)."""
        return cls(
            status=data.get("status"),
            risk_level=data.get("risk_level"),
            direction=data.get("direction"),
            assigned_to_me=data.get("assigned_to") == "me",
            overdue=data.get("overdue"),
            q=data.get("q"),
            my_drafts=data.get("drafts") == "mine",
            sort=data.get("sort") or "newest",
        )


def _conditions(actor: User, filters: ReferralFilters, now: datetime) -> list[Any]:
    """The filters other than the direction, as SQL conditions on referral."""
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(Referral.status == filters.status)
    if filters.risk_level is not None:
        conditions.append(Referral.risk_level == filters.risk_level)
    if filters.assigned_to_me:
        conditions.append(Referral.assignee_id == actor.id)
    if filters.my_drafts:
        conditions.append(Referral.status == ReferralStatus.DRAFT)
        conditions.append(Referral.referring_user_id == actor.id)
    if filters.overdue is not None:
        overdue = (Referral.status == ReferralStatus.SUBMITTED) & (Referral.triage_deadline < now)
        conditions.append(overdue if filters.overdue else ~overdue)
    if filters.q:
        term = filters.q.strip()
        if REFERENCE.fullmatch(term.upper()):
            # References are stored upper-case: the unique index answers.
            conditions.append(Referral.reference == term.upper())
        else:
            # The children whose name matches (a trigram index on
            # PostgreSQL), then their referrals: a semi-join the planner
            # may drive from either side, by how common the name is. The
            # full name holds the first and the last, so one condition
            # finds a term in either or across both.
            like = f"%{_escape_like(term.lower())}%"
            named = select(Child.id).where(child_full_name().like(like, escape="\\"))
            conditions.append(Referral.child_id.in_(named))
    return conditions


DIRECTIONS = {
    "incoming": Relation.RECEIVING,
    "outgoing": Relation.REFERRING,
    "shared": Relation.SHARED,
}


def search(actor: User, filters: ReferralFilters) -> list[Select[Any]]:
    """The held referrals matching the filters, unordered, as one query or
    as several that never overlap (to be put together with UNION ALL).

    One direction is one way of holding (scoping.held_as): a single indexed
    condition. All of them, on PostgreSQL, are the three ways apart (a
    referral's agencies differ and neither is given a share), each reading
    its own agency index, instead of OR-ing the ways over the whole table.
    SQLite keeps the OR (scoping.holds)."""
    now = utcnow()
    conditions = _conditions(actor, filters, now)
    relation = DIRECTIONS.get(filters.direction or "")
    if relation is not None:
        return [held_as(actor, relation, now).where(*conditions)]
    if db.session.get_bind().dialect.name == "postgresql":
        return [held_as(actor, way, now).where(*conditions) for way in Relation]
    return [held_referrals(actor).where(*conditions)]


def _page_rows(ways: list[Select[Any]], order: Order, start: int, page_size: int) -> Any:
    """The ids (and sort keys) of one page, in order. With several ways, each
    gives its own first `start + page_size` rows from its index, and the page
    is taken from their union: no way is read further than the page needs."""
    if len(ways) == 1:
        chosen = order.keyed(ways[0])
    else:
        firsts = union_all(*(order.keyed(way).limit(start + page_size) for way in ways))
        held = firsts.subquery("held")
        chosen = select(held).order_by(*order.of(held))
    return chosen.limit(page_size).offset(start).subquery("page")


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ShareTerms:
    """What a share told the agency it was given to: why, and until when."""

    purpose: str
    expires_at: datetime


@dataclass(frozen=True)
class Page:
    items: list[Row]  # services.referral_rows: shaped like a Referral
    # Exact when `exact`; otherwise a lower bound: there are at least this many.
    total: int
    exact: bool = True
    # With `details` (the browser's lists): each row's last activity, and
    # the terms of the share through which the actor's agency holds a row.
    last_activity: dict[uuid.UUID, datetime] = field(default_factory=dict)
    shares: dict[uuid.UUID, ShareTerms] = field(default_factory=dict)


def list_referrals(
    actor: User, filters: ReferralFilters, *, page: int, page_size: int, details: bool = False
) -> Page:
    """A page of the referrals the actor's agency holds that match the
    filters, in the filters' order, with how many there are; the read is
    audited with the ids shown. `details` adds each row's last activity (in
    the same statement) and, in one more statement, the share terms of the
    rows held through a share.

    Refuses a page past paging.MAX_PAGE and a sort not in SORTS (Invalid)."""
    ways = search(actor, filters)
    start = paging.offset(page, page_size)
    order = order_for(actor, filters.sort)
    matching = ways[0] if len(ways) == 1 else select(union_all(*ways).subquery("held"))
    # A name search is not counted: a common name would be counted through
    # every referral that has it. One row past the page tells whether there
    # are more ("at least", total_exact false). A worklist is counted, to
    # at most paging.COUNT_WINDOW rows past the page, straight off an index.
    look_ahead = 1 if filters.q else 0
    # The page is chosen on the referral rows alone (read off the agency
    # indexes in order), and only its rows are joined to their child,
    # agencies and people: a "deferred join". The count is a column of the
    # same statement (one round trip), read again on its own only for a
    # page past the end, which has no row to carry it.
    chosen = _page_rows(ways, order, start, page_size + look_ahead)
    in_order = order.of(chosen)
    extra = [last_activity(actor).label("last_activity")] if details else []
    if not filters.q:
        extra.append(paging.bounded_count_of(matching, start).scalar_subquery().label("total"))
    # Plain rows (services.referral_rows), not ORM objects: a page is read
    # and shaped without building and tracking 25 referrals and their parts.
    result = db.session.execute(page_statement(chosen, in_order, extra))
    items = with_overdue(shaped(list(result.keys()), result.all()))
    activity: dict[uuid.UUID, datetime] = (
        {row["id"]: row.pop("last_activity") for row in items} if details else {}
    )
    if not filters.q:
        if items:
            counted = items[0]["total"]
            for row in items:
                del row["total"]
            total, exact = counted, paging.exact_within(counted, start)
        else:
            total, exact = paging.bounded_count(db.session, matching, start)
    if filters.q:
        more = len(items) > page_size
        items = items[:page_size]
        if items or start == 0:
            total, exact = start + len(items) + more, not more
        else:  # a page past the end: how far the matches go is unknown
            total, exact = paging.bounded_count(db.session, matching, start)
    audit.record(
        "referral.search" if filters.q else "referral.list",
        actor,
        record_type="referral",
        record_ids=[row["id"] for row in items],
        fields=[name for name, value in filters.__dict__.items() if value and name != "sort"],
    )
    return Page(
        items=items,
        total=total,
        exact=exact,
        last_activity=activity,
        shares=_shares_held(actor, items) if details else {},
    )


def _shares_held(actor: User, items: list[Row]) -> dict[uuid.UUID, ShareTerms]:
    """The live share through which the actor's agency holds each row it
    neither made nor received (one statement; none when there is no such row)."""
    own = actor.organisation_id
    shared = [
        row["id"]
        for row in items
        if own not in (row["referring_organisation_id"], row["receiving_organisation_id"])
    ]
    if not shared:
        return {}
    rows = db.session.execute(
        select(Share.referral_id, Share.purpose, Share.expires_at).where(
            Share.referral_id.in_(shared), live_share(own, utcnow())
        )
    )
    return {row.referral_id: ShareTerms(row.purpose, row.expires_at) for row in rows}
