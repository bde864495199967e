"""Events about referrals (the pull feed, and the body of each webhook) and
agencies' webhook subscriptions with their delivery log."""

from __future__ import annotations

import marshmallow as ma

from referral_app.models.event import EventType
from schemas.common import InputSchema, OutputSchema

EVENT_TYPES = tuple(member.value for member in EventType)
FEED_MAX = 500
URL_LIMIT = 2000
DESCRIPTION_LIMIT = 200

_TYPES_HELP = (
    "`referral.received` (submitted to the receiving agency), `referral.status_changed`, "
    "`referral.outcome_recorded`, `referral.note_shared` (a note every holder may read), "
    "`referral.share_granted`, `referral.share_revoked`, `referral.action_due`."
)

# --- events -------------------------------------------------------------------------


class EventSchema(OutputSchema):
    """One event: ids, type and time, never personal data. The same object
    is the body of the webhook that delivers it."""

    id = ma.fields.Integer(
        attribute="seq",
        metadata={"description": "The event's position: increasing, the feed's cursor."},
    )
    type = ma.fields.Enum(EventType, by_value=True, metadata={"description": _TYPES_HELP})
    occurred_at = ma.fields.AwareDateTime()
    referral_id = ma.fields.UUID()
    note_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The note, for `referral.note_shared`."}
    )
    share_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The share, for `referral.share_granted` and `_revoked`."},
    )
    action_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The action, for `referral.action_due`."}
    )


class EventFeedQuerySchema(InputSchema):
    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0, error="Must be 0 or more."),
        metadata={"description": "The cursor: the `next_cursor` of the last page read (0 first)."},
    )
    limit = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(min=1, max=FEED_MAX, error=f"Between 1 and {FEED_MAX}."),
        metadata={"description": f"At most this many events (1 to {FEED_MAX}; 100 by default)."},
    )


class EventFeedSchema(OutputSchema):
    events = ma.fields.List(ma.fields.Nested(EventSchema))
    next_cursor = ma.fields.Integer(
        metadata={
            "description": "Send as `after` for the events that follow (the same cursor "
            "when there are none yet)."
        }
    )


# --- subscriptions ------------------------------------------------------------------


class _SubscriptionFields(InputSchema):
    url = ma.fields.String(
        validate=ma.validate.Length(min=1, max=URL_LIMIT),
        metadata={"description": "An https address on a public host, where events are POSTed."},
    )
    event_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENT_TYPES)),
        validate=ma.validate.Length(max=len(EVENT_TYPES)),
        metadata={"description": "The types to send; empty for every type. " + _TYPES_HELP},
    )
    description = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=DESCRIPTION_LIMIT),
        metadata={"description": "What the receiving system is, for the agency's admins."},
    )
    system_account_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The agency's system account that receives the events, if named "
            "(`/system-accounts`); the events it is sent do not depend on it."
        },
    )


class SubscriptionCreateSchema(_SubscriptionFields):
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=URL_LIMIT),
        metadata={"description": "An https address on a public host, where events are POSTed."},
    )


class SubscriptionChangeSchema(_SubscriptionFields):
    pass


class SubscriptionSchema(OutputSchema):
    id = ma.fields.UUID()
    url = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    event_types = ma.fields.List(ma.fields.String(), metadata={"description": "Empty: every type."})
    active = ma.fields.Boolean(
        metadata={"description": "False once disabled after repeated failure (see `enable`)."}
    )
    disabled_at = ma.fields.AwareDateTime(allow_none=True)
    disabled_reason = ma.fields.String(allow_none=True)
    consecutive_failures = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    secret_rotated_at = ma.fields.AwareDateTime(allow_none=True)
    system_account_id = ma.fields.UUID(allow_none=True)


class SubscriptionCreatedSchema(SubscriptionSchema):
    secret = ma.fields.String(
        metadata={
            "description": "The signing secret (Standard Webhooks, `whsec_...`): shown this "
            "once, never again."
        }
    )


class SecretSchema(OutputSchema):
    secret = ma.fields.String(
        metadata={"description": "The new signing secret, shown this once; the old one stops."}
    )


class DeliveryAttemptSchema(OutputSchema):
    id = ma.fields.Integer()
    attempted_at = ma.fields.AwareDateTime()
    event_id = ma.fields.Integer(attribute="delivery.event_seq")
    event_type = ma.fields.Function(
        lambda attempt: str(attempt.delivery.event.type),
        metadata={"type": "string", "enum": list(EVENT_TYPES)},
    )
    succeeded = ma.fields.Boolean()
    status_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()
    response_excerpt = ma.fields.String(
        allow_none=True, metadata={"description": "The start of the receiver's answer."}
    )
