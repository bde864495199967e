"""Reports for an agency's managers: what it received and what it sent.

"Incoming" are the referrals the agency received: it is the receiving
organisation and the referral was submitted (drafts never reached it).
"Outgoing" are the referrals it sent: it is the referring organisation,
drafts included. Referrals merely shared with the agency belong to the
agencies that sent and received them, not to this one's report.

The date range is in whole UTC days, both ends included, and selects
incoming referrals by when they were submitted, outgoing ones by when they
were submitted or, for those never submitted, created.

Counting is done by the database: each figure is a GROUP BY over both
directions at once (four queries for the summary, whatever the number of
referrals). Risk factors are a JSON list per referral, unnested in SQL with
the dialect's JSON function (`json_each` on SQLite,
`json_array_elements_text` on PostgreSQL). Percentiles are computed by
PostgreSQL (`percentile_cont`); SQLite has no percentile function, so there
the database computes each referral's duration in hours and only those
numbers, sorted, come back to Python for the same interpolation.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from referral_app.extensions import db
from referral_app.models import (
    Organisation,
    Outcome,
    Referral,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    User,
    utcnow,
)
from referral_app.services import audit
from referral_app.services.errors import Invalid

INCOMING = "incoming"
OUTGOING = "outgoing"
DIRECTIONS = (INCOMING, OUTGOING)

# Referrals without a risk level yet (drafts) are counted under this key.
RISK_NOT_SET = "not_set"

# The range a report may cover: dates this service can hold, at most five years.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
MAX_SPAN_YEARS = 5
DEFAULT_MONTHS = 12

# The CSV is built in memory (about 250 bytes a row): beyond this many rows
# the export is refused and the caller asked for a shorter range.
CSV_MAX_ROWS = 100_000


# --- the date range -----------------------------------------------------------


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _first_of_month(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days from `date_from` to `date_to`, both included."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime(self.date_from.year, self.date_from.month, self.date_from.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the range."""
        after = self.date_to + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=UTC)

    def months(self) -> list[str]:
        """Every calendar month the range touches, as "YYYY-MM"."""
        months = []
        month = _first_of_month(self.date_from)
        while month <= self.date_to:
            months.append(f"{month.year:04d}-{month.month:02d}")
            month = _first_of_month(month, months_back=-1)
        return months

    def __str__(self) -> str:
        return f"{self.date_from.isoformat()} to {self.date_to.isoformat()}"


def range_problems(date_from: date, date_to: date) -> dict[str, list[str]]:
    """What is wrong with a range, by query parameter ({} when it is fine)."""
    problems: dict[str, list[str]] = {}
    for name, day in (("from", date_from), ("to", date_to)):
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            problems[name] = [f"Choose a date from {EARLIEST_DATE} to {LATEST_DATE}."]
    if problems:
        return problems
    if date_to < date_from:
        problems["to"] = ["The end of the range must not be before its start."]
    elif date_to >= _add_years(date_from, MAX_SPAN_YEARS):
        problems["to"] = [f"A report covers at most {MAX_SPAN_YEARS} years."]
    return problems


def resolve_range(
    date_from: date | None = None, date_to: date | None = None, *, today: date | None = None
) -> DateRange:
    """The range asked for, with the defaults filled in: up to today, and from
    the first day of the month eleven months earlier (the last twelve calendar
    months, this one included). Refuses a range that ends before it starts,
    spans more than five years or leaves 2000-2099 (Invalid)."""
    # The dates given are checked before any default is worked out from them
    # (eleven months before 0001-01-05 is no date at all).
    given = {"from": date_from, "to": date_to}
    problems = {
        name: [f"Choose a date from {EARLIEST_DATE} to {LATEST_DATE}."]
        for name, day in given.items()
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE
    }
    if problems:
        raise Invalid("Choose another date range.", problems)
    today = today or utcnow().date()
    date_to = date_to or min(today, LATEST_DATE)
    date_from = date_from or max(
        EARLIEST_DATE, _first_of_month(date_to, months_back=DEFAULT_MONTHS - 1)
    )
    problems = range_problems(date_from, date_to)
    if problems:
        raise Invalid("Choose another date range.", problems)
    return DateRange(date_from, date_to)


# --- what a report holds -------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Hours from submission to an event, over the referrals that reached it."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class MonthCount:
    month: str  # "YYYY-MM"
    count: int

    @property
    def label(self) -> str:
        return datetime.strptime(self.month, "%Y-%m").strftime("%b %Y")


@dataclass(frozen=True)
class DirectionSummary:
    total: int
    by_status: dict[str, int]
    by_risk_level: dict[str, int]
    by_risk_factor: dict[str, int]
    by_outcome: dict[str, int]
    overdue: int
    time_to_triage: Durations
    time_to_close: Durations
    monthly: list[MonthCount]


@dataclass(frozen=True)
class Summary:
    organisation: Organisation
    date_range: DateRange
    generated_at: datetime
    incoming: DirectionSummary
    outgoing: DirectionSummary

    @property
    def date_from(self) -> date:
        return self.date_range.date_from

    @property
    def date_to(self) -> date:
        return self.date_range.date_to


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


STATUS_KEYS = tuple(str(status) for status in ReferralStatus)
RISK_LEVEL_KEYS = (*(str(level) for level in RiskLevel), RISK_NOT_SET)
RISK_FACTOR_KEYS = tuple(str(factor) for factor in RiskFactor)
OUTCOME_KEYS = tuple(str(outcome) for outcome in Outcome)


# --- the queries ------------------------------------------------------------------


def _direction(organisation_id: uuid.UUID) -> ColumnElement[str]:
    """Which way a referral of the report went. A referral never goes from an
    agency to itself, so each falls in exactly one direction."""
    return case(
        (Referral.receiving_organisation_id == organisation_id, literal(INCOMING)),
        else_=literal(OUTGOING),
    )


def _report_date(organisation_id: uuid.UUID) -> ColumnElement[datetime]:
    """When a referral counts as made, for the range and the monthly trend."""
    return case(
        (Referral.receiving_organisation_id == organisation_id, Referral.submitted_at),
        else_=func.coalesce(Referral.submitted_at, Referral.created_at),
    )


def _in_report(organisation_id: uuid.UUID, date_range: DateRange) -> ColumnElement[bool]:
    """The referrals of the report: received (once submitted) or sent by the
    organisation, made within the range. A subset of what it holds
    (services.scoping.holds)."""
    received = and_(
        Referral.receiving_organisation_id == organisation_id,
        Referral.status != ReferralStatus.DRAFT,
        Referral.submitted_at >= date_range.start,
        Referral.submitted_at < date_range.end,
    )
    made = func.coalesce(Referral.submitted_at, Referral.created_at)
    sent = and_(
        Referral.referring_organisation_id == organisation_id,
        made >= date_range.start,
        made < date_range.end,
    )
    return or_(received, sent)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@dataclass
class _Tally:
    total: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: _zeros(STATUS_KEYS))
    by_risk_level: dict[str, int] = field(default_factory=lambda: _zeros(RISK_LEVEL_KEYS))
    by_outcome: dict[str, int] = field(default_factory=lambda: _zeros(OUTCOME_KEYS))


def _counts(
    organisation_id: uuid.UUID, where: ColumnElement[bool], now: datetime
) -> dict[str, _Tally]:
    """Totals by status, risk level and outcome, and the overdue count: one
    GROUP BY (direction, status, risk level, outcome), at most a few hundred
    rows whatever the number of referrals, summed up per figure."""
    direction = _direction(organisation_id)
    is_overdue = and_(Referral.status == ReferralStatus.SUBMITTED, Referral.triage_deadline < now)
    rows = db.session.execute(
        select(
            direction,
            Referral.status,
            Referral.risk_level,
            Referral.outcome,
            func.count(Referral.id),
            func.sum(case((is_overdue, 1), else_=0)),
        )
        .where(where)
        .group_by(direction, Referral.status, Referral.risk_level, Referral.outcome)
    )
    tallies = {way: _Tally() for way in DIRECTIONS}
    for way, status, risk_level, outcome, count, overdue in rows:
        tally = tallies[way]
        tally.total += count
        tally.overdue += int(overdue or 0)
        tally.by_status[str(status)] += count
        tally.by_risk_level[str(risk_level) if risk_level else RISK_NOT_SET] += count
        # A reopened referral keeps its earlier outcome until it is closed
        # again: only closed referrals count towards the outcomes.
        if status is ReferralStatus.CLOSED and outcome is not None:
            tally.by_outcome[str(outcome)] += count
    return tallies


def _risk_factor_counts(
    organisation_id: uuid.UUID, where: ColumnElement[bool]
) -> dict[str, dict[str, int]]:
    """Referrals per risk factor: the JSON list unnested by the database."""
    if _dialect() == "postgresql":
        # A stored JSON null (never written by the services) unnests as nothing.
        factors_json = case(
            (func.json_typeof(Referral.risk_factors) == "array", Referral.risk_factors),
            else_=cast(literal("[]"), Referral.risk_factors.type),
        )
        elements = func.json_array_elements_text(factors_json)
    else:
        elements = func.json_each(Referral.risk_factors)
    factor = elements.table_valued("value", joins_implicitly=True)
    direction = _direction(organisation_id)
    rows = db.session.execute(
        select(direction, factor.c.value, func.count(func.distinct(Referral.id)))
        .select_from(Referral)
        .join(factor, true())
        .where(where)
        .group_by(direction, factor.c.value)
    ).all()
    counts = {name: _zeros(RISK_FACTOR_KEYS) for name in DIRECTIONS}
    for way, value, count in rows:
        if value in counts[way]:  # outside the vocabulary: not a risk factor
            counts[way][value] += count
    return counts


def _monthly(
    organisation_id: uuid.UUID, where: ColumnElement[bool], date_range: DateRange
) -> dict[str, list[MonthCount]]:
    """Referrals per calendar month (UTC), every month of the range listed."""
    made = _report_date(organisation_id)
    if _dialect() == "postgresql":
        month = func.to_char(func.timezone("UTC", made), "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", made)  # stored as naive UTC text
    direction = _direction(organisation_id)
    rows = db.session.execute(
        select(direction, month, func.count(Referral.id)).where(where).group_by(direction, month)
    ).all()
    found = {(way, when): count for way, when, count in rows}
    return {
        way: [MonthCount(month, found.get((way, month), 0)) for month in date_range.months()]
        for way in DIRECTIONS
    }


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks: PostgreSQL's
    percentile_cont, for databases without it."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    low_value, high_value = sorted_values[lower], sorted_values[upper]
    return low_value + (high_value - low_value) * (position - lower)


def _hours(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _durations(
    organisation_id: uuid.UUID, where: ColumnElement[bool]
) -> dict[str, dict[str, Durations]]:
    """Median and 90th percentile of the hours from submission to triage
    (accept or decline) and to closing, per direction."""
    triaged = and_(Referral.submitted_at.is_not(None), Referral.triaged_at.is_not(None))
    closed = and_(
        Referral.submitted_at.is_not(None),
        Referral.closed_at.is_not(None),
        Referral.status == ReferralStatus.CLOSED,
    )
    postgres = _dialect() == "postgresql"

    def hours(later: Any, reached: ColumnElement[bool]) -> ColumnElement[float]:
        """Hours from submission to `later`; NULL for referrals not there yet."""
        if postgres:
            elapsed = cast(extract("epoch", later - Referral.submitted_at), Float) / 3600.0
        else:
            elapsed = (func.julianday(later) - func.julianday(Referral.submitted_at)) * 24.0
        return case((reached, elapsed), else_=None)

    measures = {
        "triage": hours(Referral.triaged_at, triaged),
        "close": hours(Referral.closed_at, closed),
    }
    direction = _direction(organisation_id)
    result = {way: dict.fromkeys(measures, Durations(0, None, None)) for way in DIRECTIONS}
    if postgres:
        columns = []
        for measure in measures.values():
            columns += [
                func.count(measure),
                func.percentile_cont(0.5).within_group(measure),
                func.percentile_cont(0.9).within_group(measure),
            ]
        rows = db.session.execute(select(direction, *columns).where(where).group_by(direction))
        for way, *values in rows:
            for index, name in enumerate(measures):
                count, median, p90 = values[3 * index : 3 * index + 3]
                result[way][name] = Durations(int(count), _hours(median), _hours(p90))
        return result
    collected: dict[tuple[str, str], list[float]] = {}
    rows = db.session.execute(
        select(direction, *measures.values()).where(where, or_(triaged, closed))
    )
    for way, *values in rows:
        for name, value in zip(measures, values, strict=True):
            if value is not None:
                collected.setdefault((way, name), []).append(float(value))
    for (way, name), values in collected.items():
        values.sort()
        result[way][name] = Durations(
            len(values), _hours(percentile(values, 0.5)), _hours(percentile(values, 0.9))
        )
    return result


def summary(actor: User, date_from: date | None = None, date_to: date | None = None) -> Summary:
    """The actor's organisation's referrals in and out over the range (by
    default the last twelve calendar months): counts by status, risk level,
    risk factor and outcome, how many are overdue for triage now, the median
    and 90th percentile hours to triage and to close, and the count per month.

    Needs REPORTS_READ (checked by the route); refuses an invalid range
    (Invalid). Audited as "report.summary": the range only, no personal data."""
    date_range = resolve_range(date_from, date_to)
    organisation_id = actor.organisation_id
    now = utcnow()
    where = _in_report(organisation_id, date_range)
    counts = _counts(organisation_id, where, now)
    factors = _risk_factor_counts(organisation_id, where)
    monthly = _monthly(organisation_id, where, date_range)
    durations = _durations(organisation_id, where)
    directions = {
        way: DirectionSummary(
            total=counts[way].total,
            by_status=counts[way].by_status,
            by_risk_level=counts[way].by_risk_level,
            by_risk_factor=factors[way],
            by_outcome=counts[way].by_outcome,
            overdue=counts[way].overdue,
            time_to_triage=durations[way]["triage"],
            time_to_close=durations[way]["close"],
            monthly=monthly[way],
        )
        for way in DIRECTIONS
    }
    audit.record(
        "report.summary",
        actor,
        record_type="report",
        reason=f"referrals in and out, {date_range}",
    )
    return Summary(
        organisation=actor.organisation,
        date_range=date_range,
        generated_at=now,
        incoming=directions[INCOMING],
        outgoing=directions[OUTGOING],
    )


# --- the CSV export -------------------------------------------------------------------

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
            _direction(organisation_id),
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
        .where(_in_report(organisation_id, date_range))
        .order_by(_report_date(organisation_id), Referral.reference)
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
