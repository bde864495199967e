"""Actions on a referral: input and output schemas (services/actions.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models import ActionStatus, uk_today
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

SCOPES = ("mine", "agency")
STATUS_FILTERS = ("open", "done", "cancelled", "all")
CLOSING_STATUSES = (ActionStatus.DONE.value, ActionStatus.CANCELLED.value)


class ActionCreateSchema(InputSchema):
    description = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2000),
        metadata={"description": "What needs doing."},
    )
    due_on = ma.fields.Date(
        required=True,
        metadata={
            "description": "The UK calendar day it is due: today or later, within two years."
        },
    )
    owner_id = ma.fields.UUID(
        metadata={
            "description": "A named owner: an active member of staff of the owning agency. "
            "Left out: anyone in the owning agency."
        }
    )
    owning_organisation_id = ma.fields.UUID(
        metadata={
            "description": "The agency that owns the action; by default the caller's. Outside "
            "a meeting an action is for the caller's own agency."
        }
    )


class ActionCloseSchema(InputSchema):
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(CLOSING_STATUSES),
        metadata={"description": "How the action ended: `done` or `cancelled`."},
    )
    note = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=5000),
        metadata={"description": "What was done, or why it was cancelled."},
    )

    @ma.post_load
    def as_status(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["status"] = ActionStatus(data["status"])
        return data


class ActionListQuerySchema(InputSchema):
    scope = ma.fields.String(
        load_default="mine",
        validate=ma.validate.OneOf(SCOPES),
        metadata={
            "description": "`mine` (default): actions you own by name; `agency`: every action "
            "of your agency (managers only: 403 otherwise)."
        },
    )
    status = ma.fields.String(
        load_default="open",
        validate=ma.validate.OneOf(STATUS_FILTERS),
        metadata={"description": "`open` (default), `done`, `cancelled` or `all`."},
    )

    @ma.post_load
    def as_status(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["status"] = None if data["status"] == "all" else ActionStatus(data["status"])
        return data


# --- output ---------------------------------------------------------------


class ChildNameSchema(OutputSchema):
    id = ma.fields.UUID()
    first_name = ma.fields.String()
    last_name = ma.fields.String()


class ActionReferralSchema(OutputSchema):
    """The referral an action is about (the caller's agency holds it)."""

    id = ma.fields.UUID()
    reference = ma.fields.String()
    child = ma.fields.Nested(ChildNameSchema)


class ActionSchema(OutputSchema):
    id = ma.fields.UUID()
    referral = ma.fields.Nested(ActionReferralSchema)
    meeting_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The meeting that agreed it, if one did."}
    )
    description = ma.fields.String()
    owning_organisation = ma.fields.Nested(OrganisationSummarySchema)
    owner = ma.fields.Nested(
        PersonSchema, allow_none=True, metadata={"description": "Null: anyone in the agency."}
    )
    due_on = ma.fields.Date()
    status = ma.fields.Enum(ActionStatus, by_value=True)
    overdue = ma.fields.Function(
        lambda action: action.is_overdue(uk_today()),
        metadata={"type": "boolean", "description": "Open and past its due date (UK time)."},
    )
    closing_note = ma.fields.String(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    closed_by = ma.fields.Nested(PersonSchema, allow_none=True)
    created_by = ma.fields.Nested(PersonSchema)
    created_by_organisation = ma.fields.Nested(OrganisationSummarySchema)
    created_at = ma.fields.AwareDateTime()
