import marshmallow as ma

from referral_app.models import NotificationKind
from schemas.common import InputSchema, OutputSchema


class NotificationSchema(OutputSchema):
    id = ma.fields.UUID()
    kind = ma.fields.Enum(NotificationKind, by_value=True)
    referral_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "None for a notice about a share or an agreement."},
    )
    reference = ma.fields.String(attribute="referral.reference", allow_none=True)
    agreement_id = ma.fields.UUID(allow_none=True)
    notice = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "What a notice about a share made without an agreement, or an "
            "agreement due for review, says (agencies, purpose, reason; never the child)."
        },
    )
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationQuerySchema(InputSchema):
    unread = ma.fields.Boolean(metadata={"description": "Only unread notifications."})


class MarkedSchema(OutputSchema):
    marked = ma.fields.Integer(metadata={"description": "How many were marked read."})
