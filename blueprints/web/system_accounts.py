"""The org admin's pages for their agency's system accounts: register one
(its client secret shown once), change it, rotate and retire its secrets,
revoke it. Same services as the API (services.system_accounts)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, validate
from blueprints.web.forms import Field, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.models import SystemAccount
from referral_app.policy import Permission, requires
from referral_app.services import system_accounts
from referral_app.services.errors import ServiceError
from schemas.system_account import GRANTABLE, SystemAccountCreateSchema, SystemAccountUpdateSchema

blp = Blueprint("web_system_accounts", __name__)

Page = str | tuple[str, int]

# What each permission a system may be given lets it do, in people's words.
PERMISSION_WORDS: dict[str, tuple[str, str]] = {
    "referrals:read": ("Read referrals", "The referrals your organisation holds."),
    "referrals:create": ("Make referrals", "Drafts sent by your organisation."),
    "referrals:update": ("Change referrals", "The details of your organisation's drafts."),
    "referrals:transition": ("Submit or withdraw referrals", "Your organisation's own."),
    "notes:create": ("Add notes", "To referrals your organisation holds."),
    "children:match": ("Check for a child already known", "Before making a referral."),
    "notifications:read": ("Read notifications", "Its own."),
    "actions:work": ("Work on actions", "Of referrals your organisation holds."),
    "meetings:read": ("Read meetings", "Those your organisation takes part in."),
    "agreements:read": ("Read information sharing agreements", "Your organisation's."),
    "directory:read": ("Read the service directory", "Services to refer to."),
    "events:read": ("Read events", "About referrals your organisation holds."),
}

_NAME = Field(
    "name",
    "Name",
    "Enter the system's name",
    own={"Length must be between 1 and 120.": "Enter the system's name"},
)
_DESCRIPTION = Field("description", "Description", "Enter a description")
_PERMISSIONS = Field(
    "permissions",
    "Permissions",
    "Select at least one permission",
    invalid="Select permissions from the list",
    anchor="permissions",
    own={
        "Choose at least one permission the system needs.": "Select at least one permission",
    },
)
FIELDS = (_NAME, _DESCRIPTION, _PERMISSIONS)


def permission_choices() -> list[tuple[str, str, str]]:
    return [(name, *PERMISSION_WORDS.get(name, (name, ""))) for name in GRANTABLE]


def _asked(form: MultiDict[str, str], *, new: bool) -> tuple[dict[str, Any], FormErrors]:
    asked: dict[str, Any] = {}
    wrong: FormErrors = {}
    for name in ("name", "description"):
        if name in form or new:
            asked[name] = form.get(name, "")
    ticked = [value for value in form.getlist("permissions") if value]
    if any(value not in GRANTABLE for value in ticked):
        wrong["permissions"] = ["Select permissions from the list"]
    elif not ticked:
        wrong["permissions"] = ["Select at least one permission"]
    asked["permissions"] = ticked
    return asked, wrong


@blp.get("/admin/systems")
@requires(Permission.SYSTEMS_MANAGE)
def system_list() -> Page:
    return render_template(
        "system_accounts/list.html",
        systems=system_accounts.list_systems(current_user),
        words=PERMISSION_WORDS,
    )


def _new_page(form: MultiDict[str, str] | None = None, raw_errors: Any = None) -> str:
    return render_template(
        "system_accounts/new.html",
        form=form or MultiDict(),
        errors=page_errors(raw_errors, FIELDS),
        permissions=permission_choices(),
    )


@blp.get("/admin/systems/new")
@requires(Permission.SYSTEMS_MANAGE)
def system_new() -> Page:
    return _new_page()


def _secret_page(
    system: SystemAccount, issued: system_accounts.IssuedClientSecret, *, first: bool
) -> str:
    return render_template("system_accounts/secret.html", system=system, issued=issued, first=first)


@blp.post("/admin/systems")
@requires(Permission.SYSTEMS_MANAGE)
@sent_once
def system_create() -> Page | Response:
    asked, wrong = _asked(request.form, new=True)
    data, errors = validate(SystemAccountCreateSchema(), asked)
    if data is None or wrong:
        return _new_page(request.form, {**errors, **wrong}), 422
    try:
        system, issued = system_accounts.create_system(current_user, **data)
    except ServiceError as refusal:
        return _new_page(request.form, refusal.errors or {"_schema": [refusal.message]}), (
            refusal.status
        )
    return _secret_page(system, issued, first=True)


def _detail_page(
    system: SystemAccount, form: MultiDict[str, str] | None = None, raw_errors: Any = None
) -> str:
    return render_template(
        "system_accounts/detail.html",
        system=system,
        form=form,
        errors=page_errors(raw_errors, FIELDS),
        permissions=permission_choices(),
        words=PERMISSION_WORDS,
    )


@blp.get("/admin/systems/<uuid:system_id>")
@requires(Permission.SYSTEMS_MANAGE)
def system_detail(system_id: uuid.UUID) -> Page:
    return _detail_page(system_accounts.get_system(current_user, system_id))


@blp.post("/admin/systems/<uuid:system_id>")
@requires(Permission.SYSTEMS_MANAGE)
@sent_once
def system_update(system_id: uuid.UUID) -> Page | Response:
    system = system_accounts.get_system(current_user, system_id)
    asked, wrong = _asked(request.form, new=False)
    data, errors = validate(SystemAccountUpdateSchema(), asked)
    if data is None or wrong:
        return _detail_page(system, request.form, {**errors, **wrong}), 422
    try:
        system_accounts.update_system(current_user, system, **data)
    except ServiceError as refusal:
        return _detail_page(system, request.form, {"_schema": [refusal.message]}), refusal.status
    flash(f"{system.name} has been changed.")
    return redirect(f"/admin/systems/{system.id}")


@blp.post("/admin/systems/<uuid:system_id>/secrets")
@requires(Permission.SYSTEMS_MANAGE)
@sent_once
def system_rotate(system_id: uuid.UUID) -> Page | Response:
    system = system_accounts.get_system(current_user, system_id)
    try:
        issued = system_accounts.rotate_secret(current_user, system)
    except ServiceError as refusal:
        return _detail_page(system, None, {"_schema": [refusal.message]}), refusal.status
    return _secret_page(system, issued, first=False)


@blp.post("/admin/systems/<uuid:system_id>/secrets/<uuid:secret_id>/retire")
@requires(Permission.SYSTEMS_MANAGE)
@sent_once
def system_retire_secret(system_id: uuid.UUID, secret_id: uuid.UUID) -> Page | Response:
    system = system_accounts.get_system(current_user, system_id)
    try:
        secret = system_accounts.retire_secret(current_user, system, secret_id)
    except ServiceError as refusal:
        return _detail_page(system, None, {"_schema": [refusal.message]}), refusal.status
    flash(f"The secret starting {secret.hint} has been retired. It no longer works.")
    return redirect(f"/admin/systems/{system.id}")


@blp.post("/admin/systems/<uuid:system_id>/revoke")
@requires(Permission.SYSTEMS_MANAGE)
@sent_once
def system_revoke(system_id: uuid.UUID) -> Page | Response:
    system = system_accounts.get_system(current_user, system_id)
    system_accounts.revoke_system(current_user, system)
    flash(f"{system.name} has been revoked. Its secrets and tokens no longer work.")
    return redirect(f"/admin/systems/{system.id}")
