"""Reports for managers: the agency's referrals in and out, and their CSV export."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from blueprints.downloads import csv_attachment
from referral_app.policy import Permission, requires
from referral_app.services import report_csv, reports
from schemas.report import ReportQuerySchema, ReportSummarySchema

blp = Blueprint(
    "reports",
    __name__,
    description="Managers' reports on their agency's referrals in and out, and the CSV export.",
)

CSV_DESCRIPTION = (
    "One row per referral, a header row first: "
    + ", ".join(report_csv.CSV_COLUMNS)
    + ". No names, dates of birth or free text. Cells that a spreadsheet would run as a "
    "formula (starting with =, +, -, @, tab or carriage return) start with a single quote."
)


@blp.route("/reports/summary")
class Summary(MethodView):
    @requires(Permission.REPORTS_READ)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSummarySchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, date_range: reports.DateRange) -> reports.Summary:
        """The agency's referrals received and sent in the date range (by
        default the last twelve calendar months): counts by status, risk
        level, risk factor and outcome, overdue, median and 90th percentile
        hours to triage and to close, and the count per month. Referrals only
        shared with the agency are not counted."""
        return reports.summary(current_user, date_range.date_from, date_range.date_to)


@blp.route("/reports/referrals.csv")
class ReferralsCsv(MethodView):
    @requires(Permission.REPORTS_READ)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description=CSV_DESCRIPTION,
        headers={
            "Content-Disposition": {
                "description": "attachment; filename=referrals-<agency>-<from>-to-<to>.csv",
                "schema": {"type": "string"},
            }
        },
    )
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 429)
    def get(self, date_range: reports.DateRange) -> Response:
        """The agency's referrals received and sent in the date range (the same
        referrals as the summary) as CSV. Audited as an export; limited per
        user (CSV_EXPORT_LIMIT, by default 10 an hour: 429 beyond it)."""
        export = report_csv.referrals_csv(current_user, date_range.date_from, date_range.date_to)
        return csv_attachment(export)
