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

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
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

from referral_app import report_periods
from referral_app.extensions import db
from referral_app.models import (
    Organisation,
    Referral,
    ReferralStatus,
    User,
    utcnow,
)
from referral_app.report_periods import (
    OUTCOME_KEYS,
    RISK_FACTOR_KEYS,
    RISK_LEVEL_KEYS,
    RISK_NOT_SET,
    STATUS_KEYS,
    DateRange,
    percentile,
)
from referral_app.services import audit, directory
from referral_app.services.directory import ServiceCount
from referral_app.services.errors import Invalid
from referral_app.services.report_follow_up import FollowUp, follow_up
from referral_app.services.screenings import ThemeCount, theme_counts

INCOMING = "incoming"
OUTGOING = "outgoing"
DIRECTIONS = (INCOMING, OUTGOING)


def resolve_range(date_from: date | None = None, date_to: date | None = None) -> DateRange:
    """report_periods.resolve_range, refusing as a service does (Invalid)."""
    try:
        return report_periods.resolve_range(date_from, date_to)
    except report_periods.RangeRefused as refused:
        raise Invalid(str(refused), refused.problems) from None


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
    follow_up: FollowUp
    screening_themes: list[ThemeCount]
    # Referrals per directory service they name (services.directory).
    named_services: list[ServiceCount] = field(default_factory=list)

    @property
    def date_from(self) -> date:
        return self.date_range.date_from

    @property
    def date_to(self) -> date:
        return self.date_range.date_to


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


# --- the queries ------------------------------------------------------------------


def direction_of(organisation_id: uuid.UUID) -> ColumnElement[str]:
    """Which way a referral of the report went. A referral never goes from an
    agency to itself, so each falls in exactly one direction."""
    return case(
        (Referral.receiving_organisation_id == organisation_id, literal(INCOMING)),
        else_=literal(OUTGOING),
    )


def report_date(organisation_id: uuid.UUID) -> ColumnElement[datetime]:
    """When a referral counts as made, for the range and the monthly trend."""
    return case(
        (Referral.receiving_organisation_id == organisation_id, Referral.submitted_at),
        else_=func.coalesce(Referral.submitted_at, Referral.created_at),
    )


def in_report(organisation_id: uuid.UUID, date_range: DateRange) -> ColumnElement[bool]:
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
    direction = direction_of(organisation_id)
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
    direction = direction_of(organisation_id)
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
    made = report_date(organisation_id)
    if _dialect() == "postgresql":
        month = func.to_char(func.timezone("UTC", made), "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", made)  # stored as naive UTC text
    direction = direction_of(organisation_id)
    rows = db.session.execute(
        select(direction, month, func.count(Referral.id)).where(where).group_by(direction, month)
    ).all()
    found = {(way, when): count for way, when, count in rows}
    return {
        way: [MonthCount(month, found.get((way, month), 0)) for month in date_range.months()]
        for way in DIRECTIONS
    }


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
    direction = direction_of(organisation_id)
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
    and 90th percentile hours to triage and to close, the count per month,
    the follow-up: actions, meetings and the time to a first meeting
    (services.report_follow_up), and the exploitation screenings' "yes"
    answers by theme over the latest screening of each of the report's
    referrals (services.screenings.theme_counts).

    Needs REPORTS_READ (checked by the route); refuses an invalid range
    (Invalid). Audited as "report.summary": the range only, no personal data."""
    date_range = resolve_range(date_from, date_to)
    organisation_id = actor.organisation_id
    now = utcnow()
    where = in_report(organisation_id, date_range)
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
        follow_up=follow_up(actor, date_range, where),
        screening_themes=theme_counts(where),
        named_services=directory.referral_counts(where, direction_of(organisation_id), INCOMING),
    )
