"""Exploitation screenings: the tool's definition, and input and output
schemas of screenings (services/screenings.py, referral_app.screening_tools)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models import RiskLevel
from referral_app.screening_tools import ANSWERS
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

LEVELS = tuple(level.value for level in RiskLevel)
REASON_LIMIT = 5000
EVIDENCE_LIMIT = 2000


# --- the tool ---------------------------------------------------------------------


class IndicatorSchema(OutputSchema):
    id = ma.fields.String()
    question = ma.fields.String()
    weight = ma.fields.Integer(metadata={"description": "What a yes adds to the score."})


class ThemeSchema(OutputSchema):
    id = ma.fields.String()
    title = ma.fields.String()
    indicators = ma.fields.List(ma.fields.Nested(IndicatorSchema))


class ToolDefinitionSchema(OutputSchema):
    version = ma.fields.Integer()
    title = ma.fields.String()
    themes = ma.fields.List(ma.fields.Nested(ThemeSchema))
    medium_from = ma.fields.Integer(
        metadata={
            "description": "The score (sum of the yes answers' weights) from which "
            "the indicated level is medium."
        }
    )
    high_from = ma.fields.Integer(
        metadata={"description": "The score from which the indicated level is high."}
    )
    young_age = ma.fields.Integer(
        metadata={
            "description": "A child younger than this is never indicated below `young_floor`."
        }
    )
    young_floor = ma.fields.Function(lambda tool: tool.young_floor.value)
    floors = ma.fields.Function(
        lambda tool: [
            {"indicator": indicator, "level": level.value}
            for indicator, level in tool.floors.items()
        ],
        metadata={
            "type": "array",
            "items": {"type": "object"},
            "description": "A yes to `indicator` makes the indicated level at least `level`.",
        },
    )


# --- input ------------------------------------------------------------------------


class AnswerSchema(InputSchema):
    answer = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(ANSWERS),
        metadata={"description": "`yes`, `no` or `not_known`."},
    )
    evidence = ma.fields.String(
        validate=ma.validate.Length(max=EVIDENCE_LIMIT),
        metadata={"description": "What was seen or said: required for a yes."},
    )


class _Judgement(InputSchema):
    @ma.post_load
    def as_level(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "judgement_level" in data:
            data["judgement_level"] = RiskLevel(data["judgement_level"])
        return data


class ScreeningCreateSchema(_Judgement):
    answers = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        values=ma.fields.Nested(AnswerSchema),
        required=True,
        metadata={
            "description": "Every indicator of the current tool "
            "(`GET /screening-tools/current`) by id: its answer and, for a yes, the evidence."
        },
    )
    judgement_level = ma.fields.String(
        validate=ma.validate.OneOf(LEVELS),
        metadata={"description": "The practitioner's own level, if given now."},
    )
    judgement_reason = ma.fields.String(
        validate=ma.validate.Length(max=REASON_LIMIT),
        metadata={"description": "Required when the judgement differs from the indicated level."},
    )


class JudgementSchema(_Judgement):
    judgement_level = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(LEVELS),
        metadata={"description": "The practitioner's level: `low`, `medium` or `high`."},
    )
    judgement_reason = ma.fields.String(
        validate=ma.validate.Length(max=REASON_LIMIT),
        metadata={"description": "Required when it differs from the indicated level."},
    )


# --- output -----------------------------------------------------------------------


class ScreeningSchema(OutputSchema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    tool_version = ma.fields.Integer(
        metadata={
            "description": "The version of the tool it was made with "
            "(`GET /screening-tools/{version}`)."
        }
    )
    answers = ma.fields.Dict(
        metadata={"description": "By indicator id: `answer` and `evidence`."},
    )
    indicated_level = ma.fields.Enum(RiskLevel, by_value=True)
    judgement_level = ma.fields.Enum(RiskLevel, by_value=True, allow_none=True)
    judgement_reason = ma.fields.String(allow_none=True)
    level = ma.fields.Enum(
        RiskLevel,
        by_value=True,
        metadata={"description": "The level that stands: the judgement, else the indicated."},
    )
    judged_by = ma.fields.Nested(PersonSchema, allow_none=True)
    judged_at = ma.fields.AwareDateTime(allow_none=True)
    completed_by = ma.fields.Nested(PersonSchema)
    completed_by_organisation = ma.fields.Nested(OrganisationSummarySchema)
    completed_at = ma.fields.AwareDateTime()
