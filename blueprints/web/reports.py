"""The reports page for managers: the agency's referrals in and out over a
date range, as charts (server-drawn SVG) with the same numbers in tables, and
the CSV download."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from blueprints.api.reports import csv_attachment
from blueprints.web import FormErrors, flatten_errors, form_fields
from referral_app.policy import Permission, requires
from referral_app.services import reports
from schemas.report import ReportQuerySchema

blp = Blueprint("web_reports", __name__)


def load_range(query: dict[str, Any]) -> tuple[reports.DateRange | None, FormErrors]:
    """The date range in the query string (the defaults filled in), or the problems."""
    try:
        return ReportQuerySchema().load(query), {}
    except ValidationError as error:
        return None, flatten_errors(error.normalized_messages())


@blp.get("/reports")
@requires(Permission.REPORTS_READ)
def report_page() -> Any:
    # The range travels in the query string: dates, no personal data.
    query = form_fields(request.args)
    date_range, errors = load_range(query)
    if date_range is None:
        return render_template("reports.html", errors=errors, form=query, summary=None), 422
    summary = reports.summary(current_user, date_range.date_from, date_range.date_to)
    form = {"from": date_range.date_from.isoformat(), "to": date_range.date_to.isoformat()}
    return render_template(
        "reports.html",
        errors={},
        form=form,
        summary=summary,
        keys={
            "status": reports.STATUS_KEYS,
            "risk_level": reports.RISK_LEVEL_KEYS,
            "risk_factor": reports.RISK_FACTOR_KEYS,
            "outcome": reports.OUTCOME_KEYS,
        },
        csv_url="/reports/referrals.csv?" + urlencode(form),
    )


@blp.get("/reports/referrals.csv")
@requires(Permission.REPORTS_READ)
def referrals_csv() -> Any:
    query = form_fields(request.args)
    date_range, errors = load_range(query)
    if date_range is None:
        return render_template("reports.html", errors=errors, form=query, summary=None), 422
    export = reports.referrals_csv(current_user, date_range.date_from, date_range.date_to)
    return csv_attachment(export)
