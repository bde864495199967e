"""Consent history and the decision about a share when consent is withdrawn:
input and output schemas (services/consent.py, consent_decisions.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models import ConsentDecision, ConsentStatus, LawfulBasis
from referral_app.models.consent import ConsentGiver, ConsentMethod
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

NOTE_LIMIT = 2000
REASON_LIMIT = 2000
# How a person may say they were told (a status typed on the referral is
# recorded by the service itself).
TOLD_BY = [method for method in ConsentMethod if method is not ConsentMethod.ON_THE_REFERRAL]


def _enum(enum_class: Any, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(enum_class, by_value=True, **kwargs)


class ConsentChangeCreateSchema(InputSchema):
    status = _enum(ConsentStatus, required=True)
    given_by = _enum(
        ConsentGiver,
        metadata={
            "description": "Who gave, refused or withdrew consent: required for a refusal or "
            "a withdrawal; for consent obtained, it follows from the status."
        },
    )
    method = _enum(
        ConsentMethod,
        required=True,
        validate=ma.validate.OneOf(TOLD_BY, error="Select how they told you."),
        metadata={"description": "How the family said it."},
    )
    occurred_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the family said it (not in the future)."}
    )
    note = ma.fields.String(
        validate=ma.validate.Length(min=1, max=NOTE_LIMIT),
        metadata={"description": "Required when consent was not sought: why."},
    )


class ConsentChangeSchema(OutputSchema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    status = _enum(ConsentStatus)
    given_by = _enum(ConsentGiver, allow_none=True)
    method = _enum(ConsentMethod)
    note = ma.fields.String(allow_none=True)
    occurred_at = ma.fields.AwareDateTime(metadata={"description": "When the family said it."})
    recorded_at = ma.fields.AwareDateTime()
    recorded_by = ma.fields.Nested(PersonSchema)
    recorded_by_organisation = ma.fields.Nested(OrganisationSummarySchema)


class ConsentHistorySchema(OutputSchema):
    current_status = _enum(ConsentStatus, allow_none=True)
    changes = ma.fields.List(ma.fields.Nested(ConsentChangeSchema))


class RecordedChangeSchema(ConsentChangeSchema):
    shares_flagged = ma.fields.Integer(
        metadata={
            "description": "Live shares now waiting for their granting agency's decision "
            "(a withdrawal only)."
        }
    )


class ConsentDecisionSchema(InputSchema):
    decision = _enum(ConsentDecision, required=True)
    lawful_basis = _enum(
        LawfulBasis,
        metadata={
            "description": "Required to continue: the basis for sharing without consent "
            "(not `consent`)."
        },
    )
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=REASON_LIMIT))

    @ma.validates_schema
    def basis_to_continue(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("decision") is ConsentDecision.CONTINUE:
            if "lawful_basis" not in data:
                raise ma.ValidationError(
                    "Select the lawful basis for sharing without consent.", "lawful_basis"
                )
            if data["lawful_basis"] is LawfulBasis.CONSENT:
                raise ma.ValidationError(
                    "Consent was withdrawn: select another lawful basis.", "lawful_basis"
                )
