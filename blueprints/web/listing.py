"""What the referral lists in the browser share: the query string they read
(a fixed vocabulary, checked by one schema and reported by one set of
fields) and one page of a list as the templates show it (its count, its
sortable headers, its pagination, and links that keep its filters)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma

from blueprints.web.forms import Field
from referral_app.services import paging, referrals
from referral_app.services.referral_order import SORTS
from schemas.common import InputSchema
from schemas.referral import ReferralFiltersSchema

PAGE_SIZE = 25


class PagingSchema(InputSchema):
    """`sort` and `page`: the query string of a saved search's results."""

    sort = ma.fields.String(validate=ma.validate.OneOf(SORTS))
    page = ma.fields.Integer(validate=ma.validate.Range(min=1, max=paging.MAX_PAGE))


class ListQuerySchema(ReferralFiltersSchema, PagingSchema):
    """/referrals?...: the filters, the order and the page. Nothing personal:
    a name is searched by POST (`q` here is refused as an unknown field)."""

    drafts = ma.fields.String(validate=ma.validate.OneOf(["mine"]))


# The list's controls, in the page's order, with what the page says when one
# is refused (the values come from a URL, so "not one we know" is the usual).
FILTER_FIELDS = (
    Field(
        "q",
        "Name or reference",
        "Search by name or reference with the search form: names must not appear in web addresses",
    ),
    Field("status", "Status", "Select a status from the list"),
    Field("risk_level", "Risk level", "Select a risk level from the list"),
    Field("direction", "Direction", "Select incoming, sent by us or shared with us"),
    Field("assigned_to", "Assigned to me", "Tick assigned to me or leave it empty"),
    Field("overdue", "Overdue", "Tick overdue or leave it empty"),
    Field("drafts", "My drafts", "Tick my drafts or leave it empty"),
    Field("sort", "Sort by", "Select an order from the list"),
    Field("page", "Page", "Choose a page of the list", anchor="main-content"),
)

# The table's columns: (sort key, heading, the order a first click asks
# for). Risk and last activity start with the most pressing.
COLUMNS = (
    ("reference", "Reference", "reference"),
    ("child", "Child", "child"),
    ("age", "Age", "age"),
    ("risk", "Risk", "-risk"),
    ("from", "From", "from"),
    ("to", "To", "to"),
    ("assignee", "Assignee", "assignee"),
    ("status", "Status", "status"),
    ("activity", "Last activity", "-activity"),
    ("deadline", "Triage by", "deadline"),
)
# The same orders for the "Sort by" select, in words.
_ORDER_WORDS = {
    "reference": ("Reference, first to last", "Reference, last to first"),
    "child": ("Child's name, A to Z", "Child's name, Z to A"),
    "age": ("Age, youngest first", "Age, oldest first"),
    "risk": ("Risk, lowest first", "Risk, highest first"),
    "from": ("From, A to Z", "From, Z to A"),
    "to": ("To, A to Z", "To, Z to A"),
    "assignee": ("Assignee, A to Z", "Assignee, Z to A"),
    "status": ("Status, earliest stage first", "Status, latest stage first"),
    "activity": ("Last activity, oldest first", "Last activity, most recent first"),
    "deadline": ("Triage deadline, soonest first", "Triage deadline, latest first"),
}
SORT_OPTIONS = [("newest", "Newest first")] + [
    (key if not down else f"-{key}", _ORDER_WORDS[key][down])
    for key, _, _ in COLUMNS
    for down in (0, 1)
]


@dataclass(frozen=True)
class SortHeader:
    text: str
    href: str | None  # None: the column is not sortable here
    aria_sort: str | None  # "ascending" / "descending" on the sorted column
    action: str  # what following the link does, for screen readers


@dataclass(frozen=True)
class Listing:
    """One page of a list: what the templates need to show it and to link
    to its other pages and orders, keeping its filters (`keep`)."""

    page: referrals.Page
    path: str
    number: int = 1
    sort: str = "newest"
    keep: dict[str, str] = field(default_factory=dict)
    sortable: bool = True
    shared: bool = False  # show the share's purpose and end date
    page_size: int = PAGE_SIZE

    def url(self, *, page: int | None = None, sort: str | None = None) -> str:
        params = dict(self.keep)
        order = self.sort if sort is None else sort
        if order != "newest":
            params["sort"] = order
        number = self.number if page is None else page
        if number > 1:
            params["page"] = str(number)
        return self.path + ("?" + urlencode(params) if params else "")

    @property
    def start(self) -> int:
        return (self.number - 1) * self.page_size

    @property
    def known_pages(self) -> int:
        """Pages known to exist (all of them when the count is exact)."""
        return max(1, math.ceil(self.page.total / self.page_size))

    def summary(self) -> str:
        """ "Showing 26 to 50 of 60 referrals", or "More than 1,000 referrals:
        showing 1 to 25" when the count stopped early (paging.bounded_count)."""
        total, shown = self.page.total, len(self.page.items)
        first, last = self.start + 1, self.start + shown
        if not self.page.exact:
            return f"More than {total - 1:,} referrals: showing {first:,} to {last:,}"
        noun = "referral" if total == 1 else "referrals"
        if shown == total or not shown:
            return f"{total:,} {noun}"
        return f"Showing {first:,} to {last:,} of {total:,} {noun}"

    def section_count(self) -> str:
        """For a worklist on the home page: "Showing 25 of 31"."""
        total, shown = self.page.total, len(self.page.items)
        if not self.page.exact:
            return f"Showing {shown:,} of more than {total - 1:,}"
        return f"Showing {shown:,} of {total:,}"

    def pagination(self) -> dict[str, Any] | None:
        """govukPagination's parameters: the first, last and neighbouring
        page numbers, previous and next. None for a list of one page."""
        last = self.known_pages
        if last == 1 and self.number == 1 and self.page.exact:
            return None
        wanted = {1, self.number - 1, self.number, self.number + 1, last}
        numbers = sorted(n for n in wanted if 1 <= n <= max(last, self.number))
        items: list[dict[str, Any]] = []
        previous = 0
        for number in numbers:
            if number - previous > 1:
                items.append({"ellipsis": True})
            items.append(
                {"number": number, "href": self.url(page=number), "current": number == self.number}
            )
            previous = number
        if not self.page.exact:
            items.append({"ellipsis": True})  # more pages than were counted
        return {
            "items": items,
            "previous": {"href": self.url(page=self.number - 1)} if self.number > 1 else None,
            # An inexact count is a lower bound: there is more to see.
            "next": {"href": self.url(page=self.number + 1)}
            if self.number < last or not self.page.exact
            else None,
            "landmarkLabel": "Pages of referrals",
        }

    def headers(self) -> list[SortHeader]:
        """The table's headings: each a link to sort by it (the other way
        round on the sorted column, whose aria-sort says how it is sorted)."""
        found = []
        for key, text, first in COLUMNS:
            if not self.sortable:
                found.append(SortHeader(text, None, None, ""))
                continue
            sorted_by = self.sort.removeprefix("-") == key
            descending = self.sort.startswith("-")
            target = (key if descending else f"-{key}") if sorted_by else first
            found.append(
                SortHeader(
                    text,
                    self.url(sort=target, page=1),
                    ("descending" if descending else "ascending") if sorted_by else None,
                    _ORDER_WORDS[key][target.startswith("-")],
                )
            )
        return found
