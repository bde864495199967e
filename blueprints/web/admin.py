"""Administration pages: users (org admins for their agency, system admins for
all) and organisations (system admins). Same services as the API: what the
service refuses, the page shows as an error beside the field at fault."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.admin_forms import (
    EDIT_USER,
    NEW_ORGANISATION,
    NEW_USER,
    ORGANISATION_KINDS,
    PAGE_SIZE,
    ROLES_NOT_OFFERED,
    changes_said,
    refusal_errors,
    role_choices,
    role_names,
)
from blueprints.web.forms import page_errors
from blueprints.web.page_links import (
    check_page_exists,
    page_asked,
    page_count,
    pagination,
    query_for,
    showing,
)
from blueprints.web.sent_once import sent_once
from referral_app import policy
from referral_app.models import Role, User
from referral_app.policy import Permission, requires
from referral_app.services import organisations, users
from referral_app.services.errors import ServiceError
from schemas.organisation import OrganisationCreateSchema
from schemas.user import UserCreateSchema, UserUpdateSchema

blp = Blueprint("web_admin", __name__)
ORGANISATION_FIELD = next(field for field in NEW_USER if field.name == "organisation_id")

Page = str | tuple[str, int]


# --- Users -------------------------------------------------------------------


@blp.get("/admin/users")
@requires(Permission.USERS_READ)
def user_list() -> Page:
    page = page_asked(request.args)
    listed = users.list_users(current_user, page=page, page_size=PAGE_SIZE)
    check_page_exists(page, listed.total, PAGE_SIZE)
    return render_template(
        "admin/users.html",
        users=listed.users,
        showing=showing(page, PAGE_SIZE, listed.total, "user"),
        pagination=pagination(
            page,
            page_count(listed.total, PAGE_SIZE),
            query_for("/admin/users", request.args),
            "Pages of users",
        ),
        role_names=role_names,
    )


def _new_user_page(form: MultiDict[str, str] | None = None, raw_errors: Any = None) -> str:
    actor: User = current_user
    chooses_agency = actor.has_role(Role.SYSTEM_ADMIN)
    if not chooses_agency and raw_errors and "organisation_id" in raw_errors:
        # The organisation is not a question on an org admin's form (it is
        # theirs): a refusal of another one is about the form as a whole.
        said = [ORGANISATION_FIELD.say(message) for message in raw_errors["organisation_id"]]
        raw_errors = {name: each for name, each in raw_errors.items() if name != "organisation_id"}
        raw_errors["_schema"] = said
    return render_template(
        "admin/user_new.html",
        form=form or MultiDict(),
        errors=page_errors(raw_errors, NEW_USER),
        agencies=users.organisations_to_add_to(actor),
        chooses_agency=chooses_agency,
        roles=role_choices(role for role in Role if role in policy.grantable_roles(actor)),
    )


@blp.get("/admin/users/new")
@requires(Permission.USERS_MANAGE)
def user_new() -> Page:
    return _new_user_page()


@blp.post("/admin/users")
@requires(Permission.USERS_MANAGE)
@sent_once
def user_create() -> Page | Response:
    data, errors = validate(UserCreateSchema(), form_fields(request.form, lists=("roles",)))
    if data is None:
        return _new_user_page(request.form, errors), 422
    try:
        user = users.create_user(current_user, **data)
    except ServiceError as refusal:
        return _new_user_page(request.form, refusal_errors(refusal)), refusal.status
    flash(f"{user.full_name} has been added. They can now sign in.")
    return redirect(f"/admin/users/{user.id}")


def _user_page(user: User, form: MultiDict[str, str] | None = None, raw_errors: Any = None) -> str:
    actor: User = current_user
    grantable = policy.grantable_roles(actor)
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        errors=page_errors(raw_errors, EDIT_USER),
        roles=role_choices(role for role in Role if role in grantable),
        kept_roles=role_choices(role for role in Role if role in user.roles - grantable),
        role_names=role_names,
        is_self=user.id == actor.id,
        needs_enrolment_code=users.needs_enrolment_code(user),
    )


@blp.get("/admin/users/<uuid:user_id>")
@requires(Permission.USERS_READ)
def user_detail(user_id: uuid.UUID) -> Page:
    return _user_page(users.get_user(current_user, user_id))


def _change_asked(user: User, form: MultiDict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The change the edit form asks for, as UserUpdateSchema loads it, and
    what is wrong with it before the schema sees it. A field the form did
    not send is left as it is; the roles a viewer may not grant are not on
    the form, so the user keeps them; a full name rubbed out is asked for
    again, not ignored."""
    asked: dict[str, Any] = {}
    wrong: FormErrors = {}
    if "full_name" in form:
        asked["full_name"] = form["full_name"]
    if "roles" in form:  # the form sends an empty "roles" beside the checkboxes
        grantable = {str(role) for role in policy.grantable_roles(current_user)}
        ticked = [value for value in form.getlist("roles") if value]
        if any(value not in grantable for value in ticked):
            wrong["roles"] = [ROLES_NOT_OFFERED]
        kept = sorted(str(role) for role in user.roles if str(role) not in grantable)
        asked["roles"] = [*ticked, *kept]
    if form.get("active"):
        asked["active"] = form["active"]
    return asked, wrong


@blp.post("/admin/users/<uuid:user_id>")
@requires(Permission.USERS_MANAGE)
@sent_once
def user_update(user_id: uuid.UUID) -> Page | Response:
    user = users.get_user(current_user, user_id)
    asked, wrong = _change_asked(user, request.form)
    data, errors = validate(UserUpdateSchema(), asked)
    if data is None or wrong:
        return _user_page(user, request.form, {**errors, **wrong}), 422
    try:
        changed = users.update_user(current_user, user, **data)
    except ServiceError as refusal:
        if refusal.status == 404:
            raise
        return _user_page(user, request.form, refusal_errors(refusal)), refusal.status
    flash(changes_said(user, changed))
    return redirect(f"/admin/users/{user.id}")


def _user_action(user_id: uuid.UUID, **change: Any) -> Page | Response:
    user = users.get_user(current_user, user_id)
    try:
        changed = users.update_user(current_user, user, **change)
    except ServiceError as refusal:
        return _user_page(user, None, refusal_errors(refusal)), refusal.status
    flash(changes_said(user, changed))
    return redirect(f"/admin/users/{user.id}")


@blp.post("/admin/users/<uuid:user_id>/reset-totp")
@requires(Permission.USERS_MANAGE)
@sent_once
def user_reset_totp(user_id: uuid.UUID) -> Page | Response:
    """Recovery for a lost phone: the user sets up a new authenticator at next sign-in."""
    return _user_action(user_id, reset_totp=True)


@blp.post("/admin/users/<uuid:user_id>/enrolment-code")
@requires(Permission.USERS_MANAGE)
@sent_once
def user_enrolment_code(user_id: uuid.UUID) -> Page:
    """A one-time code for setting up an authenticator, shown once."""
    user = users.get_user(current_user, user_id)
    try:
        code, expires_at = users.issue_enrolment_code(current_user, user)
    except ServiceError as refusal:
        return _user_page(user, None, refusal_errors(refusal)), refusal.status
    return render_template("admin/enrolment_code.html", user=user, code=code, expires_at=expires_at)


@blp.post("/admin/users/<uuid:user_id>/sign-out")
@requires(Permission.USERS_MANAGE)
@sent_once
def user_sign_out(user_id: uuid.UUID) -> Page | Response:
    return _user_action(user_id, sign_out_everywhere=True)


# --- Organisations -----------------------------------------------------------


@blp.get("/admin/organisations")
@requires(Permission.ORGANISATIONS_MANAGE)
def organisation_list() -> Page:
    page = page_asked(request.args)
    listed, total = organisations.list_organisations(page=page, page_size=PAGE_SIZE)
    check_page_exists(page, total, PAGE_SIZE)
    return render_template(
        "admin/organisations.html",
        organisations=listed,
        kinds=dict(ORGANISATION_KINDS),
        showing=showing(page, PAGE_SIZE, total, "organisation"),
        pagination=pagination(
            page,
            page_count(total, PAGE_SIZE),
            query_for("/admin/organisations", request.args),
            "Pages of organisations",
        ),
    )


def _new_organisation_page(form: MultiDict[str, str] | None = None, raw_errors: Any = None) -> str:
    return render_template(
        "admin/organisation_new.html",
        form=form or MultiDict(),
        errors=page_errors(raw_errors, NEW_ORGANISATION),
        kinds=ORGANISATION_KINDS,
    )


@blp.get("/admin/organisations/new")
@requires(Permission.ORGANISATIONS_MANAGE)
def organisation_new() -> Page:
    return _new_organisation_page()


@blp.post("/admin/organisations")
@requires(Permission.ORGANISATIONS_MANAGE)
@sent_once
def organisation_create() -> Page | Response:
    data, errors = validate(OrganisationCreateSchema(), form_fields(request.form))
    if data is None:
        return _new_organisation_page(request.form, errors), 422
    try:
        organisation = organisations.create_organisation(current_user, **data)
    except ServiceError as refusal:
        return _new_organisation_page(request.form, refusal_errors(refusal)), refusal.status
    flash(f"{organisation.name} has been added.")
    return redirect("/admin/organisations")
