"""The home page's worklists and the referral list with its filters, order
and pages (the search by name is in referral_search.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_login import current_user

from blueprints.web import form_fields, validate
from blueprints.web.choices import CHOICES
from blueprints.web.forms import page_errors
from blueprints.web.listing import (
    FILTER_FIELDS,
    PAGE_SIZE,
    SORT_OPTIONS,
    Listing,
    ListQuerySchema,
)
from referral_app.models import Role, User
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import lifecycle, referrals

blp = Blueprint("web_worklists", __name__)


@dataclass(frozen=True)
class Worklist:
    """A section of the home page: a list filtered as /referrals?<query>
    would be (the same schema reads both), and what to call its rows."""

    key: str
    heading: str
    query: dict[str, str]
    rows_called: str  # "See all 31 awaiting triage"
    empty: str


TRIAGE = Worklist(
    "triage",
    "Awaiting triage",
    {"direction": "incoming", "status": "submitted", "sort": "deadline"},  # overdue first
    "awaiting triage",
    "Nothing is waiting for triage.",
)
ASSIGNED = Worklist(
    "assigned",
    "Assigned to me",
    {"assigned_to": "me", "status": "in_progress"},
    "assigned to you",
    "Nothing is assigned to you.",
)
SENT = Worklist(
    "sent",
    "Sent by my agency",
    {"direction": "outgoing"},
    "sent by your agency",
    "Your agency has not made any referrals yet.",
)
SHARED = Worklist(
    "shared",
    "Shared with us",
    {"direction": "shared"},
    "shared with your agency",
    "Nothing is shared with your agency.",
)
DRAFTS = Worklist(
    "drafts", "My drafts", {"drafts": "mine"}, "of your drafts", "You have no drafts."
)


def worklists_for(user: User) -> list[Worklist]:
    """The sections a user's roles call for, most pressing first."""
    if not has_permission(user, Permission.REFERRALS_READ):
        return []
    sections = [TRIAGE] if user.has_role(Role.MANAGER) else []
    if user.has_role(Role.MANAGER) or user.has_role(Role.CASEWORKER):
        sections.append(ASSIGNED)  # referrers are never assigned a referral
    sections += [SENT, SHARED]
    if has_permission(user, Permission.REFERRALS_CREATE):
        sections.append(DRAFTS)
    return sections


def _filters(worklist: Worklist) -> referrals.ReferralFilters:
    return referrals.ReferralFilters.from_input(ListQuerySchema().load(worklist.query))


def _listing(worklist: Worklist, page: referrals.Page) -> Listing:
    keep = {name: value for name, value in worklist.query.items() if name != "sort"}
    return Listing(
        page,
        "/referrals",
        sort=worklist.query.get("sort", "newest"),
        keep=keep,
        sortable=False,
        shared=worklist is SHARED,
        page_size=PAGE_SIZE,
    )


@blp.get("/")
@requires(Permission.ACCOUNT_SELF)
def home() -> str:
    """What needs the viewer's attention, each list with its count and a
    link to all of it; for people without case work, links to their pages.
    "Shared with us" shows only for an agency that holds shares."""
    actor: User = current_user
    worklists = worklists_for(actor)
    # Every section's first page in one statement.
    pages = referrals.first_pages(
        actor, [_filters(worklist) for worklist in worklists], page_size=PAGE_SIZE
    )
    sections = [
        (worklist, _listing(worklist, page))
        for worklist, page in zip(worklists, pages, strict=True)
    ]
    sections = [
        (worklist, listing)
        for worklist, listing in sections
        if worklist is not SHARED or listing.page.total
    ]
    return render_template("home.html", user=actor, sections=sections, overdue=lifecycle.is_overdue)


@blp.get("/referrals")
@requires(Permission.REFERRALS_READ)
def referral_list() -> str | tuple[str, int]:
    """Every referral the agency holds, filtered, sorted and a page at a
    time, all in the query string (nothing personal: names are searched by
    POST, see referral_search.py). A value the list does not know is an
    error on the page, never a failure."""
    raw = form_fields(request.args)
    data, errors = validate(ListQuerySchema(), raw)
    if data is None:
        return render_template(
            "referrals/list.html",
            errors=page_errors(errors, FILTER_FIELDS),
            form=raw,
            listing=None,
            sort_options=SORT_OPTIONS,
            **CHOICES,
        ), 422
    number = data.get("page", 1)
    filters = referrals.ReferralFilters.from_input(data)
    page = referrals.list_referrals(
        current_user, filters, page=number, page_size=PAGE_SIZE, details=True
    )
    listing = Listing(
        page,
        "/referrals",
        number=number,
        sort=filters.sort,
        keep={name: value for name, value in raw.items() if name not in ("page", "sort")},
        shared=filters.direction == "shared",
        page_size=PAGE_SIZE,
    )
    return render_template(
        "referrals/list.html",
        errors=page_errors({}, FILTER_FIELDS),
        form=raw,
        listing=listing,
        sort_options=SORT_OPTIONS,
        overdue=lifecycle.is_overdue,
        **CHOICES,
    )
