"""Administration pages: users (org admins for their agency, system admins for
all) and organisations (system admins). Same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user

from blueprints.web import FormErrors, form_fields, validate
from referral_app import policy
from referral_app.models import OrganisationKind
from referral_app.policy import Permission, requires
from referral_app.services import organisations, users
from referral_app.services.errors import ServiceError
from schemas.organisation import OrganisationCreateSchema
from schemas.user import UserCreateSchema, UserUpdateSchema

blp = Blueprint("web_admin", __name__)


def _users_page(errors: FormErrors | None = None, status: int = 200) -> Any:
    page = users.list_users(current_user, page=1, page_size=500)
    agencies = (
        organisations.list_organisations(page=1, page_size=500)[0]
        if "system_admin" in current_user.roles
        else [current_user.organisation]
    )
    return render_template(
        "admin/users.html",
        users=page.users,
        agencies=agencies,
        grantable=sorted(policy.grantable_roles(current_user)),
        errors=errors or {},
        form=request.form if errors else {},
    ), status


@blp.get("/admin/users")
@requires(Permission.USERS_READ)
def user_list() -> Any:
    return _users_page()


@blp.post("/admin/users")
@requires(Permission.USERS_MANAGE)
def user_create() -> Any:
    data, errors = validate(UserCreateSchema(), form_fields(request.form, lists=("roles",)))
    if data is None:
        return _users_page(errors, 422)
    try:
        user = users.create_user(current_user, **data)
    except ServiceError as refusal:
        return _users_page(refusal.errors or {"_schema": [refusal.message]}, refusal.status)
    flash(f"Created {user.email}.")
    return redirect("/admin/users")


@blp.post("/admin/users/<uuid:user_id>")
@requires(Permission.USERS_MANAGE)
def user_update(user_id: uuid.UUID) -> Any:
    fields = form_fields(request.form, lists=("roles",))
    fields["active"] = request.form.get("active") == "true"
    data, errors = validate(UserUpdateSchema(), fields)
    if data is None:
        return _users_page(errors, 422)
    try:
        user = users.get_user(current_user, user_id)
        users.update_user(current_user, user, **data)
    except ServiceError as refusal:
        if refusal.status == 404:
            raise
        return _users_page({"_schema": [refusal.message]}, refusal.status)
    flash(f"Updated {user.email}.")
    return redirect("/admin/users")


def _organisations_page(errors: FormErrors | None = None, status: int = 200) -> Any:
    items, _ = organisations.list_organisations(page=1, page_size=500)
    return render_template(
        "admin/organisations.html",
        organisations=items,
        kinds=[(str(kind), str(kind).replace("_", " ").capitalize()) for kind in OrganisationKind],
        errors=errors or {},
        form=request.form if errors else {},
    ), status


@blp.get("/admin/organisations")
@requires(Permission.ORGANISATIONS_MANAGE)
def organisation_list() -> Any:
    return _organisations_page()


@blp.post("/admin/organisations")
@requires(Permission.ORGANISATIONS_MANAGE)
def organisation_create() -> Any:
    data, errors = validate(OrganisationCreateSchema(), form_fields(request.form))
    if data is None:
        return _organisations_page(errors, 422)
    try:
        organisation = organisations.create_organisation(current_user, **data)
    except ServiceError as refusal:
        return _organisations_page(refusal.errors or {"_schema": [refusal.message]}, refusal.status)
    flash(f"Added {organisation.name}.")
    return redirect("/admin/organisations")


def _user_action(user_id: uuid.UUID, message: str, **change: Any) -> Any:
    user = users.get_user(current_user, user_id)
    try:
        users.update_user(current_user, user, **change)
    except ServiceError as refusal:
        return _users_page({"_schema": [refusal.message]}, refusal.status)
    flash(message.format(email=user.email))
    return redirect("/admin/users")


@blp.post("/admin/users/<uuid:user_id>/reset-totp")
@requires(Permission.USERS_MANAGE)
def user_reset_totp(user_id: uuid.UUID) -> Any:
    """Recovery for a lost phone: the user sets up a new authenticator at next sign-in."""
    return _user_action(
        user_id,
        "Removed the authenticator of {email}; they set up a new one at next sign-in.",
        reset_totp=True,
    )


@blp.post("/admin/users/<uuid:user_id>/sign-out")
@requires(Permission.USERS_MANAGE)
def user_sign_out(user_id: uuid.UUID) -> Any:
    return _user_action(user_id, "Signed {email} out everywhere.", sign_out_everywhere=True)
