"""Reports: the date range asked for, and the summary given."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app import report_periods as periods
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema

_RANGE = f"{periods.EARLIEST_DATE} to {periods.LATEST_DATE}"
# Checked on each date before the range is worked out: a default `from` eleven
# months before a `to` in year 1 is no date at all (a 500, not a 422).
_IN_RANGE = ma.validate.Range(
    min=periods.EARLIEST_DATE, max=periods.LATEST_DATE, error=f"Choose a date from {_RANGE}."
)


class ReportQuerySchema(InputSchema):
    """Loads to a `periods.DateRange`, the defaults filled in."""

    date_from = ma.fields.Date(
        data_key="from",
        validate=_IN_RANGE,
        metadata={
            "description": "First day (UTC) of the range, YYYY-MM-DD. Default: the first "
            "day of the month eleven months before `to`, so twelve calendar months. "
            f"Dates from {_RANGE}."
        },
    )
    date_to = ma.fields.Date(
        data_key="to",
        validate=_IN_RANGE,
        metadata={
            "description": "Last day (UTC) of the range, included; not before `from`, and "
            f"at most {periods.MAX_SPAN_YEARS} years after it. Default: today."
        },
    )

    @ma.validates_schema
    def valid_range(self, data: dict[str, Any], **_: Any) -> None:
        try:
            periods.resolve_range(data.get("date_from"), data.get("date_to"))
        except periods.RangeRefused as refused:
            raise ma.ValidationError(refused.problems) from None

    @ma.post_load
    def to_range(self, data: dict[str, Any], **_: Any) -> periods.DateRange:
        return periods.resolve_range(data.get("date_from"), data.get("date_to"))


class DurationsSchema(OutputSchema):
    count = ma.fields.Integer(metadata={"description": "Referrals that got there."})
    median_hours = ma.fields.Float(allow_none=True, metadata={"description": "null when none."})
    p90_hours = ma.fields.Float(
        allow_none=True, metadata={"description": "90th percentile; null when none."}
    )


class MonthCountSchema(OutputSchema):
    month = ma.fields.String(metadata={"description": "YYYY-MM (UTC)."})
    count = ma.fields.Integer()


def _counts(name: str, keys: tuple[str, ...]) -> type[ma.Schema]:
    """An object with one integer per value of a vocabulary, every one present."""
    return OutputSchema.from_dict(
        {key: ma.fields.Integer(required=True) for key in keys}, name=name
    )


StatusCountsSchema = _counts("StatusCounts", periods.STATUS_KEYS)
RiskLevelCountsSchema = _counts("RiskLevelCounts", periods.RISK_LEVEL_KEYS)
RiskFactorCountsSchema = _counts("RiskFactorCounts", periods.RISK_FACTOR_KEYS)
OutcomeCountsSchema = _counts("OutcomeCounts", periods.OUTCOME_KEYS)


class DirectionSummarySchema(OutputSchema):
    total = ma.fields.Integer()
    by_status = ma.fields.Nested(StatusCountsSchema)
    by_risk_level = ma.fields.Nested(
        RiskLevelCountsSchema,
        metadata={"description": f"`{periods.RISK_NOT_SET}`: drafts without a risk level yet."},
    )
    by_risk_factor = ma.fields.Nested(
        RiskFactorCountsSchema,
        metadata={"description": "Referrals with each factor (a referral has several)."},
    )
    by_outcome = ma.fields.Nested(
        OutcomeCountsSchema, metadata={"description": "Closed referrals, by outcome."}
    )
    overdue = ma.fields.Integer(
        metadata={
            "description": "Of these referrals, those submitted and past their triage deadline now."
        }
    )
    time_to_triage = ma.fields.Nested(
        DurationsSchema, metadata={"description": "Hours from submission to accept or decline."}
    )
    time_to_close = ma.fields.Nested(
        DurationsSchema, metadata={"description": "Hours from submission to closing."}
    )
    monthly = ma.fields.List(
        ma.fields.Nested(MonthCountSchema),
        metadata={"description": "Every calendar month of the range, in order."},
    )


class ActionCountSchema(OutputSchema):
    organisation = ma.fields.Nested(OrganisationSummarySchema)
    open = ma.fields.Integer(metadata={"description": "Open actions the agency owns."})
    overdue = ma.fields.Integer(metadata={"description": "Of those, past their due date."})


class FirstMeetingSchema(OutputSchema):
    count = ma.fields.Integer(metadata={"description": "Referrals that had a meeting."})
    median_days = ma.fields.Float(allow_none=True, metadata={"description": "null when none."})
    p90_days = ma.fields.Float(
        allow_none=True, metadata={"description": "90th percentile; null when none."}
    )


class FollowUpSchema(OutputSchema):
    actions_by_agency = ma.fields.List(
        ma.fields.Nested(ActionCountSchema),
        metadata={
            "description": "Open and overdue actions now, by owning agency, on the referrals "
            "the agency holds; the most overdue first."
        },
    )
    meetings_held = ma.fields.Integer(
        metadata={
            "description": "Multi-agency meetings the agency took part in, held in the range."
        }
    )
    children_reviewed = ma.fields.Integer(
        metadata={
            "description": "Children the agency holds a referral about, on those meetings' agendas."
        }
    )
    time_to_first_meeting = ma.fields.Nested(
        FirstMeetingSchema,
        metadata={
            "description": "Days from submission to the first meeting with the referral on its "
            "agenda, over the report's referrals."
        },
    )


class ScreeningThemeSchema(OutputSchema):
    theme_id = ma.fields.String(metadata={"description": "The theme's id in the screening tool."})
    title = ma.fields.String()
    screenings = ma.fields.Integer(
        metadata={"description": "Latest screenings with at least one yes in the theme."}
    )
    indicators = ma.fields.Integer(metadata={"description": "Yes answers in the theme."})


class NamedServiceCountSchema(OutputSchema):
    service_id = ma.fields.UUID()
    name = ma.fields.String()
    provider_name = ma.fields.String(allow_none=True)
    incoming = ma.fields.Integer(metadata={"description": "Referrals received naming it."})
    outgoing = ma.fields.Integer(metadata={"description": "Referrals sent naming it."})


class ReportSummarySchema(OutputSchema):
    organisation = ma.fields.Nested(OrganisationSummarySchema)
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    generated_at = ma.fields.AwareDateTime()
    incoming = ma.fields.Nested(
        DirectionSummarySchema,
        metadata={"description": "Referrals the agency received, by when they were submitted."},
    )
    outgoing = ma.fields.Nested(
        DirectionSummarySchema,
        metadata={
            "description": "Referrals the agency sent (drafts included), by when they were "
            "submitted or, never submitted, created."
        },
    )
    follow_up = ma.fields.Nested(
        FollowUpSchema, metadata={"description": "Actions, meetings and time to a first meeting."}
    )
    screening_themes = ma.fields.List(
        ma.fields.Nested(ScreeningThemeSchema),
        metadata={
            "description": "Exploitation screening indicators answered yes, by theme of the "
            "current tool, over the latest screening of each of the report's referrals."
        },
    )
    named_services = ma.fields.List(
        ma.fields.Nested(NamedServiceCountSchema),
        metadata={
            "description": "The report's referrals per directory service they name (services "
            "named at least once, the most named first)."
        },
    )
