"""An agency's referrals in and out over a period, as CSV: the same
referrals as the report's summary, one row each, no names or free text,
every cell neutralised against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from referral_app.extensions import db
from referral_app.models import Organisation, Referral, ReferralStatus, User, utcnow
from referral_app.services import audit
from referral_app.services.errors import Invalid
from referral_app.services.reports import direction_of, in_report, report_date, resolve_range

# The CSV is built in memory (about 250 bytes a row): beyond this many rows
# the export is refused and the caller asked for a shorter range.
CSV_MAX_ROWS = 100_000

# No child's name, date of birth or address, no free text (reasons, outcome
# summaries, notes): the reference finds the referral when a row needs
# following up, and the export stays a management report rather than a copy
# of the case files (data minimisation, UK GDPR article 5(1)(c)).
CSV_COLUMNS = (
    "reference",
    "direction",
    "status",
    "risk_level",
    "risk_factors",
    "referring_agency",
    "receiving_agency",
    "created_at",
    "submitted_at",
    "triage_deadline",
    "overdue",
    "triaged_at",
    "closed_at",
    "outcome",
)

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP,
# "CSV injection"): the ASCII ones, their fullwidth forms (which some
# spreadsheets fold to ASCII, especially with East Asian input settings) and
# the minus sign; tab, carriage return and line feed are stripped by some
# before they look, and so are leading spaces.
FORMULA_TRIGGERS = (
    "=", "+", "-", "@", "|", "%",
    "\uff1d", "\uff0b", "\uff0d", "\uff20", "\uff5c", "\uff05", "\u2212",
    "\t", "\r", "\n",
)  # fmt: skip


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula,
    even after leading white space, gets a leading single quote."""
    return (
        "'" + cell
        if cell.lstrip(" \t\r\n\u3000").startswith(FORMULA_TRIGGERS)
        or (cell[:1] in ("\t", "\r", "\n"))
        else cell
    )


@dataclass(frozen=True)
class CsvExport:
    filename: str
    text: str
    rows: int


def _timestamp(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def _overdue(status: ReferralStatus, triage_deadline: datetime | None, now: datetime) -> bool:
    """As services.lifecycle.is_overdue, from the columns of a row."""
    return (
        status is ReferralStatus.SUBMITTED and triage_deadline is not None and triage_deadline < now
    )


def referrals_csv(
    actor: User, date_from: date | None = None, date_to: date | None = None
) -> CsvExport:
    """The actor's organisation's referrals in and out over the range (the
    same referrals as the summary) as CSV, oldest first, one row each, with
    every cell neutralised against spreadsheet formulas.

    Needs REPORTS_READ (checked by the route); refuses an invalid range and
    more than CSV_MAX_ROWS referrals (Invalid: choose a shorter range).
    Audited as "report.csv_export", naming every referral exported."""
    date_range = resolve_range(date_from, date_to)
    organisation_id = actor.organisation_id
    referring = aliased(Organisation)
    receiving = aliased(Organisation)
    now = utcnow()
    rows = db.session.execute(
        select(
            Referral.id,
            Referral.reference,
            direction_of(organisation_id),
            Referral.status,
            Referral.risk_level,
            Referral.risk_factors,
            referring.name,
            receiving.name,
            Referral.created_at,
            Referral.submitted_at,
            Referral.triage_deadline,
            Referral.triaged_at,
            Referral.closed_at,
            Referral.outcome,
        )
        .join(referring, referring.id == Referral.referring_organisation_id)
        .join(receiving, receiving.id == Referral.receiving_organisation_id)
        .where(in_report(organisation_id, date_range))
        .order_by(report_date(organisation_id), Referral.reference)
        .limit(CSV_MAX_ROWS + 1)
    ).all()
    if len(rows) > CSV_MAX_ROWS:
        raise Invalid(
            f"More than {CSV_MAX_ROWS:,} referrals: export a shorter date range.",
            {"from": ["Choose a shorter date range."]},
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        (
            _id,
            reference,
            way,
            status,
            risk_level,
            risk_factors,
            referring_name,
            receiving_name,
            created_at,
            submitted_at,
            triage_deadline,
            triaged_at,
            closed_at,
            outcome,
        ) = row
        cells = [
            reference,
            way,
            str(status),
            str(risk_level) if risk_level else "",
            ";".join(str(factor) for factor in risk_factors or []),
            referring_name,
            receiving_name,
            _timestamp(created_at),
            _timestamp(submitted_at),
            _timestamp(triage_deadline),
            "yes" if _overdue(status, triage_deadline, now) else "no",
            _timestamp(triaged_at),
            _timestamp(closed_at),
            str(outcome) if outcome else "",
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    audit.record(
        "report.csv_export",
        actor,
        record_type="referral",
        record_ids=[row[0] for row in rows],
        fields=CSV_COLUMNS,
        reason=f"referrals in and out, {date_range}",
    )
    code = actor.organisation.code
    return CsvExport(
        filename=f"referrals-{code}-{date_range.date_from}-to-{date_range.date_to}.csv",
        text=buffer.getvalue(),
        rows=len(rows),
    )
