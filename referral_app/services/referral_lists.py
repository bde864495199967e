"""Finding referrals: the lists and the search, always within what the
actor's organisation holds (services.scoping), a page at a time, counted
no further than needed (services.paging), in one of the orders of
services.referral_order. Each read is audited with the ids it showed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from referral_app.extensions import db
from referral_app.models import ReferralStatus, User
from referral_app.services import audit, paging
from referral_app.services.referral_order import order_for
from referral_app.services.referral_rows import Row, shaped, with_overdue

# The statements themselves; REFERENCE is this service's too (referrals).
from referral_app.services.referral_statements import (  # noqa: F401
    REFERENCE,
    Shape,
    matching,
    search,
    statement_of,
    together,
    values_of,
)


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
        statement_of(shape),
        values_of(actor, filters, start, page_size, slot),
    )


def _count_past_the_end(listed: _List) -> tuple[int, bool]:
    """The count for a page past the end, which has no row to carry it."""
    ways = [way.params(listed.values) for way in search(listed.shape)]
    return paging.bounded_count(db.session, matching(ways), listed.start)


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
    rows = _rows(together(tuple(listed.shape for listed in prepared)), values)
    by_list: list[list[Row]] = [[] for _ in prepared]
    for row in rows:
        by_list[row.pop("list_number")].append(row)
    return [_finish(actor, listed, own) for listed, own in zip(prepared, by_list, strict=True)]
