"""Page arithmetic shared by every list."""

from __future__ import annotations

from referral_app.services.errors import Invalid

# Far beyond any real list, and far below where OFFSET overflows a database integer.
MAX_PAGE = 100_000


def offset(page: int, page_size: int) -> int:
    """The OFFSET of a page. Refuses a page number past MAX_PAGE (Invalid)."""
    if page > MAX_PAGE:
        raise Invalid("That page is out of range.", {"page": [f"At most {MAX_PAGE}."]})
    return (page - 1) * page_size
