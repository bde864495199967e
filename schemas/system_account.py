"""System accounts (services.system_accounts) and the OAuth token endpoint."""

from __future__ import annotations

import marshmallow as ma

from referral_app.policy import SYSTEM_GRANTABLE
from schemas.common import InputSchema, OutputSchema

GRANTABLE = sorted(str(permission) for permission in SYSTEM_GRANTABLE)


def permissions_field(*, required: bool = False) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(
            validate=ma.validate.OneOf(
                GRANTABLE,
                error="A system can only be given case work permissions of your agency: "
                "one of {choices}.",
            )
        ),
        required=required,
        validate=ma.validate.Length(
            min=1, max=len(GRANTABLE), error="Choose at least one permission the system needs."
        ),
        metadata={"description": "Permission names the system may use."},
    )


class SystemSecretSchema(OutputSchema):
    id = ma.fields.UUID()
    hint = ma.fields.String(
        metadata={"description": "The secret's first characters, to tell secrets apart."}
    )
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When a replaced secret stops working; null: no end set."},
    )


class SystemAccountSchema(OutputSchema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    description = ma.fields.String()
    client_id = ma.fields.String(metadata={"description": "Public: send it with the secret."})
    permissions = ma.fields.List(ma.fields.String())
    organisation_id = ma.fields.UUID()
    user_id = ma.fields.UUID(
        metadata={"description": "The account the system acts as (audit trail actor)."}
    )
    active = ma.fields.Boolean(metadata={"description": "False once revoked."})
    live_secrets = ma.fields.List(ma.fields.Nested(SystemSecretSchema))
    created_at = ma.fields.AwareDateTime()
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedSecretSchema(OutputSchema):
    system = ma.fields.Nested(SystemAccountSchema)
    secret_id = ma.fields.UUID()
    client_id = ma.fields.String()
    client_secret = ma.fields.String(
        metadata={"description": "Shown this once; only its hash is kept."}
    )


class SystemAccountCreateSchema(InputSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    permissions = permissions_field(required=True)


class SystemAccountUpdateSchema(InputSchema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=120))
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    permissions = permissions_field()


class TokenRequestSchema(ma.Schema):
    """The form body of POST /oauth/token (documentation: authlib reads it)."""

    grant_type = ma.fields.String(
        required=True, metadata={"enum": ["client_credentials"], "example": "client_credentials"}
    )
    scope = ma.fields.String(
        metadata={"description": "Space-separated permission names; none: all granted."}
    )
    client_id = ma.fields.String(metadata={"description": "With client_secret_post only."})
    client_secret = ma.fields.String(metadata={"description": "With client_secret_post only."})


class TokenResponseSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds."})
    scope = ma.fields.String(metadata={"description": "Present when narrowed."})


class OAuthErrorSchema(ma.Schema):
    error = ma.fields.String(
        required=True,
        metadata={
            "enum": [
                "invalid_request",
                "invalid_client",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
                "slow_down",
            ]
        },
    )
    error_description = ma.fields.String()
