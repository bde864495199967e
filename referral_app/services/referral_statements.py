"""The statements of the referral lists (services.referral_lists), each
built once per shape and kept: which filters are given, the direction, the
order, the database and the scoping rules in force make a Shape; every value
(the agency, the time, a status, a name) is a parameter. The scoping layer
(services.scoping) builds them, as it builds every query of case data."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, String, Uuid, bindparam, func, literal, select, union_all

from referral_app.extensions import db
from referral_app.models import Child, Referral, ReferralStatus, Share, User, utcnow
from referral_app.models.referral import child_full_name
from referral_app.models.types import UTCDateTime
from referral_app.services import paging, scoping
from referral_app.services.referral_order import Order, last_activity, order_for
from referral_app.services.referral_rows import REFERRAL, page_statement
from referral_app.services.scoping import Relation, held_as, live_share

if TYPE_CHECKING:
    from referral_app.services.referral_lists import ReferralFilters

# A referral's reference, e.g. R-2026-000123 (referrals.next_reference).
REFERENCE = re.compile(r"R-\d{4}-\d{6,}")


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
            q=q_kind(filters.q),
            sort=filters.sort,
            details=details,
            slot=slot,
        )


def q_kind(q: str | None) -> str | None:
    if not q:
        return None
    return "reference" if REFERENCE.fullmatch(q.strip().upper()) else "name"


def values_of(
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
    kind = q_kind(filters.q)
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


@cache
def statement_of(shape: Shape) -> Select[Any]:
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
            .select_from(matching(ways).order_by(None).limit(bindparam("count_limit")).subquery())
            .scalar_subquery()
            .label("total")
        )
    return page_statement(chosen, in_order, extra)


def matching(ways: list[Select[Any]]) -> Select[Any]:
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


@cache
def together(shapes: tuple[Shape, ...]) -> Select[Any]:
    """The statements of several lists as one (first_pages), built once."""
    parts = [
        select(literal(number).label("list_number"), statement_of(shape).subquery(f"list_{number}"))
        for number, shape in enumerate(shapes)
    ]
    together = union_all(*parts).subquery("lists")
    return select(together).order_by(together.c.list_number, together.c.position)
