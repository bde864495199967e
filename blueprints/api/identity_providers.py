"""An agency's identity provider for single sign-on: set by its org admins
(or a system admin, for any agency); the client secret is never given back."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.models.sso import IdentityProvider
from referral_app.policy import Permission, requires
from referral_app.services import identity_providers
from schemas.identity_provider import IdentityProviderInputSchema, IdentityProviderSchema

blp = Blueprint(
    "identity_providers",
    __name__,
    description="Single sign-on: an agency's OpenID Connect identity provider (admins).",
)


@blp.route("/organisations/<uuid:organisation_id>/identity-provider")
class Provider(MethodView):
    @requires(Permission.IDENTITY_PROVIDERS_MANAGE)
    @blp.response(200, IdentityProviderSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, organisation_id: uuid.UUID) -> IdentityProvider:
        """The agency's identity provider settings (without the client secret).

        404 when the agency has none, or is another agency than an org admin's."""
        return identity_providers.get_existing(current_user, organisation_id)

    @requires(Permission.IDENTITY_PROVIDERS_MANAGE)
    @blp.arguments(
        IdentityProviderInputSchema,
        example={
            "display_name": "Essex Police (Microsoft Entra ID)",
            "issuer": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
            "client_secret": "Xq8Q~example-client-secret-from-entra",
            "user_claim": "oid",
            "trust_provider_mfa": True,
            "mfa_values": ["mfa"],
            "password_sign_in": False,
        },
    )
    @blp.response(200, IdentityProviderSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415, 422)
    def put(self, data: dict[str, Any], organisation_id: uuid.UUID) -> IdentityProvider:
        """Set up or change the agency's identity provider.

        Setting up needs the display name, issuer, client id and client
        secret; a change may give any settings (a secret left out is kept)."""
        provider, _ = identity_providers.save_settings(current_user, organisation_id, data)
        return provider

    @requires(Permission.IDENTITY_PROVIDERS_MANAGE)
    @blp.response(204)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def delete(self, organisation_id: uuid.UUID) -> None:
        """Remove the agency's identity provider: its users sign in with passwords again."""
        identity_providers.remove_settings(current_user, organisation_id)
