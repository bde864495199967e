"""A child's chronology as a page (with its filters), a printable page and
a CSV download: the same service and schema as the API
(services/chronology.py, schemas/chronology.py).

The filters are two GOV.UK date inputs and the kinds of event as
checkboxes, in a GET form (dates and kinds, nothing personal: the page can
be bookmarked); links carry the dates as ISO dates (`from=2026-11-01`, as
the API takes them) and the kinds as repeated `kind`. A filter that cannot
be used is a form error on the page, never a 500.

The CSV is a POST with the CSRF token, as the reports page's download is:
an export is an audited disclosure of case notes, so no other site may make
a browser ask for one (a link or an image elsewhere could, for a GET). It
changes nothing, so sending it twice is no harm: not wrapped in `sent_once`
(the reports page's download is not either)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.downloads import csv_attachment
from blueprints.web import validate
from blueprints.web.date_input import boxes_in_query, date_in_query
from blueprints.web.forms import Field, PageErrors, page_errors
from referral_app.chronology_kinds import (
    EARLIEST_DATE,
    END_BEFORE_START,
    KIND_WORDS,
    LATEST_DATE,
    OUT_OF_RANGE,
    ChronologyKind,
)
from referral_app.policy import Permission, requires
from referral_app.services import chronology, referrals
from referral_app.services.chronology import Purpose
from referral_app.templating import uk_date
from schemas.chronology import ChronologyQuerySchema

blp = Blueprint("web_chronology", __name__)

_BETWEEN = f"between {uk_date(EARLIEST_DATE)} and {uk_date(LATEST_DATE)}"
FILTERS = (
    Field(
        "from",
        "The start date",
        "Enter the start date",
        invalid="The start date must be a real date",
        anchor="from-day",
        own={OUT_OF_RANGE: f"The start date must be {_BETWEEN}"},
    ),
    Field(
        "to",
        "The end date",
        "Enter the end date",
        invalid="The end date must be a real date",
        anchor="to-day",
        own={
            OUT_OF_RANGE: f"The end date must be {_BETWEEN}",
            END_BEFORE_START: "The end date must be the same as or after the start date",
        },
    ),
    Field("kind", "Kind of event", "Select kinds of event from the list", anchor="kind"),
)
_FIELD = {field.name: field for field in FILTERS}
KIND_CHOICES = [(str(kind), KIND_WORDS[kind]) for kind in ChronologyKind]


def _given(query: Mapping[str, str], name: str) -> tuple[date | None, str | None]:
    return date_in_query(query, name, _FIELD[name])


def load_filters(query: MultiDict[str, str]) -> tuple[dict[str, Any] | None, PageErrors]:
    """The filters as the service takes them, or the page's messages for
    every one that is wrong."""
    problems: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    for name in ("from", "to"):
        day, problem = _given(query, name)
        if problem:
            problems[name] = [problem]
        elif day is not None:
            data[name] = day.isoformat()
    kinds = [kind for kind in query.getlist("kind") if kind.strip()]
    if kinds:
        data["kind"] = kinds
    loaded, errors = validate(ChronologyQuerySchema(), data)
    if loaded is None or problems:
        return None, page_errors({**errors, **problems}, FILTERS)
    return loaded, page_errors({}, FILTERS)


def _boxes(query: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The date boxes as they were filled in (a link's ISO date split up)."""
    return boxes_in_query(query, ("from", "to"))


def _as_query(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """The filters as a link's query (ISO dates, repeated kinds)."""
    pairs = [
        (name, filters[key].isoformat())
        for name, key in (("from", "date_from"), ("to", "date_to"))
        if filters.get(key)
    ]
    return pairs + [("kind", str(kind)) for kind in sorted(filters.get("kinds") or ())]


def _page(
    child_id: uuid.UUID,
    query: MultiDict[str, str],
    *,
    found: chronology.Chronology | None = None,
    errors: PageErrors | None = None,
    filters: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """The chronology's page; with errors and without events when the
    filters were refused (the child's name still heads it: a read)."""
    child = found.child if found else referrals.read_child(current_user, child_id)
    pairs = _as_query(filters or {})
    return render_template(
        "children/chronology.html",
        child=child,
        found=found,
        errors=errors or page_errors({}, FILTERS),
        boxes=_boxes(query),
        asked=set(query.getlist("kind")),
        kind_choices=KIND_CHOICES,
        kind_words=KIND_WORDS,
        query=urlencode(pairs),
        hidden=pairs,
    ), (200 if found else 422)


@blp.get("/children/<uuid:child_id>/chronology")
@requires(Permission.REFERRALS_READ)
def child_chronology(child_id: uuid.UUID) -> tuple[str, int]:
    filters, errors = load_filters(request.args)
    if filters is None:
        return _page(child_id, request.args, errors=errors)
    found = chronology.chronology(current_user, child_id, **filters)
    return _page(child_id, request.args, found=found, filters=filters)


@blp.get("/children/<uuid:child_id>/chronology/print")
@requires(Permission.REFERRALS_READ)
def child_chronology_print(child_id: uuid.UUID) -> tuple[str, int]:
    """The chronology as a page to print (or save as PDF), as filtered."""
    filters, errors = load_filters(request.args)
    if filters is None:
        return _page(child_id, request.args, errors=errors)
    found = chronology.chronology(current_user, child_id, **filters, purpose=Purpose.PRINTED)
    return render_template(
        "children/chronology_print.html",
        found=found,
        child=found.child,
        kind_words=KIND_WORDS,
        query=urlencode(_as_query(filters)),
        errors={},
    ), 200


@blp.post("/children/<uuid:child_id>/chronology.csv")
@requires(Permission.REFERRALS_READ)
def child_chronology_csv(child_id: uuid.UUID) -> Response | tuple[str, int]:
    """The chronology, as filtered, as a CSV download (a POST: see above)."""
    filters, errors = load_filters(request.form)
    if filters is None:
        return _page(child_id, request.form, errors=errors)
    return csv_attachment(chronology.chronology_csv(current_user, child_id, **filters))
