"""User administration: org admins for their own agency, system admins for all."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import User
from referral_app.policy import Permission, requires
from referral_app.services import users
from schemas.user import (
    EnrolmentCodeSchema,
    UserCreateSchema,
    UserListQuerySchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, description="User administration.")


@blp.route("/users")
class Users(MethodView):
    @requires(Permission.USERS_READ)
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[User]:
        """The users the caller administers."""
        page = users.list_users(
            current_user,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            organisation_id=query.get("organisation_id"),
        )
        pagination_parameters.item_count = page.total
        return page.users

    @requires(Permission.USERS_MANAGE)
    @blp.arguments(
        UserCreateSchema,
        example={
            "email": "amir.khan@yjs.example.gov.uk",
            "full_name": "Amir Khan",
            "organisation_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "password": "a long passphrase of my own",
            "roles": ["caseworker"],
        },
    )
    @blp.response(201, UserSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 409, 413, 415)
    def post(self, data: dict[str, Any]) -> User:
        """Create a user in the caller's organisation (org admins) or any (system admins)."""
        return users.create_user(current_user, **data)


@blp.route("/users/<uuid:user_id>")
class UserDetail(MethodView):
    @requires(Permission.USERS_READ)
    @blp.response(200, UserSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, user_id: uuid.UUID) -> User:
        """A user the caller administers."""
        return users.get_user(current_user, user_id)

    @requires(Permission.USERS_MANAGE)
    @blp.arguments(
        UserUpdateSchema, example={"roles": ["caseworker", "manager"], "sign_out_everywhere": True}
    )
    @blp.response(200, UserSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def patch(self, data: dict[str, Any], user_id: uuid.UUID) -> User:
        """Change a user's name, roles or active flag. Disabling ends their sessions."""
        user = users.get_user(current_user, user_id)
        users.update_user(current_user, user, **data)
        return user


@blp.route("/users/<uuid:user_id>/enrolment-code")
class EnrolmentCode(MethodView):
    @requires(Permission.USERS_MANAGE)
    @blp.response(201, EnrolmentCodeSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def post(self, user_id: uuid.UUID) -> dict[str, Any]:
        """Issue a one-time code with which the user can set up an
        authenticator app (needed where TOTP_ENROLMENT_NEEDS_CODE, as in
        production). Shown once; replaces any earlier code; audited."""
        user = users.get_user(current_user, user_id)
        code, expires_at = users.issue_enrolment_code(current_user, user)
        return {"code": code, "expires_at": expires_at}
