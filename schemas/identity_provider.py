"""An agency's identity provider for single sign-on (services/identity_providers.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma

from schemas.common import InputSchema, JsonBoolean, OutputSchema

USER_CLAIMS = ("sub", "oid", "email", "preferred_username")


def _issuer(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ma.ValidationError(
            "Enter the issuer address starting https://, such as "
            "https://login.microsoftonline.com/<tenant id>/v2.0."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ma.ValidationError(
            "Enter the issuer address alone, without a query, fragment or password."
        )


class IdentityProviderSchema(OutputSchema):
    """The settings: the client secret is never given back."""

    organisation_id = ma.fields.UUID()
    display_name = ma.fields.String(
        metadata={"description": 'Shown on the sign-in page: "Sign in with <display name>".'}
    )
    issuer = ma.fields.String(metadata={"description": "The OpenID provider's issuer URL."})
    client_id = ma.fields.String()
    client_secret_set = ma.fields.Constant(
        True, metadata={"description": "Always true: the secret is kept, never shown."}
    )
    user_claim = ma.fields.String(
        metadata={"description": "The ID token claim that identifies a user."}
    )
    trust_provider_mfa = ma.fields.Boolean()
    mfa_values = ma.fields.List(ma.fields.String())
    password_sign_in = ma.fields.Boolean()
    enabled = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class IdentityProviderInputSchema(InputSchema):
    """Create (everything but the flags) or change (any) the settings."""

    unstripped = frozenset({"client_secret"})

    display_name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=120),
        metadata={"description": 'Shown as "Sign in with <display name>".'},
    )
    issuer = ma.fields.String(
        validate=[ma.validate.Length(min=1, max=500), _issuer],
        metadata={"description": "The issuer URL; its discovery document must name it exactly."},
    )
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    client_secret = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "Needed to set up; on a change, left out keeps the secret."},
    )
    user_claim = ma.fields.String(
        validate=ma.validate.OneOf(
            USER_CLAIMS,
            error="Choose the claim that identifies a user: sub, oid, email or preferred_username.",
        ),
        metadata={
            "description": "sub (default) or oid link to a subject; email or "
            "preferred_username match the user's e-mail address."
        },
    )
    trust_provider_mfa = JsonBoolean(
        metadata={"description": "Whether an accepted `amr` value satisfies our MFA."}
    )
    mfa_values = ma.fields.List(
        ma.fields.String(
            validate=ma.validate.Regexp(
                r"^[A-Za-z0-9_.:-]{1,40}$",
                error="Each accepted MFA method is a short word, such as mfa or otp.",
            )
        ),
        validate=ma.validate.Length(
            min=1, max=20, error="Give between 1 and 20 accepted MFA methods."
        ),
        metadata={"description": "The `amr` values accepted as a second factor."},
    )
    password_sign_in = JsonBoolean(
        metadata={"description": "False: the agency's users sign in through the provider only."}
    )
    enabled = JsonBoolean()

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one setting to change.")
