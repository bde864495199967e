"""Information sharing agreements: input and output schemas
(services/agreements.py), and the report of shares per agreement
(services/agreement_reports.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models import LawfulBasis
from referral_app.models.agreement import DataCategory
from schemas.common import InputSchema, OutputSchema
from schemas.document import UploadedFile
from schemas.referral import OrganisationSummarySchema, PersonSchema


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=max_length), **kwargs)


# A partnership's agreement names its agencies; more than this is not one.
MAX_PARTIES = 100


def _agreement_fields(required: bool) -> dict[str, ma.fields.Field]:
    return {
        "title": _text(200, required=required),
        "reference": _text(
            64, required=required, metadata={"description": "The parties' own reference."}
        ),
        "purposes": _text(5000, required=required),
        "lawful_bases": ma.fields.List(
            ma.fields.Enum(LawfulBasis, by_value=True),
            required=required,
            validate=ma.validate.Length(max=len(LawfulBasis)),
            metadata={"description": "The lawful bases a share under it may rest on."},
        ),
        "data_categories": ma.fields.List(
            ma.fields.Enum(DataCategory, by_value=True),
            required=required,
            validate=ma.validate.Length(max=len(DataCategory)),
        ),
        "party_ids": ma.fields.List(
            ma.fields.UUID(),
            required=required,
            validate=ma.validate.Length(max=MAX_PARTIES),
            metadata={"description": "The agencies party to it: two or more, yours among them."},
        ),
        "starts_on": ma.fields.Date(required=required),
        "review_on": ma.fields.Date(required=required),
        "ends_on": ma.fields.Date(allow_none=True, metadata={"description": "None: open-ended."}),
        "document_reference": ma.fields.String(
            allow_none=True,
            validate=ma.validate.Length(max=500),
            metadata={"description": "Where the signed document is kept (a file name or link)."},
        ),
    }


AgreementCreateSchema = InputSchema.from_dict(
    _agreement_fields(required=True), name="AgreementCreateSchema"
)
# PATCH: any of the fields; ending an agreement is setting `ends_on`.
AgreementUpdateSchema = InputSchema.from_dict(
    _agreement_fields(required=False), name="AgreementUpdateSchema"
)


class AgreementDocumentSchema(InputSchema):
    file = UploadedFile(
        required=True,
        metadata={
            "description": "The signed agreement: PDF, Word (DOCX) or OpenDocument text (ODT), "
            "recognised by its content; at most DOCUMENT_MAX_BYTES (10 MB by default)."
        },
    )


class AgreementSchema(OutputSchema):
    id = ma.fields.UUID()
    title = ma.fields.String()
    reference = ma.fields.String()
    purposes = ma.fields.String()
    lawful_bases = ma.fields.List(ma.fields.String())
    data_categories = ma.fields.List(ma.fields.String())
    parties = ma.fields.Function(
        lambda agreement: [
            {"id": str(p.organisation.id), "code": p.organisation.code, "name": p.organisation.name}
            for p in sorted(agreement.parties, key=lambda p: p.organisation.name)
        ],
        metadata={"type": "array", "items": {"type": "object"}},
    )
    starts_on = ma.fields.Date()
    review_on = ma.fields.Date()
    ends_on = ma.fields.Date(allow_none=True)
    in_force = ma.fields.Boolean(attribute="in_force_today")
    document_reference = ma.fields.String(allow_none=True)
    document_filename = ma.fields.String(
        allow_none=True,
        metadata={"description": "The uploaded signed agreement's name (GET .../document)."},
    )
    created_by = ma.fields.Nested(PersonSchema)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class PeriodSchema(InputSchema):
    start = ma.fields.Date(metadata={"description": "First UK day (default: a year ago)."})
    end = ma.fields.Date(metadata={"description": "Last UK day (default: today)."})


class CountSchema(OutputSchema):
    key = ma.fields.String()
    label = ma.fields.String()
    count = ma.fields.Integer()


class AgreementUsageSchema(OutputSchema):
    agreement_id = ma.fields.UUID()
    title = ma.fields.String()
    reference = ma.fields.String()
    in_force = ma.fields.Boolean()
    review_on = ma.fields.Date()
    granted = ma.fields.Integer(metadata={"description": "Shares granted in the period."})
    live = ma.fields.Integer(metadata={"description": "Shares live now."})
    by_recipient = ma.fields.List(ma.fields.Nested(CountSchema))
    by_basis = ma.fields.List(ma.fields.Nested(CountSchema))


class WithoutAgreementSchema(OutputSchema):
    share_id = ma.fields.UUID()
    granted_at = ma.fields.AwareDateTime()
    sharing_organisation = ma.fields.Nested(OrganisationSummarySchema)
    recipient_organisation = ma.fields.Nested(OrganisationSummarySchema)
    lawful_basis = ma.fields.String()
    purpose = ma.fields.String()
    reason = ma.fields.String()
    live = ma.fields.Boolean()


class AgreementReportSchema(OutputSchema):
    start = ma.fields.Date()
    end = ma.fields.Date()
    agreements = ma.fields.List(ma.fields.Nested(AgreementUsageSchema))
    without_agreement = ma.fields.List(ma.fields.Nested(WithoutAgreementSchema))
