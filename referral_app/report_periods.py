"""The period a report covers, and the vocabularies it counts by: plain
values, used by the reports service and by the schemas that document and
load a report's query (which must not import services)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from referral_app.models import Outcome, ReferralStatus, RiskFactor, RiskLevel, utcnow

# Referrals without a risk level yet (drafts) are counted under this key.
RISK_NOT_SET = "not_set"

STATUS_KEYS = tuple(str(status) for status in ReferralStatus)
RISK_LEVEL_KEYS = (*(str(level) for level in RiskLevel), RISK_NOT_SET)
RISK_FACTOR_KEYS = tuple(str(factor) for factor in RiskFactor)
OUTCOME_KEYS = tuple(str(outcome) for outcome in Outcome)


class RangeRefused(ValueError):
    """A period no report covers; `problems` by query parameter."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("Choose another date range.")
        self.problems = problems


# The range a report may cover: dates this service can hold, at most five years.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
MAX_SPAN_YEARS = 5
DEFAULT_MONTHS = 12


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
    spans more than five years or leaves 2000-2099 (RangeRefused)."""
    # The dates given are checked before any default is worked out from them
    # (eleven months before 0001-01-05 is no date at all).
    given = {"from": date_from, "to": date_to}
    problems = {
        name: [f"Choose a date from {EARLIEST_DATE} to {LATEST_DATE}."]
        for name, day in given.items()
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE
    }
    if problems:
        raise RangeRefused(problems)
    today = today or utcnow().date()
    date_to = date_to or min(today, LATEST_DATE)
    date_from = date_from or max(
        EARLIEST_DATE, _first_of_month(date_to, months_back=DEFAULT_MONTHS - 1)
    )
    problems = range_problems(date_from, date_to)
    if problems:
        raise RangeRefused(problems)
    return DateRange(date_from, date_to)


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
