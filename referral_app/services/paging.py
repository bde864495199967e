"""Page arithmetic shared by every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from referral_app.services.errors import Invalid

# Far beyond any real list, and far below where OFFSET overflows a database integer.
MAX_PAGE = 100_000


def offset(page: int, page_size: int) -> int:
    """The OFFSET of a page. Refuses a page number past MAX_PAGE (Invalid)."""
    if page > MAX_PAGE:
        raise Invalid("That page is out of range.", {"page": [f"At most {MAX_PAGE}."]})
    return (page - 1) * page_size


# How far past the start of a page a list counts. An agency with a hundred
# thousand referrals would otherwise pay for counting all of them on every
# page; instead the count stops here and is reported as "at least".
COUNT_WINDOW = 1_000


def bounded_count(
    session: Any, query: Select[Any], start: int, window: int | None = None
) -> tuple[int, bool]:
    """(total, exact): the rows of `query`, counted no further than `window`
    past `start`. When the count stops early, `total` is one more than the
    window (so there is always a next page to link) and `exact` is False."""
    counted = session.scalar(bounded_count_of(query, start, window)) or 0
    return counted, counted <= start + (COUNT_WINDOW if window is None else window)


def bounded_count_of(query: Select[Any], start: int, window: int | None = None) -> Select[Any]:
    """The statement `bounded_count` runs; also usable as a column of the
    page's own statement (`.scalar_subquery()`), which saves a round trip."""
    bound = start + (COUNT_WINDOW if window is None else window)
    limited = query.order_by(None).limit(bound + 1).subquery()
    return select(func.count()).select_from(limited)


def exact_within(counted: int, start: int, window: int | None = None) -> bool:
    """Whether a count made by `bounded_count_of` is exact."""
    return counted <= start + (COUNT_WINDOW if window is None else window)
