"""The OAuth 2.0 token endpoint: system accounts exchange their client
credentials for a short-lived bearer token (services.oauth)."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from blueprints.api import Blueprint, documents_errors
from referral_app.services import oauth
from schemas.system_account import OAuthErrorSchema, TokenRequestSchema, TokenResponseSchema

blp = Blueprint("oauth", __name__, description="OAuth 2.0 tokens for system accounts.")

_ERRORS = {
    400: "invalid_request, unsupported_grant_type, invalid_scope or unauthorized_client "
    "(RFC 6749 section 5.2).",
    401: "invalid_client: the client id or secret is wrong, the secret retired or the "
    "system revoked; with `WWW-Authenticate: Basic`.",
    429: "slow_down: too many failed client authentications from this client or address.",
}


@blp.route("/oauth/token")
class Token(MethodView):
    # Public (policy.PUBLIC_ENDPOINTS), a form body (policy.FORM_BODY_ENDPOINTS).

    @blp.doc(
        security=[],
        requestBody={
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": TokenRequestSchema,
                    "example": {"grant_type": "client_credentials", "scope": "referrals:read"},
                }
            },
        },
        responses={
            status: {
                "description": words,
                "content": {"application/json": {"schema": OAuthErrorSchema}},
            }
            for status, words in _ERRORS.items()
        },
    )
    @blp.response(200, TokenResponseSchema)
    @documents_errors(blp, 413, 415)
    def post(self) -> Response:
        """Exchange client credentials for a token.

        The client credentials grant (RFC 6749 section 4.4): authenticate with
        HTTP Basic (client_secret_basic) or client_id and client_secret in the
        form (client_secret_post). The token lasts SYSTEM_TOKEN_MINUTES (15 by
        default); `scope` narrows it to some of the system's permissions."""
        return oauth.token_response()
