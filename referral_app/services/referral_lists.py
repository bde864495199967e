"""Finding referrals: the lists and the search, always within what the
actor's organisation holds (services.scoping), a page at a time, counted
no further than needed (services.paging), in one of the orders of
services.referral_order. Each read is audited with the ids it showed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, String, Uuid, bindparam, func, literal, select, union_all

from referral_app.extensions import db
from referral_app.models import Child, Referral, ReferralStatus, Share, User, utcnow
from referral_app.models.referral import child_full_name
from referral_app.models.types import UTCDateTime
from referral_app.services import audit, paging, scoping
from referral_app.services.referral_order import Order, last_activity, order_for
from referral_app.services.referral_rows import (
    REFERRAL,
    Row,
    page_statement,
    shaped,
    with_overdue,
)
from referral_app.services.scoping import Relation, held_as, live_share

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


# Each list's statement is built once per shape (which filters are given,
# the direction, the order, the database) with its values as parameters,
# and kept: a request only binds its values. SQLAlchemy then neither builds
# nor keys the statement again (most of a list's cost in SQLAlchemy).
ACTOR = SimpleNamespace(
    id=bindparam("actor_id", type_=Uuid()),
    organisation_id=bindparam("organisation_id", type_=Uuid()),
)
NOW = bindparam("now", type_=UTCDateTime())


@dataclass(frozen=True)
class Shape:
    """What a list's statement depends on, apart from its values."""

    dialect: str
    rules: tuple[Callable[..., Any], ...]  # scoping.rules_in_force()
    direction: str | None
    status: bool
    risk_level: bool
    assigned_to_me: bool
    my_drafts: bool
    overdue: bool | None
    q: str | None  # "reference" or "name"
    sort: str
    details: bool
    # A prefix for the parameters that differ between lists, when several
    # lists are read in one statement (first_pages).
    slot: str = ""

    @classmethod
    def of(cls, filters: ReferralFilters, details: bool, slot: str = "") -> Shape:
        return cls(
            dialect=db.session.get_bind().dialect.name,
            rules=scoping.rules_in_force(),
            direction=filters.direction,
            status=filters.status is not None,
            risk_level=filters.risk_level is not None,
            assigned_to_me=filters.assigned_to_me,
            my_drafts=filters.my_drafts,
            overdue=filters.overdue,
            q=_q_kind(filters.q),
            sort=filters.sort,
            details=details,
            slot=slot,
        )


def _q_kind(q: str | None) -> str | None:
    if not q:
        return None
    return "reference" if REFERENCE.fullmatch(q.strip().upper()) else "name"


def _values(
    actor: User, filters: ReferralFilters, start: int, page_size: int, slot: str = ""
) -> dict[str, Any]:
    """The parameters of a list's statement (see Shape)."""
    values: dict[str, Any] = {
        "actor_id": actor.id,
        "organisation_id": actor.organisation_id,
        "now": utcnow(),
        f"{slot}status": filters.status,
        f"{slot}risk_level": filters.risk_level,
        "start": start,
        "page_size": page_size + (1 if filters.q else 0),
        "firsts": start + page_size + (1 if filters.q else 0),
        "count_limit": start + paging.COUNT_WINDOW + 1,
    }
    kind = _q_kind(filters.q)
    if kind == "reference":
        # References are stored upper-case: the unique index answers.
        values[f"{slot}q"] = (filters.q or "").strip().upper()
    elif kind == "name":
        values[f"{slot}q"] = f"%{_escape_like((filters.q or '').strip().lower())}%"
    return values


def _conditions(shape: Shape) -> list[Any]:
    """The filters other than the direction, as SQL conditions on referral."""
    conditions: list[Any] = []
    if shape.status:
        conditions.append(Referral.status == bindparam(f"{shape.slot}status"))
    if shape.risk_level:
        conditions.append(Referral.risk_level == bindparam(f"{shape.slot}risk_level"))
    if shape.assigned_to_me:
        conditions.append(Referral.assignee_id == ACTOR.id)
    if shape.my_drafts:
        conditions.append(Referral.status == ReferralStatus.DRAFT)
        conditions.append(Referral.referring_user_id == ACTOR.id)
    if shape.overdue is not None:
        overdue = (Referral.status == ReferralStatus.SUBMITTED) & (Referral.triage_deadline < NOW)
        conditions.append(overdue if shape.overdue else ~overdue)
    if shape.q == "reference":
        conditions.append(Referral.reference == bindparam(f"{shape.slot}q", type_=String()))
    elif shape.q == "name":
        # The children whose name matches (a trigram index on
        # PostgreSQL), then their referrals: a semi-join the planner
        # may drive from either side, by how common the name is. The
        # full name holds the first and the last, so one condition
        # finds a term in either or across both.
        named = select(Child.id).where(
            child_full_name().like(bindparam(f"{shape.slot}q", type_=String()), escape="\\")
        )
        conditions.append(Referral.child_id.in_(named))
    return conditions


DIRECTIONS = {
    "incoming": Relation.RECEIVING,
    "outgoing": Relation.REFERRING,
    "shared": Relation.SHARED,
}


def search(shape: Shape) -> list[Select[Any]]:
    """The held referrals matching the filters, unordered, as one query or
    as several that never overlap (to be put together with UNION ALL).

    One direction is one way of holding (scoping.held_as): a single indexed
    condition. All of them, on PostgreSQL, are the three ways apart (a
    referral's agencies differ and neither is given a share), each reading
    its own agency index, instead of OR-ing the ways over the whole table.
    SQLite keeps the OR (scoping.holds)."""
    conditions = _conditions(shape)
    actor: Any = ACTOR
    relation = DIRECTIONS.get(shape.direction or "")
    if relation is not None:
        return [held_as(actor, relation, NOW).where(*conditions)]
    if shape.dialect == "postgresql":
        return [held_as(actor, way, NOW).where(*conditions) for way in Relation]
    return [select(Referral).where(scoping.holds(ACTOR.organisation_id, NOW), *conditions)]


def _page_rows(ways: list[Select[Any]], order: Order) -> Any:
    """The ids (and sort keys) of one page, in order. With several ways, each
    gives its own first `start + page_size` rows from its index, and the page
    is taken from their union: no way is read further than the page needs."""
    if len(ways) == 1:
        chosen = order.keyed(ways[0])
    else:
        firsts = union_all(*(order.keyed(way).limit(bindparam("firsts")) for way in ways))
        held = firsts.subquery("held")
        chosen = select(held).order_by(*order.of(held))
    return chosen.limit(bindparam("page_size")).offset(bindparam("start")).subquery("page")


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


@dataclass(frozen=True)
class _List:
    """One list's statement, its values, and what is needed to read its answer."""

    filters: ReferralFilters
    start: int
    page_size: int
    shape: Shape
    statement: Select[Any]
    values: dict[str, Any]


def _prepare(
    actor: User, filters: ReferralFilters, page: int, page_size: int, details: bool, slot: str = ""
) -> _List:
    start = paging.offset(page, page_size)
    order_for(actor, filters.sort)  # refuses an unknown order before anything is built
    shape = Shape.of(filters, details, slot)
    return _List(
        filters,
        start,
        page_size,
        shape,
        _statement(shape),
        _values(actor, filters, start, page_size, slot),
    )


@cache
def _statement(shape: Shape) -> Select[Any]:
    """A page of a list of this shape, built once (see Shape)."""
    ways = search(shape)
    actor: Any = ACTOR
    order = order_for(actor, shape.sort)
    # The page is chosen on the referral rows alone (read off the agency
    # indexes in order), and only its rows are joined to their child,
    # agencies and people: a "deferred join". A name search is not counted
    # (a common name would be counted through every referral that has it:
    # one row past the page tells whether there are more). Any other list is
    # counted to at most paging.COUNT_WINDOW rows past the page, straight
    # off an index, in a column of the same statement.
    chosen = _page_rows(ways, order)
    in_order = order.of(chosen)
    extra: list[Any] = []
    if shape.details:
        extra += [*detail_columns(), func.row_number().over(order_by=in_order).label("position")]
    if shape.q is None:
        extra.append(
            select(func.count())
            .select_from(_matching(ways).order_by(None).limit(bindparam("count_limit")).subquery())
            .scalar_subquery()
            .label("total")
        )
    return page_statement(chosen, in_order, extra)


def _matching(ways: list[Select[Any]]) -> Select[Any]:
    return ways[0] if len(ways) == 1 else select(union_all(*ways).subquery("held"))


def detail_columns() -> list[Any]:
    """What the browser's lists show beyond the referral: its last activity,
    and the terms of the live share through which the actor's agency holds
    it, if that is how (the referring and receiving agencies never have one)."""
    actor: Any = ACTOR
    held_by_share = (Share.referral_id == REFERRAL.c.id, live_share(ACTOR.organisation_id, NOW))
    return [
        last_activity(actor).label("last_activity"),
        select(Share.purpose).where(*held_by_share).limit(1).scalar_subquery().label("purpose"),
        select(Share.expires_at)
        .where(*held_by_share)
        .limit(1)
        .scalar_subquery()
        .label("share_expires_at"),
    ]


def _count_past_the_end(listed: _List) -> tuple[int, bool]:
    """The count for a page past the end, which has no row to carry it."""
    ways = [way.params(listed.values) for way in search(listed.shape)]
    return paging.bounded_count(db.session, _matching(ways), listed.start)


def _finish(actor: User, listed: _List, items: list[Row]) -> Page:
    """The page from its rows; its read recorded in the audit trail."""
    filters, start = listed.filters, listed.start
    activity: dict[uuid.UUID, datetime] = {}
    shares: dict[uuid.UUID, ShareTerms] = {}
    for row in items:
        if listed.shape.details:
            activity[row["id"]] = row.pop("last_activity")
            purpose, until = row.pop("purpose"), row.pop("share_expires_at")
            if purpose is not None:
                shares[row["id"]] = ShareTerms(purpose, until)
            row.pop("position")
    if filters.q:
        more = len(items) > listed.page_size
        items = items[: listed.page_size]
        if items or start == 0:
            total, exact = start + len(items) + more, not more
        else:  # a page past the end: how far the matches go is unknown
            total, exact = _count_past_the_end(listed)
    elif items:
        total = items[0]["total"]
        for row in items:
            del row["total"]
        exact = paging.exact_within(total, start)
    elif start == 0:
        total, exact = 0, True
    else:
        total, exact = _count_past_the_end(listed)
    audit.record(
        "referral.search" if filters.q else "referral.list",
        actor,
        record_type="referral",
        record_ids=[row["id"] for row in items],
        fields=[name for name, value in filters.__dict__.items() if value and name != "sort"],
    )
    return Page(items=items, total=total, exact=exact, last_activity=activity, shares=shares)


def _rows(statement: Select[Any], values: dict[str, Any]) -> list[Row]:
    # Plain rows (services.referral_rows), not ORM objects: a page is read
    # and shaped without building and tracking 25 referrals and their parts.
    result = db.session.connection().execute(statement, values)
    return with_overdue(shaped(list(result.keys()), result.all()))


def list_referrals(
    actor: User, filters: ReferralFilters, *, page: int, page_size: int, details: bool = False
) -> Page:
    """A page of the referrals the actor's agency holds that match the
    filters, in the filters' order, with how many there are; the read is
    audited with the ids shown. `details` adds each row's last activity and
    the share terms of a row held through a share (the browser's lists), in
    the same statement.

    Refuses a page past paging.MAX_PAGE and a sort not in SORTS (Invalid)."""
    listed = _prepare(actor, filters, page, page_size, details)
    return _finish(actor, listed, _rows(listed.statement, listed.values))


def first_pages(actor: User, lists: Sequence[ReferralFilters], *, page_size: int) -> list[Page]:
    """The first page of each of several lists (the home page's worklists),
    with details, in one statement: each list's own statement, put together
    with UNION ALL and told apart by its number. Each read is audited as
    `list_referrals` audits it."""
    if not lists:
        return []
    prepared = [
        _prepare(actor, filters, 1, page_size, True, slot=f"list{number}_")
        for number, filters in enumerate(lists)
    ]
    values: dict[str, Any] = {}
    for listed in prepared:
        values.update(listed.values)
    rows = _rows(_together(tuple(listed.shape for listed in prepared)), values)
    by_list: list[list[Row]] = [[] for _ in prepared]
    for row in rows:
        by_list[row.pop("list_number")].append(row)
    return [_finish(actor, listed, own) for listed, own in zip(prepared, by_list, strict=True)]


@cache
def _together(shapes: tuple[Shape, ...]) -> Select[Any]:
    """The statements of several lists as one (first_pages), built once."""
    parts = [
        select(literal(number).label("list_number"), _statement(shape).subquery(f"list_{number}"))
        for number, shape in enumerate(shapes)
    ]
    together = union_all(*parts).subquery("lists")
    return select(together).order_by(together.c.list_number, together.c.position)
