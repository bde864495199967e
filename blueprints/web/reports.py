"""The reports page for managers: the agency's referrals in and out over a
period, as charts (server-drawn SVG) with the same numbers in tables, and
the CSV download.

The period is asked for as two GOV.UK date inputs in a GET form (dates, no
personal data: the page can be bookmarked). Links carry it as ISO dates
(`from=2025-01-01&to=2025-12-31`, as the API takes it); both are read. A
period that cannot be reported is a form error on the page, never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import cast

from flask import Blueprint, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.downloads import csv_attachment
from blueprints.web import validate
from blueprints.web.date_input import boxes_in_query, date_in_query, parts_of
from blueprints.web.forms import Field, PageErrors, page_errors
from referral_app import report_periods
from referral_app.policy import Permission, requires
from referral_app.services import report_csv, reports
from referral_app.services.errors import Invalid
from schemas.report import ReportQuerySchema

blp = Blueprint("web_reports", __name__)

_EARLIEST = f"{report_periods.EARLIEST_DATE.day} {report_periods.EARLIEST_DATE:%B %Y}"
_LATEST = f"{report_periods.LATEST_DATE.day} {report_periods.LATEST_DATE:%B %Y}"
# What the schema and the service say about a range (schemas/report.py,
# services/reports.py), in the page's words.
_OUT_OF_RANGE = (
    f"Choose a date from {report_periods.EARLIEST_DATE} to {report_periods.LATEST_DATE}."
)

PERIOD = (
    Field(
        "from",
        "The start of the period",
        "Enter the start of the period",
        invalid="Enter a real date for the start of the period",
        anchor="from-day",
        own={
            _OUT_OF_RANGE: f"The start of the period must be between {_EARLIEST} and {_LATEST}",
            "Choose a shorter date range.": (
                f"The download holds at most {report_csv.CSV_MAX_ROWS:,} referrals: "
                "choose a later start of the period"
            ),
        },
    ),
    Field(
        "to",
        "The end of the period",
        "Enter the end of the period",
        invalid="Enter a real date for the end of the period",
        anchor="to-day",
        own={
            _OUT_OF_RANGE: f"The end of the period must be between {_EARLIEST} and {_LATEST}",
            "The end of the range must not be before its start.": (
                "The end of the period must be the same as or after the start"
            ),
            f"A report covers at most {report_periods.MAX_SPAN_YEARS} years.": (
                f"The period must be {report_periods.MAX_SPAN_YEARS} years or less"
            ),
        },
    ),
)
_FIELD = {field.name: field for field in PERIOD}


def _given(query: Mapping[str, str], name: str) -> tuple[date | None, str | None]:
    return date_in_query(query, name, _FIELD[name])


def load_period(query: Mapping[str, str]) -> tuple[reports.DateRange | None, PageErrors]:
    """The period in the query string (the defaults filled in: the last
    twelve calendar months), or the page's messages for what is wrong."""
    raw: dict[str, list[str]] = {}
    data: dict[str, str] = {}
    for name in ("from", "to"):
        day, problem = _given(query, name)
        if problem:
            raw[name] = [problem]
        elif day is not None:
            data[name] = day.isoformat()
    if raw:
        return None, page_errors(raw, PERIOD)
    loaded, errors = validate(ReportQuerySchema(), data)
    if loaded is None:
        return None, page_errors(errors, PERIOD)
    # The schema loads to a DateRange (its post_load), not a dict.
    return cast(reports.DateRange, loaded), page_errors({}, PERIOD)


def _typed(query: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The date boxes as they were filled in (a link's ISO date split up)."""
    return boxes_in_query(query, ("from", "to"))


def _refused(query: Mapping[str, str], errors: PageErrors) -> tuple[str, int]:
    return render_template("reports.html", errors=errors, boxes=_typed(query), summary=None), 422


@blp.get("/reports")
@requires(Permission.REPORTS_READ)
def report_page() -> tuple[str, int] | str:
    period, errors = load_period(request.args)
    if period is None:
        return _refused(request.args, errors)
    summary = reports.summary(current_user, period.date_from, period.date_to)
    return render_template(
        "reports.html",
        errors=errors,
        boxes={"from": parts_of(period.date_from), "to": parts_of(period.date_to)},
        summary=summary,
        keys={
            "status": reports.STATUS_KEYS,
            "risk_level": reports.RISK_LEVEL_KEYS,
            "risk_factor": reports.RISK_FACTOR_KEYS,
            "outcome": reports.OUTCOME_KEYS,
        },
    )


@blp.post("/reports/referrals.csv")
@requires(Permission.REPORTS_READ)
def referrals_csv() -> Response | tuple[str, int]:
    """The period's referrals as CSV: a POST with the CSRF token (an export
    is an audited disclosure; another site cannot make a browser ask)."""
    period, errors = load_period(request.form)
    if period is None:
        return _refused(request.form, errors)
    try:
        export = report_csv.referrals_csv(current_user, period.date_from, period.date_to)
    except Invalid as refusal:
        return _refused(
            request.form, page_errors(refusal.errors or {"_schema": [refusal.message]}, PERIOD)
        )
    return csv_attachment(export)
