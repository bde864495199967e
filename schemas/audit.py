from typing import Any

import marshmallow as ma

from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

UNSEALED = (
    " Null while the event waits to be sealed into the chain by the sequencer"
    " (normally well under a second after its transaction committed)."
)


class AuditEventSchema(OutputSchema):
    id = ma.fields.Integer(
        metadata={"description": "The event's id, in the order events were written."}
    )
    seq = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Its place in the gap-free, hash-chained trail." + UNSEALED},
    )
    occurred_at = ma.fields.AwareDateTime()
    request_id = ma.fields.String(allow_none=True)
    actor_user_id = ma.fields.UUID(allow_none=True)
    actor_organisation_id = ma.fields.UUID(allow_none=True)
    actor_role = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    record_type = ma.fields.String(allow_none=True)
    record_id = ma.fields.String(allow_none=True)
    record_ids = ma.fields.List(ma.fields.String(), allow_none=True)
    changed_fields = ma.fields.List(
        ma.fields.String(),
        allow_none=True,
        attribute="fields",
        data_key="fields",
        metadata={"description": "Names of the fields involved, never their values."},
    )
    recipient_organisation_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    outcome = ma.fields.String()
    client_ip = ma.fields.String(allow_none=True)
    prev_hash = ma.fields.String(
        allow_none=True,
        metadata={"description": "The hash of the event before it in the chain." + UNSEALED},
    )
    hash = ma.fields.String(
        allow_none=True,
        metadata={"description": "HMAC-SHA256 of the event and prev_hash." + UNSEALED},
    )


class AuditEventQuerySchema(InputSchema):
    actor = ma.fields.UUID(metadata={"description": "Actor user id."})
    organisation = ma.fields.UUID(metadata={"description": "Actor organisation id."})
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    record_type = ma.fields.String(validate=ma.validate.Length(max=32))
    record = ma.fields.String(validate=ma.validate.Length(max=64))
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()


# A referral's reference, as services.referrals.REFERENCE (schemas do not
# import services): R-2026-000123.
REFERENCE_PATTERN = r"^[Rr]-\d{4}-\d{6,}$"


class AuditPageQuerySchema(InputSchema):
    """The audit page's filters (a query string): a person by id or email, an
    agency, an action by name, a referral by reference, a record id, and a
    range of dates (UK days, both ends included)."""

    actor = ma.fields.UUID()
    email = ma.fields.Email(validate=ma.validate.Length(max=254))
    organisation = ma.fields.UUID()
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    reference = ma.fields.String(
        validate=[
            ma.validate.Length(max=16),
            ma.validate.Regexp(REFERENCE_PATTERN, error="Not a referral reference."),
        ]
    )
    record = ma.fields.String(validate=ma.validate.Length(max=64))
    since = ma.fields.Date()
    until = ma.fields.Date()

    @ma.post_load
    def upper_case_reference(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "reference" in data:
            data["reference"] = data["reference"].upper()
        return data

    @ma.validates_schema
    def range_in_order(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise ma.ValidationError("The end date is before the start date.", "until")


class VerificationSchema(OutputSchema):
    ok = ma.fields.Boolean(
        metadata={"description": "The chain is whole and reaches the last signed checkpoint."}
    )
    checked = ma.fields.Integer()
    first_bad_seq = ma.fields.Integer(allow_none=True)
    checkpoint_seq = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The seq the newest trusted signed checkpoint vouches for."},
    )
    checkpoint_at = ma.fields.AwareDateTime(allow_none=True)
    problem = ma.fields.String(
        allow_none=True,
        metadata={"description": "What is wrong, e.g. the events missing after a checkpoint."},
    )


class AccessLogEntrySchema(OutputSchema):
    seq = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The event's place in the audit trail." + UNSEALED},
    )
    occurred_at = ma.fields.AwareDateTime()
    action = ma.fields.String()
    outcome = ma.fields.String()
    actor = ma.fields.Nested(PersonSchema, allow_none=True)
    actor_organisation = ma.fields.Nested(OrganisationSummarySchema, allow_none=True)
