import marshmallow as ma

from referral_app.models import NotificationKind
from schemas.common import InputSchema, OutputSchema


class NotificationSchema(OutputSchema):
    id = ma.fields.UUID()
    kind = ma.fields.Enum(NotificationKind, by_value=True)
    referral_id = ma.fields.UUID()
    reference = ma.fields.String(attribute="referral.reference")
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationQuerySchema(InputSchema):
    unread = ma.fields.Boolean(metadata={"description": "Only unread notifications."})


class MarkedSchema(OutputSchema):
    marked = ma.fields.Integer(metadata={"description": "How many were marked read."})
