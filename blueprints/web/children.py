"""A child's page: their details, the referrals the viewer's agency holds
about them, and for managers the forms to correct the details, merge another
record of the same child into this one (or undo a merge), and the printable
subject access export. Same schemas and services as the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from referral_app.boundary import keep_changes_on_error
from referral_app.models import Child, User
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import children, referrals
from referral_app.services.errors import ServiceError
from schemas.child import ChildMergeCreateSchema, ChildRectifySchema

blp = Blueprint("web_children", __name__)

# Why a record is a likely match, in words (reasons from services.children.score).
MATCH_REASONS = {
    "names_transposed": "first and last names swapped",
    "first_name_same": "same first name",
    "first_name_nickname": "first name a short form",
    "first_name_alias": "known by this name",
    "first_name_similar": "first name spelt alike",
    "first_name_part": "part of the first name",
    "first_name_sounds_alike": "first name sounds alike",
    "last_name_same": "same last name",
    "last_name_nickname": "last name a short form",
    "last_name_alias": "known by this name",
    "last_name_similar": "last name spelt alike",
    "last_name_part": "part of the last name",
    "last_name_sounds_alike": "last name sounds alike",
    "date_of_birth_same": "same date of birth",
    "date_of_birth_day_month_swapped": "day and month of birth swapped",
    "date_of_birth_close": "date of birth a day or a year out",
    "postcode_same": "same postcode",
    "postcode_same_area": "same postcode area",
}
REQUIRED_DETAILS = {"first_name": "Enter the first name.", "last_name": "Enter the last name."}
OPTIONAL_DETAILS = ("gender", "address", "postcode", "school")


@blp.app_template_filter("match_reason")
def match_reason(reason: str) -> str:
    return MATCH_REASONS.get(reason, reason.replace("_", " "))


def date_from_parts(
    form: dict[str, Any], prefix: str, field: str, errors: FormErrors
) -> str | None:
    """A date of birth typed as day, month and year inputs (`<prefix>day`,
    ...) as ISO text; an error under `field` when it is incomplete or not a
    real date; None when all three are empty."""
    parts = [str(form.get(f"{prefix}{part}", "")).strip() for part in ("year", "month", "day")]
    if all(parts):
        try:
            return date(*(int(part) for part in parts)).isoformat()
        except ValueError:
            errors[field] = ["Date of birth must be a real date."]
    elif any(parts):
        errors[field] = ["Date of birth must include a day, month and year."]
    return None


def _details_form(child: Child) -> dict[str, str]:
    """The rectification form filled in with the child's current details."""
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "dob-day": str(child.date_of_birth.day),
        "dob-month": str(child.date_of_birth.month),
        "dob-year": str(child.date_of_birth.year),
        **{name: getattr(child, name) or "" for name in OPTIONAL_DETAILS},
    }


def _page(
    child_id: uuid.UUID,
    errors: FormErrors | None = None,
    form: Any = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    child = referrals.read_child(actor, child_id)
    if status >= 400:
        # A form refused: nothing was changed, but the page shows the child's
        # records again, and those reads stay in the audit trail.
        keep_changes_on_error()
    held = children.held_referrals_about(actor, child)
    may_manage = has_permission(actor, Permission.CHILDREN_MANAGE) and children.may_change_record(
        actor, child
    )
    return render_template(
        "children/detail.html",
        child=child,
        referrals=held,
        may_manage=may_manage,
        may_export=has_permission(actor, Permission.CHILDREN_EXPORT),
        duplicates=children.possible_duplicates(actor, child) if may_manage else None,
        merges=children.merges_into(child) if may_manage else [],
        errors=errors or {},
        form=form if form is not None else _details_form(child),
    ), status


@blp.get("/children/<uuid:child_id>")
@requires(Permission.REFERRALS_READ)
def child_detail(child_id: uuid.UUID) -> tuple[str, int]:
    return _page(child_id)


def _refused(child_id: uuid.UUID, refusal: ServiceError, form: Any = None) -> tuple[str, int]:
    if refusal.status == 404:
        raise refusal  # the 404 page: the record does not exist for the viewer
    return _page(child_id, refusal.errors or {"_schema": [refusal.message]}, form, refusal.status)


@blp.post("/children/<uuid:child_id>/rectify")
@requires(Permission.CHILDREN_MANAGE)
def child_rectify(child_id: uuid.UUID) -> Response | tuple[str, int]:
    """The whole form comes back: required names must stay filled in, an
    optional detail left empty is removed. Only what differs is changed."""
    form = request.form
    errors: FormErrors = {}
    data: dict[str, Any] = {}
    for name, message in REQUIRED_DETAILS.items():
        if form.get(name, "").strip():
            data[name] = form[name]
        else:
            errors[name] = [message]
    for name in OPTIONAL_DETAILS:
        data[name] = form.get(name, "").strip() or None
    born = date_from_parts(form, "dob-", "date_of_birth", errors)
    if born is not None:
        data["date_of_birth"] = born
    elif "date_of_birth" not in errors:
        errors["date_of_birth"] = ["Enter the date of birth."]
    loaded, schema_errors = validate(ChildRectifySchema(), data)
    errors = {**schema_errors, **errors}
    if loaded is None or errors:
        return _page(child_id, errors, form, 422)
    try:
        _child, changed = children.rectify(current_user, child_id, loaded)
    except ServiceError as refusal:
        return _refused(child_id, refusal, form)
    flash(
        "Details corrected: " + ", ".join(name.replace("_", " ") for name in changed) + "."
        if changed
        else "Nothing to correct: the details were the same."
    )
    return redirect(f"/children/{child_id}")


@blp.post("/children/<uuid:child_id>/merge")
@requires(Permission.CHILDREN_MANAGE)
def child_merge(child_id: uuid.UUID) -> Response | tuple[str, int]:
    data, errors = validate(ChildMergeCreateSchema(), form_fields(request.form))
    if data is None:
        return _page(child_id, errors, None, 422)
    try:
        record = children.merge(current_user, child_id, data["duplicate_id"])
    except ServiceError as refusal:
        return _refused(child_id, refusal)
    count = len(record.moved_referral_ids)
    flash(f"Records merged: {count} referral{'s' if count != 1 else ''} moved to this record.")
    return redirect(f"/children/{child_id}")


@blp.post("/children/<uuid:child_id>/merges/<uuid:merge_id>/undo")
@requires(Permission.CHILDREN_MANAGE)
def child_unmerge(child_id: uuid.UUID, merge_id: uuid.UUID) -> Response | tuple[str, int]:
    try:
        record = children.unmerge(current_user, merge_id)
    except ServiceError as refusal:
        return _refused(child_id, refusal)
    flash("Merge undone: the referrals it moved are back on the other record.")
    return redirect(f"/children/{record.survivor_id}")


@blp.get("/children/<uuid:child_id>/export")
@requires(Permission.CHILDREN_EXPORT)
def child_export(child_id: uuid.UUID) -> str:
    """The subject access export as a page to print (or save as PDF)."""
    export = children.export(current_user, child_id)
    references = {str(item.referral.id): item.referral.reference for item in export.referrals}
    references.update(
        {str(record.merged_id): "A record merged into this one" for record in export.merges}
    )
    return render_template("children/export.html", export=export, references=references)
