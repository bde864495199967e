"""A child's chronology: the filters asked for, and the events given."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.chronology_kinds import (
    EARLIEST_DATE,
    KIND_WORDS,
    LATEST_DATE,
    OUT_OF_RANGE,
    ChronologyKind,
    range_problems,
)
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema

_KINDS = "; ".join(f"`{kind}`: {KIND_WORDS[kind].lower()}" for kind in ChronologyKind)
_IN_RANGE = ma.validate.Range(min=EARLIEST_DATE, max=LATEST_DATE, error=OUT_OF_RANGE)


class ChronologyQuerySchema(InputSchema):
    """The filters, all optional: every event when none is given."""

    date_from = ma.fields.Date(
        data_key="from",
        validate=_IN_RANGE,
        metadata={
            "description": "The first day (UK calendar day), YYYY-MM-DD: events on or after it. "
            f"From {EARLIEST_DATE} to {LATEST_DATE}."
        },
    )
    date_to = ma.fields.Date(
        data_key="to",
        validate=_IN_RANGE,
        metadata={
            "description": "The last day (UK calendar day, included), YYYY-MM-DD; not before "
            "`from`."
        },
    )
    kinds = ma.fields.List(
        ma.fields.Enum(ChronologyKind, by_value=True),
        data_key="kind",
        validate=ma.validate.Length(max=len(ChronologyKind)),
        metadata={"description": f"Only events of these kinds (repeat for several): {_KINDS}."},
    )

    @ma.validates_schema
    def valid_range(self, data: dict[str, Any], **_: Any) -> None:
        problems = range_problems(data.get("date_from"), data.get("date_to"))
        if problems:
            raise ma.ValidationError(problems)


class ChronologyChildSchema(OutputSchema):
    id = ma.fields.UUID()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    date_of_birth = ma.fields.Date()


class ReferralReferenceSchema(OutputSchema):
    id = ma.fields.UUID()
    reference = ma.fields.String()


class ChronologyEntrySchema(OutputSchema):
    when = ma.fields.AwareDateTime(
        metadata={"description": "When it happened (UTC); for a note, its date of contact."}
    )
    kind = ma.fields.Enum(ChronologyKind, by_value=True)
    summary = ma.fields.String(
        metadata={
            "description": 'What happened, in words: "Referral R-2026-000123 made by Essex '
            'Police to Southend Youth Justice Service", "Home visit", "MACE meeting: continue '
            'on review, risk changed from medium to high".'
        }
    )
    detail = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The text written about it: the referral's reason, the note, the "
            "meeting's discussion, the outcome's summary, an action's closing note, the "
            "reason for a screening judgement that differs from the tool. null when there is "
            "none or it was removed (`removed`)."
        },
    )
    agency = ma.fields.Nested(
        OrganisationSummarySchema, metadata={"description": "The agency that recorded it."}
    )
    referral = ma.fields.Nested(ReferralReferenceSchema)
    recorded_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "When it was written down (UTC)."}
    )
    significant = ma.fields.Boolean(
        metadata={"description": "A note a practitioner marked as significant."}
    )
    removed = ma.fields.Boolean(
        metadata={"description": "Its text was removed under the retention policy."}
    )


class ChronologySchema(OutputSchema):
    child = ma.fields.Nested(ChronologyChildSchema)
    date_from = ma.fields.Date(data_key="from", allow_none=True)
    date_to = ma.fields.Date(data_key="to", allow_none=True)
    kinds = ma.fields.Function(
        lambda found: sorted(str(kind) for kind in found.kinds),
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": [str(kind) for kind in ChronologyKind]},
            "description": "The kinds of event shown (every kind when none was asked for).",
        },
    )
    generated_at = ma.fields.AwareDateTime()
    referrals = ma.fields.List(
        ma.fields.Nested(ReferralReferenceSchema),
        metadata={"description": "The referrals your agency holds that the events come from."},
    )
    entries = ma.fields.List(
        ma.fields.Nested(ChronologyEntrySchema),
        metadata={"description": "Oldest first; events at the same moment in a stable order."},
    )
