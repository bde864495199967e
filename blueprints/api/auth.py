"""API sign-in: bearer tokens, and who the caller is."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.boundary import keep_changes_on_error
from referral_app.models import SessionKind, User
from referral_app.policy import Permission, requires
from referral_app.services import auth
from schemas.auth import CredentialsSchema, TokenSchema
from schemas.user import UserSchema

blp = Blueprint("auth", __name__, description="Sign in with a token; who am I.")


@blp.route("/auth/tokens")
class Tokens(MethodView):
    # Throttled per account and per address: see referral_app.throttling.

    @blp.doc(security=[])
    @blp.arguments(
        CredentialsSchema,
        example={
            "email": "sarah.jones@police.example.gov.uk",
            "password": "correct horse battery staple",
            "otp": "492039",
        },
    )
    @blp.response(201, TokenSchema)
    @documents_errors(blp, 400, 401, 413, 415, 429)
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Create a bearer token.

        Wrong credentials, unknown users, missing or reused TOTP codes and
        locked or disabled accounts all get the same 401."""
        keep_changes_on_error()  # failed attempts count against the account
        user = auth.authenticate(credentials["email"], credentials["password"], credentials["otp"])
        issued = auth.start_session(user, SessionKind.API_TOKEN)
        return {"token": issued.secret, "expires_at": issued.session.expires_at, "user": user}


@blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @requires(Permission.ACCOUNT_SELF)
    @blp.response(204)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def delete(self) -> None:
        """Revoke the token this request was made with."""
        auth.end_session(g.auth_session)


@blp.route("/me")
class Me(MethodView):
    @requires(Permission.ACCOUNT_SELF)
    @blp.response(200, UserSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> User:
        """The signed-in user, their organisation and roles."""
        user: User = current_user._get_current_object()
        return user
