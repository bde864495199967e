"""Children as records: matching, merging, rectification and subject access."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models import ActionStatus, AgendaDecision, RiskLevel
from schemas.audit import AccessLogEntrySchema
from schemas.common import InputSchema, OutputSchema
from schemas.consent import ConsentChangeSchema
from schemas.document import ExportedDocumentSchema
from schemas.referral import (
    POSTCODE,
    ChildInputSchema,
    ChildSchema,
    NoteSchema,
    OrganisationSummarySchema,
    PersonSchema,
    ReferralSchema,
    ShareSchema,
    StatusChangeSchema,
    _date_of_birth,
    _text,
)
from schemas.screening import ScreeningSchema

# --- input ----------------------------------------------------------------


class ChildMatchQuerySchema(ChildInputSchema):
    """The details to look for: validated and normalised as when a child is
    recorded (the postcode as "SS1 2AA")."""

    class Meta(InputSchema.Meta):
        exclude = ("gender", "address", "school", "aliases")


class ChildRectifySchema(ChildInputSchema):
    """Corrections to a child's details: the validation of ChildInputSchema,
    every field optional, at least one. The optional details may be cleared
    with null (a wrong postcode removed rather than replaced)."""

    first_name = _text(100)
    last_name = _text(100)
    date_of_birth = ma.fields.Date(validate=_date_of_birth)
    gender = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=40))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=500))
    postcode = ma.fields.String(
        allow_none=True, validate=ma.validate.Regexp(POSTCODE, error="Not a UK postcode.")
    )
    school = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=200))

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one field to correct.", "_schema")


class ChildMergeCreateSchema(InputSchema):
    duplicate_id = ma.fields.UUID(
        required=True,
        metadata={"description": "The other record of the same child, merged into this one."},
    )


# --- output ---------------------------------------------------------------


class ChildMatchSchema(OutputSchema):
    child = ma.fields.Nested(ChildSchema)
    score = ma.fields.Integer(metadata={"description": "0-100: how likely the same child."})
    reasons = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": "What matched, e.g. first_name_nickname, names_transposed, "
            "date_of_birth_day_month_swapped, postcode_same."
        },
    )


class ChildMatchesSchema(OutputSchema):
    matches = ma.fields.List(
        ma.fields.Nested(ChildMatchSchema),
        metadata={"description": "Likely matches your agency can see, best first."},
    )
    held_elsewhere = ma.fields.Integer(
        metadata={"description": "How many likely matches other agencies hold: a count only."}
    )


class ChildMergeSchema(OutputSchema):
    id = ma.fields.UUID()
    survivor_id = ma.fields.UUID()
    merged_id = ma.fields.UUID()
    moved_referral_ids = ma.fields.List(ma.fields.UUID())
    merged_by_id = ma.fields.UUID()
    merged_at = ma.fields.AwareDateTime()
    undone_by_id = ma.fields.UUID(allow_none=True)
    undone_at = ma.fields.AwareDateTime(allow_none=True)


class ExportedActionSchema(OutputSchema):
    id = ma.fields.UUID()
    meeting_id = ma.fields.UUID(allow_none=True)
    description = ma.fields.String()
    owning_organisation = ma.fields.Nested(OrganisationSummarySchema)
    owner = ma.fields.Nested(PersonSchema, allow_none=True)
    due_on = ma.fields.Date()
    status = ma.fields.Enum(ActionStatus, by_value=True)
    closing_note = ma.fields.String(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class MeetingSummarySchema(OutputSchema):
    id = ma.fields.UUID()
    title = ma.fields.String()
    held_at = ma.fields.AwareDateTime()


class ExportedDecisionSchema(OutputSchema):
    meeting = ma.fields.Nested(MeetingSummarySchema)
    decision = ma.fields.Enum(AgendaDecision, by_value=True, allow_none=True)
    risk_level_before = ma.fields.Enum(RiskLevel, by_value=True, allow_none=True)
    risk_level = ma.fields.Enum(RiskLevel, by_value=True, allow_none=True)
    discussion = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.AwareDateTime(allow_none=True)


class ExportedReferralSchema(OutputSchema):
    referral = ma.fields.Nested(ReferralSchema)
    history = ma.fields.List(ma.fields.Nested(StatusChangeSchema))
    notes = ma.fields.List(
        ma.fields.Nested(NoteSchema),
        metadata={"description": "Shared notes, and your agency's own internal ones."},
    )
    shares = ma.fields.List(ma.fields.Nested(ShareSchema))
    actions = ma.fields.List(ma.fields.Nested(ExportedActionSchema))
    meeting_decisions = ma.fields.List(
        ma.fields.Nested(ExportedDecisionSchema),
        metadata={"description": "What multi-agency meetings decided about the referral."},
    )
    screenings = ma.fields.List(
        ma.fields.Nested(ScreeningSchema),
        metadata={"description": "Its exploitation screenings, the latest first."},
    )
    documents = ma.fields.List(
        ma.fields.Nested(ExportedDocumentSchema),
        metadata={
            "description": "Its documents your agency may see (shared ones and your own "
            "internal ones), oldest first, with their content in base64."
        },
    )
    consent = ma.fields.List(
        ma.fields.Nested(ConsentChangeSchema),
        metadata={"description": "Its consent history, oldest first."},
    )


class ExportAccessEntrySchema(AccessLogEntrySchema):
    """AccessLogEntrySchema without the seq, with the record it was about."""

    class Meta:
        exclude = ("seq",)

    record_type = ma.fields.String()
    record_id = ma.fields.String()


class ChildExportSchema(OutputSchema):
    exported_at = ma.fields.AwareDateTime()
    organisation = ma.fields.Nested(
        OrganisationSummarySchema, metadata={"description": "The agency whose holdings these are."}
    )
    child = ma.fields.Nested(ChildSchema)
    referrals = ma.fields.List(ma.fields.Nested(ExportedReferralSchema))
    merges = ma.fields.List(
        ma.fields.Nested(ChildMergeSchema),
        metadata={"description": "Other records of this child merged into this one."},
    )
    access = ma.fields.List(
        ma.fields.Nested(ExportAccessEntrySchema),
        metadata={
            "description": "Who read or changed these referrals, and your agency's reads "
            "and changes of the child's record, oldest first."
        },
    )
    access_truncated = ma.fields.Boolean(
        metadata={"description": "True when only the newest entries are listed."}
    )
