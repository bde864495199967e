"""Lists in pages: which page was asked for, what the pagination component
shows, and the line that says how much of the list is on screen ("Showing
26 to 50 of 131 users"). A list is never cut silently."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import abort

from referral_app.services import paging


def page_asked(args: Mapping[str, str]) -> int:
    """The page number in the query string: 1 when absent or not a number
    (a mangled link still shows the list); a page past any list is not found."""
    raw = args.get("page", "")
    number = int(raw) if raw.isdigit() else 1
    if number > paging.MAX_PAGE:
        abort(404)
    return max(number, 1)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def check_page_exists(page: int, total: int, page_size: int) -> None:
    """A page past the end of a list is a page that does not exist."""
    if page > page_count(total, page_size):
        abort(404)


def query_for(path: str, query: Mapping[str, Any]) -> Callable[[int], str]:
    """Links to pages of `path` that keep the rest of the query string."""
    kept = [
        (key, value) for key, value in query.items() if key != "page" and value not in ("", None)
    ]

    def href(page: int) -> str:
        return f"{path}?{urlencode([*kept, ('page', page)])}"

    return href


def pagination(
    page: int, pages: int, href: Callable[[int], str], label: str = "Pages"
) -> dict[str, Any] | None:
    """govukPagination's parameters: previous and next, the first and last
    pages, and the pages either side of this one, with ellipses between, in
    a landmark named `label` ("Pages of users"). None when the list has one
    page."""
    if pages <= 1:
        return None
    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1].get("number", number) > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    return {
        "previous": {"href": href(page - 1)} if page > 1 else None,
        "next": {"href": href(page + 1)} if page < pages else None,
        "items": items,
        "landmarkLabel": label,
    }


def showing(page: int, page_size: int, total: int, noun: str, plural: str | None = None) -> str:
    """ "Showing 26 to 50 of 131 users", or "2 users" when they fit on a page."""
    words = noun if total == 1 else (plural or noun + "s")
    if total <= page_size:
        return f"{total:,} {words}"
    first = (page - 1) * page_size + 1
    last = min(page * page_size, total)
    return f"Showing {first:,} to {last:,} of {total:,} {words}"
