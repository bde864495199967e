"""Referrals, children, notes, shares and history: input and output schemas."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import marshmallow as ma

from referral_app.models import (
    ConsentDecision,
    ConsentStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Outcome,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    SpecialCategoryCondition,
    TransitionAction,
)
from schemas.common import InputSchema, JsonBoolean, OutputSchema
from schemas.directory import NamedServiceSchema

# Youth justice and leaving-care services work with young people up to 25.
OLDEST_CHILD_YEARS = 25
POSTCODE = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"


def _text(max_length: int, *, required: bool = False, min_length: int = 1) -> ma.fields.String:
    return ma.fields.String(
        required=required, validate=ma.validate.Length(min=min_length, max=max_length)
    )


def _enum(enum_class: Any, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(enum_class, by_value=True, **kwargs)


def _date_of_birth(value: date) -> None:
    today = date.today()
    if value > today:
        raise ma.ValidationError("Date of birth must not be in the future.")
    if value < today - timedelta(days=366 * OLDEST_CHILD_YEARS):
        raise ma.ValidationError(f"The child must be under {OLDEST_CHILD_YEARS}.")


class ChildInputSchema(InputSchema):
    first_name = _text(100, required=True)
    last_name = _text(100, required=True)
    date_of_birth = ma.fields.Date(required=True, validate=_date_of_birth)
    gender = _text(40)
    address = _text(500)
    postcode = ma.fields.String(validate=ma.validate.Regexp(POSTCODE, error="Not a UK postcode."))
    school = _text(200)
    aliases = ma.fields.List(_text(100), validate=ma.validate.Length(max=10))

    @ma.post_load
    def normalise_postcode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("postcode"):
            compact = data["postcode"].replace(" ", "").upper()
            data["postcode"] = compact[:-3] + " " + compact[-3:]
        return data


def _risk_factors() -> ma.fields.List:
    return ma.fields.List(_enum(RiskFactor), validate=ma.validate.Length(max=len(RiskFactor)))


class ReferralFieldsSchema(InputSchema):
    """The fields a referrer fills in, shared by create and update."""

    reason = _text(5000)
    risk_level = _enum(RiskLevel)
    risk_factors = _risk_factors()
    consent_status = _enum(
        ConsentStatus,
        validate=ma.validate.NoneOf(
            [ConsentStatus.WITHDRAWN],
            error="A withdrawal is recorded in the referral's consent history.",
        ),
    )
    consent_notes = _text(2000)
    lawful_basis = _enum(
        LawfulBasis,
        metadata={
            "description": "`law_enforcement` (DPA 2018 Part 3) only for a referring police "
            "or youth justice agency (422 otherwise)."
        },
    )
    special_category_condition = _enum(
        SpecialCategoryCondition,
        metadata={
            "description": "When the referral holds special category data: "
            "`safeguarding_children` (UK GDPR Art 9, DPA 2018 Schedule 1 paragraph 18) or, "
            "with the law enforcement basis, `law_enforcement_safeguarding` (DPA 2018 s.35, "
            "Schedule 8 paragraph 4)."
        },
    )
    service_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The directory service the referral is for "
            "(`GET /directory/services`), if it names one: active, and run by the receiving "
            "agency when its provider is an agency here (422 otherwise); null to clear."
        },
    )

    @ma.post_load
    def unique_risk_factors(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "risk_factors" in data:
            data["risk_factors"] = sorted({str(factor) for factor in data["risk_factors"]})
        return data


class ReferralCreateSchema(ReferralFieldsSchema):
    child = ma.fields.Nested(ChildInputSchema)
    child_id = ma.fields.UUID()
    receiving_organisation_id = ma.fields.UUID(required=True)

    @ma.validates_schema
    def one_child(self, data: dict[str, Any], **_: Any) -> None:
        if ("child" in data) == ("child_id" in data):
            raise ma.ValidationError("Give either child or child_id.", "child")
        if data.get("consent_status") is ConsentStatus.NOT_SOUGHT and not data.get("consent_notes"):
            raise ma.ValidationError("Say why consent was not sought.", "consent_notes")


class ReferralUpdateSchema(ReferralFieldsSchema):
    receiving_organisation_id = ma.fields.UUID()

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "_schema")


class TransitionSchema(InputSchema):
    action = _enum(TransitionAction, required=True)
    reason = _text(2000)
    outcome = _enum(Outcome)
    outcome_summary = _text(5000)
    assignee_id = ma.fields.UUID()


class NoteCreateSchema(InputSchema):
    kind = _enum(NoteKind, load_default=NoteKind.NOTE)
    body = _text(10000, required=True)
    occurred_at = ma.fields.AwareDateTime(
        metadata={
            "description": "The date of contact: when the contact happened (not in the "
            "future; now when left out). The chronology orders notes by it."
        }
    )
    visibility = _enum(
        NoteVisibility,
        load_default=NoteVisibility.INTERNAL,
        metadata={"description": "`internal` (default): your agency only; `shared`: every holder."},
    )
    significant = JsonBoolean(
        load_default=False,
        metadata={"description": "Include the note in the child's chronology (default false)."},
    )


class NoteSignificanceSchema(InputSchema):
    significant = JsonBoolean(
        required=True,
        metadata={"description": "true: include the note in the child's chronology; false: not."},
    )


class ShareCreateSchema(InputSchema):
    organisation_id = ma.fields.UUID(required=True)
    purpose = _text(1000, required=True)
    lawful_basis = _enum(LawfulBasis, required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    agreement_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The information sharing agreement that covers the share: in "
            "force, naming both agencies, listing the lawful basis. Give this or "
            "`no_agreement_reason`."
        },
    )
    no_agreement_reason = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=1000),
        metadata={
            "description": "Why the referral is shared without an agreement (an emergency, "
            "say): recorded on the share and told to both agencies' auditors."
        },
    )


def _not_in_urls(_value: str) -> None:
    raise ma.ValidationError(
        "Search by name with POST /api/v1/referrals/search: names must not appear in "
        "URLs, which proxies and servers log."
    )


class ReferralFiltersSchema(InputSchema):
    status = _enum(ReferralStatus)
    risk_level = _enum(RiskLevel)
    direction = ma.fields.String(validate=ma.validate.OneOf(["incoming", "outgoing", "shared"]))
    assigned_to = ma.fields.String(validate=ma.validate.OneOf(["me"]))
    overdue = ma.fields.Boolean()


class ReferralListQuerySchema(ReferralFiltersSchema):
    """Filters in the query string: nothing personal."""

    q = ma.fields.String(
        validate=_not_in_urls,
        metadata={"description": "Refused: use POST /api/v1/referrals/search."},
    )


class ReferralSearchSchema(ReferralFiltersSchema):
    """Filters in a POST body, including the child's name or the reference."""

    overdue = JsonBoolean()

    q = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "A child's first or last name, full name, or a reference."},
    )


# --- output ---------------------------------------------------------------


class OrganisationSummarySchema(OutputSchema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()


class PersonSchema(OutputSchema):
    id = ma.fields.UUID()
    full_name = ma.fields.String()


class ChildSchema(OutputSchema):
    id = ma.fields.UUID()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    date_of_birth = ma.fields.Date()
    # Optional when the referral was made: null when not given.
    gender = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    school = ma.fields.String(allow_none=True)
    aliases = ma.fields.List(ma.fields.String())


class ReferralSchema(OutputSchema):
    id = ma.fields.UUID()
    reference = ma.fields.String()
    status = _enum(ReferralStatus)
    child = ma.fields.Nested(ChildSchema)
    referring_organisation = ma.fields.Nested(OrganisationSummarySchema)
    referring_user = ma.fields.Nested(PersonSchema)
    receiving_organisation = ma.fields.Nested(OrganisationSummarySchema)
    assignee = ma.fields.Nested(PersonSchema, allow_none=True)
    risk_level = _enum(RiskLevel, allow_none=True)
    risk_factors = ma.fields.List(ma.fields.String())
    reason = ma.fields.String(allow_none=True)
    consent_status = _enum(ConsentStatus, allow_none=True)
    consent_notes = ma.fields.String(allow_none=True)
    lawful_basis = _enum(LawfulBasis, allow_none=True)
    special_category_condition = _enum(SpecialCategoryCondition, allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)
    outcome = _enum(Outcome, allow_none=True)
    outcome_summary = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    triage_deadline = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Function(
        lambda referral: referral.is_overdue(),
        metadata={"type": "boolean", "description": "Past its triage deadline and not triaged."},
    )
    triaged_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    version = ma.fields.Integer()
    legal_hold = ma.fields.Boolean()
    service = ma.fields.Nested(
        NamedServiceSchema,
        allow_none=True,
        metadata={"description": "The directory service the referral is for, if it names one."},
    )


class ReferralDetailSchema(ReferralSchema):
    """One referral, with what the viewer may do with it."""

    allowed_actions = ma.fields.Function(
        lambda referral: list(referral.viewer_actions),
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": [str(action) for action in TransitionAction]},
            "description": "Transitions the caller may take now.",
        },
    )


class StatusChangeSchema(OutputSchema):
    id = ma.fields.UUID()
    action = ma.fields.String()
    from_status = _enum(ReferralStatus, allow_none=True)
    to_status = _enum(ReferralStatus)
    actor = ma.fields.Nested(PersonSchema)
    actor_organisation = ma.fields.Nested(OrganisationSummarySchema)
    reason = ma.fields.String(allow_none=True)
    at = ma.fields.AwareDateTime()


class NoteSchema(OutputSchema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    kind = _enum(NoteKind)
    body = ma.fields.String()
    visibility = _enum(NoteVisibility)
    occurred_at = ma.fields.AwareDateTime(
        metadata={"description": "The date of contact: when the contact happened."}
    )
    created_at = ma.fields.AwareDateTime(metadata={"description": "When the note was recorded."})
    significant = ma.fields.Boolean(
        metadata={"description": "Marked as significant: in the child's chronology."}
    )
    author = ma.fields.Nested(PersonSchema)
    organisation = ma.fields.Nested(OrganisationSummarySchema)


class ShareSchema(OutputSchema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    organisation = ma.fields.Nested(OrganisationSummarySchema)
    purpose = ma.fields.String()
    lawful_basis = _enum(LawfulBasis)
    granted_by = ma.fields.Nested(PersonSchema)
    granted_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    consent_decision_needed = ma.fields.Boolean(
        metadata={
            "description": "Consent was withdrawn while the share was live and the agency "
            "that granted it has not yet decided whether to keep sharing."
        }
    )
    consent_withdrawn_at = ma.fields.AwareDateTime(allow_none=True)
    consent_decision = _enum(ConsentDecision, allow_none=True)
    consent_decision_basis = _enum(LawfulBasis, allow_none=True)
    consent_decided_at = ma.fields.AwareDateTime(allow_none=True)
    agreement_id = ma.fields.UUID(allow_none=True)
    no_agreement_reason = ma.fields.String(allow_none=True)


class LegalHoldSchema(InputSchema):
    legal_hold = JsonBoolean(required=True)
    reason = _text(2000, required=True)
