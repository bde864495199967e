"""The audit trail page for auditors and system admins: the events they may
read, newest first, filtered by person, agency, action, referral reference
and dates (a filter that cannot be used is an error on the page, never a
500), and the check that the chain is whole."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from blueprints.web import FormErrors, flatten_errors
from blueprints.web.date_input import read_date, typed_parts
from blueprints.web.forms import Field, page_errors
from blueprints.web.page_links import (
    check_page_exists,
    page_asked,
    page_count,
    pagination,
    query_for,
    showing,
)
from blueprints.web.sent_once import sent_once
from referral_app.models import User
from referral_app.policy import Permission, requires
from referral_app.services import audit, audit_search
from referral_app.services.audit import Verification
from referral_app.services.errors import Invalid
from schemas.audit import AuditPageQuerySchema

blp = Blueprint("web_audit", __name__)
PAGE_SIZE = 50
# Up to this many people, the person filter is a list to choose from;
# beyond it, the viewer types an email address.
PEOPLE_IN_A_LIST = 300

_REFERENCE = "Enter a referral reference in the correct format, like R-2026-000123"
_EMAIL = "Enter an email address in the correct format, like name@example.org"
_SINCE = Field(
    "since",
    "Date from",
    "Enter a date",
    invalid="Date from must be a real date",
    anchor="since-day",
)
_UNTIL = Field(
    "until",
    "Date to",
    "Enter a date",
    invalid="Date to must be a real date",
    anchor="until-day",
    own={
        "The end date is before the start date.": "Date to must be the same as or after date from"
    },
)
FILTERS = (
    Field("actor", "Person", "Select a person from the list"),
    Field("email", "Email address", _EMAIL),
    Field("organisation", "Agency", "Select an agency from the list"),
    Field(
        "action",
        "Action",
        "Select an action from the list",
        own={"Longer than maximum length 64.": "Select an action from the list"},
    ),
    Field(
        "reference",
        "Referral reference",
        _REFERENCE,
        own={"Not a referral reference.": _REFERENCE, "Longer than maximum length 16.": _REFERENCE},
    ),
    Field("record", "Record ID", "Enter a record ID"),
    _SINCE,
    _UNTIL,
)
TEXT_FILTERS = ("actor", "email", "organisation", "action", "reference", "record")


def _asked(args: MultiDict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The filters in the query string, as AuditPageQuerySchema loads them,
    and the dates that are not dates. Anything else in the query string
    (the page number, a stray parameter) is not a filter."""
    asked: dict[str, Any] = {
        name: args[name] for name in TEXT_FILTERS if args.get(name, "").strip()
    }
    wrong: FormErrors = {}
    for field in (_SINCE, _UNTIL):
        day, problem = read_date(args, field.name, field)
        if problem:
            wrong[field.name] = [problem]
        elif day is not None:
            asked[field.name] = day.isoformat()
    return asked, wrong


def _loaded(asked: dict[str, Any]) -> tuple[dict[str, Any], FormErrors]:
    """What the schema could load, and what it refused."""
    try:
        return AuditPageQuerySchema().load(asked), {}
    except ValidationError as error:
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        return valid, flatten_errors(error.normalized_messages())


def _choices(viewer: User) -> dict[str, Any]:
    """The people and agencies the viewer may filter by, and the actions."""
    return {
        "people": audit_search.people_to_choose(viewer, PEOPLE_IN_A_LIST),
        "agencies": audit_search.agencies_to_choose(viewer),
        "actions": audit_search.action_choices(),
    }


def _audit_page(verification: Verification | None = None) -> str | tuple[str, int]:
    viewer: User = current_user
    args = request.args
    dates = {name: typed_parts(args, name) for name in ("since", "until")}
    shown = {
        "form": args,
        "dates": dates,
        "filtered": any(args.get(name, "").strip() for name in TEXT_FILTERS)
        or any(typed for parts in dates.values() for typed in parts.values()),
        "verification": verification,
        "action_label": audit_search.action_label,
        **_choices(viewer),
    }
    asked, wrong = _asked(args)
    data, errors = _loaded(asked)
    errors = {**errors, **wrong}
    usable = {name: value for name, value in data.items() if name not in errors}
    try:
        filters = audit_search.event_filters(viewer, audit_search.PageFilters(**usable))
    except Invalid as refusal:
        # Every filter at fault in one round: the schema's and the service's.
        errors = {**(refusal.errors or {"_schema": [refusal.message]}), **errors}
    if errors:
        return _with_errors(shown, errors)
    page = page_asked(args)
    # None: a referral reference that names no referral has no events.
    events, total = (
        audit.list_events(viewer, filters, page=page, page_size=PAGE_SIZE) if filters else ([], 0)
    )
    check_page_exists(page, total, PAGE_SIZE)
    return render_template(
        "audit.html",
        errors=page_errors({}, FILTERS),
        events=events,
        names=audit_search.names_for(events),
        showing=showing(page, PAGE_SIZE, total, "event"),
        pagination=pagination(
            page, page_count(total, PAGE_SIZE), query_for("/audit", args), "Pages of events"
        ),
        **shown,
    )


def _with_errors(shown: dict[str, Any], raw: FormErrors) -> tuple[str, int]:
    # A filter this viewer's page does not show (a person by email where the
    # page has a list of people, an agency for an auditor) came from an
    # edited address: its message is about the search as a whole.
    hidden = {"email" if shown["people"] is not None else "actor"}
    if not shown["agencies"]:
        hidden.add("organisation")
    about_search = [message for name in hidden for message in raw.get(name, [])]
    raw = {name: messages for name, messages in raw.items() if name not in hidden}
    if about_search:
        raw["_schema"] = about_search
    page = render_template(
        "audit.html",
        errors=page_errors(raw, FILTERS),
        events=None,
        names=None,
        showing=None,
        pagination=None,
        **shown,
    )
    return page, 422


@blp.get("/audit")
@requires(Permission.AUDIT_READ)
def audit_trail() -> str | tuple[str, int]:
    return _audit_page()


@blp.post("/audit/verify")
@requires(Permission.AUDIT_READ)
@sent_once
def audit_verify() -> str | tuple[str, int]:
    """Check the whole chain, and show the answer above the trail."""
    return _audit_page(verification=audit.verify_for(current_user))
