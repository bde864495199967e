"""Searching referrals by the child's name or the reference, with the name
kept out of every URL: the form is POSTed, the search is stored on the
server for its user (services.saved_searches), and the browser is sent
(303) to /referrals/search/<random id>, a GET that runs it again each time.
Back, refresh and a bookmark all work, and each viewing is scoped to what
the agency holds then and audited.

Sending the same search twice stores it twice and changes nothing else, so
the search form is not guarded by sent_once."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import form_fields, validate
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.listing import FILTER_FIELDS, PAGE_SIZE, Listing, PagingSchema
from referral_app.policy import Permission, requires
from referral_app.services import lifecycle, referrals, saved_searches
from schemas.referral import ReferralSearchSchema

blp = Blueprint("web_referral_search", __name__)

SEARCH_FIELDS = (
    Field("q", "Name or reference", "Enter a child's name or a referral reference"),
    *(spec for spec in FILTER_FIELDS if spec.name not in ("q", "drafts", "sort", "page")),
)
# The results' address takes only these; the page has no control for them.
PAGING_FIELDS = (
    Field("sort", "Sort by", "Select an order from the list", anchor="main-content"),
    Field("page", "Page", "Choose a page of the list", anchor="main-content"),
)
# What the list's filters may come with when an old-style form posts to /referrals.
_FILTER_NAMES = ("status", "risk_level", "direction", "assigned_to", "overdue")


def _search_page(
    errors: PageErrors, form: dict[str, Any], *, expired: bool = False, listing: Listing | None
) -> str:
    return render_template(
        "referrals/search.html",
        errors=errors,
        form=form,
        expired=expired,
        listing=listing,
        overdue=lifecycle.is_overdue,
    )


@blp.get("/referrals/search")
@requires(Permission.REFERRALS_READ)
def search_form() -> str:
    return _search_page(page_errors({}, SEARCH_FIELDS), {}, listing=None)


@blp.post("/referrals/search")
@requires(Permission.REFERRALS_READ)
def search() -> Response | tuple[str, int]:
    """Store the search and send the browser to its results (303)."""
    criteria = form_fields(request.form)
    data, errors = validate(ReferralSearchSchema(), criteria)
    if data is None:
        return _search_page(page_errors(errors, SEARCH_FIELDS), criteria, listing=None), 422
    saved = saved_searches.store(current_user, criteria)
    return redirect(f"/referrals/search/{saved.id}", code=303)


@blp.post("/referrals")
@requires(Permission.REFERRALS_READ)
def search_from_list() -> Response | tuple[str, int]:
    """The list's old search form posted here: a name or reference is
    searched as above; filters alone go to the list (they are not personal)."""
    if request.form.get("q", "").strip():
        return search()
    filters = form_fields(request.form)
    kept = {name: filters[name] for name in _FILTER_NAMES if name in filters}
    return redirect("/referrals" + (f"?{urlencode(kept)}" if kept else ""), code=303)


@blp.get("/referrals/search/<uuid:search_id>")
@requires(Permission.REFERRALS_READ)
def results(search_id: uuid.UUID) -> str | tuple[str, int]:
    """The stored search, run again now: page and order in the query
    string. Another user's search is a 404 page; an expired one says so and
    offers the form (410 Gone: the address will not work again, whoever
    asks, so browsers and bookmarks get an honest answer)."""
    try:
        criteria = saved_searches.load(current_user, search_id)
    except saved_searches.SearchExpired:
        return _search_page(page_errors({}, SEARCH_FIELDS), {}, expired=True, listing=None), 410
    query, errors = validate(PagingSchema(), form_fields(request.args))
    data, _ = validate(ReferralSearchSchema(), criteria)
    if data is None:  # stored under rules that have since changed: search again
        return _search_page(page_errors({}, SEARCH_FIELDS), {}, expired=True, listing=None), 410
    if query is None:
        return _search_page(page_errors(errors, PAGING_FIELDS), criteria, listing=None), 422
    number = query.get("page", 1)
    filters = referrals.ReferralFilters.from_input({**data, "sort": query.get("sort")})
    page = referrals.list_referrals(
        current_user, filters, page=number, page_size=PAGE_SIZE, details=True
    )
    listing = Listing(
        page,
        f"/referrals/search/{search_id}",
        number=number,
        sort=filters.sort,
        shared=filters.direction == "shared",
        page_size=PAGE_SIZE,
    )
    return _search_page(page_errors({}, SEARCH_FIELDS), criteria, listing=listing)
