"""A child's page: their details, the referrals the viewer's agency holds
about them, and for managers the forms to correct the details, merge another
record of the same child into this one (or undo a merge), each merge and
undo through a page that says what will happen first; and the printable
subject access export. Same schemas and services as the API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import validate
from blueprints.web.date_input import parts_of, read_date
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.models import Child, User
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import child_export, child_matching, children, referrals
from referral_app.services.errors import Forbidden, NotFound, ServiceError
from schemas.child import ChildMergeCreateSchema, ChildRectifySchema

blp = Blueprint("web_children", __name__)

# Why a record is a likely match, in words (reasons from services.child_likeness.score).
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

# The correction form, in page order (the schema's own messages reworded).
RECTIFY = (
    Field("first_name", "First name", "Enter the child's first name"),
    Field("last_name", "Last name", "Enter the child's last name"),
    Field(
        "date_of_birth",
        "Date of birth",
        "Enter the child's date of birth",
        invalid="Date of birth must be a real date",
        anchor="dob-day",
        own={"Date of birth must not be in the future.": "Date of birth must be in the past"},
    ),
    Field("gender", "Gender", "Enter the child's gender"),
    Field("address", "Address", "Enter the child's address"),
    Field(
        "postcode",
        "Postcode",
        "Enter a real postcode",
        own={"Not a UK postcode.": "Enter a real postcode"},
    ),
    Field("school", "School", "Enter the child's school"),
    # A refusal of the correction as a whole (a record anonymised meanwhile).
    Field("record", "The record", "Check the details and try again", anchor="rectify-heading"),
)
ASKED = {field.name: field for field in RECTIFY}
REQUIRED_DETAILS = ("first_name", "last_name")
OPTIONAL_DETAILS = ("gender", "address", "postcode", "school")

SAME_RECORD = "Select another record: a record cannot be merged into itself"
MERGE = (
    Field(
        "duplicate_id",
        "The record to merge",
        "Select the record to merge into this one",
        own={"Choose another record of the same child.": SAME_RECORD},
    ),
)
# Undoing a merge has no field: a refusal is about the merges listed.
UNMERGE = (Field("merge", "The merge", "Select a merge to undo", anchor="merges-heading"),)


@blp.app_template_filter("match_reason")
def match_reason(reason: str) -> str:
    return MATCH_REASONS.get(reason, reason.replace("_", " "))


def _details_form(child: Child) -> dict[str, str]:
    """The correction form filled in with the child's current details."""
    born = parts_of(child.date_of_birth)
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        **{f"dob-{part}": value for part, value in born.items()},
        **{name: getattr(child, name) or "" for name in OPTIONAL_DETAILS},
    }


def _page(
    child_id: uuid.UUID,
    errors: PageErrors | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    child = referrals.read_child(actor, child_id)
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
        duplicates=child_matching.possible_duplicates(actor, child) if may_manage else None,
        merges=children.merges_into(child) if may_manage else [],
        errors=errors if errors is not None else page_errors({}, RECTIFY),
        form=form if form is not None else _details_form(child),
    ), status


@blp.get("/children/<uuid:child_id>")
@requires(Permission.REFERRALS_READ)
def child_detail(child_id: uuid.UUID) -> tuple[str, int]:
    return _page(child_id)


def _refused(
    child_id: uuid.UUID,
    refusal: ServiceError,
    fields: tuple[Field, ...],
    about: str,
    form: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    """The child's page again with a service's refusal as the form's error
    (under the field `about` when the service names none)."""
    if refusal.status == 404:
        raise refusal  # the 404 page: the record does not exist for the viewer
    raw = refusal.errors or {about: [refusal.message]}
    return _page(child_id, page_errors(raw, fields), form, refusal.status)


def _corrections(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The whole form as the corrections schema takes it, and what is wrong
    before the schema looks (names left empty, a date of birth not a date)."""
    problems: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    for name in REQUIRED_DETAILS:
        if str(form.get(name, "")).strip():
            data[name] = form[name]
        else:
            problems[name] = [ASKED[name].missing]
    for name in OPTIONAL_DETAILS:
        data[name] = str(form.get(name, "")).strip() or None
    born, problem = read_date(form, "dob", ASKED["date_of_birth"])
    if problem:
        problems["date_of_birth"] = [problem]
    elif born is None:
        problems["date_of_birth"] = [ASKED["date_of_birth"].missing]
    else:
        data["date_of_birth"] = born.isoformat()
    return data, problems


@blp.post("/children/<uuid:child_id>/rectify")
@requires(Permission.CHILDREN_MANAGE)
@sent_once
def child_rectify(child_id: uuid.UUID) -> Response | tuple[str, int]:
    """The whole form comes back: required names must stay filled in, an
    optional detail left empty is removed. Only what differs is changed."""
    form = request.form
    data, problems = _corrections(form)
    loaded, schema_errors = validate(ChildRectifySchema(), data)
    if schema_errors:
        # The schema refuses text too long (or with NUL) before it looks at
        # the rest: look again without it, to list every problem in one round.
        rest = {name: value for name, value in data.items() if name not in schema_errors}
        schema_errors = {**validate(ChildRectifySchema(), rest)[1], **schema_errors}
    if loaded is None or problems:
        return _page(child_id, page_errors({**schema_errors, **problems}, RECTIFY), form, 422)
    try:
        _child, changed = children.rectify(current_user, child_id, loaded)
    except ServiceError as refusal:
        return _refused(child_id, refusal, RECTIFY, "record", form)
    flash(
        "Details corrected: " + ", ".join(name.replace("_", " ") for name in changed) + "."
        if changed
        else "Nothing to correct: the details were the same."
    )
    return redirect(f"/children/{child_id}")


def _chosen_duplicate(
    child_id: uuid.UUID, answers: Mapping[str, str]
) -> tuple[uuid.UUID | None, PageErrors]:
    """The record chosen to merge into this one, or the message for the choice."""
    given = str(answers.get("duplicate_id", "")).strip()
    data, errors = validate(ChildMergeCreateSchema(), {"duplicate_id": given} if given else {})
    if data is None:
        return None, page_errors(errors, MERGE)
    if data["duplicate_id"] == child_id:
        return None, page_errors({"duplicate_id": [SAME_RECORD]}, MERGE)
    return data["duplicate_id"], page_errors({}, MERGE)


def _record_to_change(actor: User, child_id: uuid.UUID) -> Child:
    """A child whose record the actor's agency may change (read, and so
    audited): 404 when not visible, 403 when seen only through a share (as
    the services refuse the change itself)."""
    child = referrals.read_child(actor, child_id)
    if not children.may_change_record(actor, child):
        raise Forbidden(
            "Only the referring or receiving agency of a referral about this child can "
            "change the child's record; a share gives sight of the referral only."
        )
    return child


@blp.get("/children/<uuid:child_id>/merge")
@requires(Permission.CHILDREN_MANAGE)
def child_merge_check(child_id: uuid.UUID) -> tuple[str, int]:
    """What merging the chosen record into this one will do, before it is done:
    which record stays, and which referrals move to it."""
    actor: User = current_user
    child = _record_to_change(actor, child_id)
    duplicate_id, errors = _chosen_duplicate(child_id, request.args)
    if duplicate_id is None:
        return _page(child_id, errors, None, 422)
    duplicate = referrals.read_child(actor, duplicate_id)
    return render_template(
        "children/merge.html",
        child=child,
        duplicate=duplicate,
        staying=children.held_referrals_about(actor, child),
        moving=children.held_referrals_about(actor, duplicate),
        errors=errors,
    ), 200


@blp.post("/children/<uuid:child_id>/merge")
@requires(Permission.CHILDREN_MANAGE)
@sent_once
def child_merge(child_id: uuid.UUID) -> Response | tuple[str, int]:
    duplicate_id, errors = _chosen_duplicate(child_id, request.form)
    if duplicate_id is None:
        return _page(child_id, errors, None, 422)
    try:
        record = children.merge(current_user, child_id, duplicate_id)
    except ServiceError as refusal:
        return _refused(child_id, refusal, MERGE, "duplicate_id")
    count = len(record.moved_referral_ids)
    flash(f"Records merged: {count} referral{'s' if count != 1 else ''} moved to this record.")
    return redirect(f"/children/{child_id}")


@blp.get("/children/<uuid:child_id>/merges/<uuid:merge_id>/undo")
@requires(Permission.CHILDREN_MANAGE)
def child_unmerge_check(child_id: uuid.UUID, merge_id: uuid.UUID) -> str:
    """What undoing a merge into this record will do: the referrals it moved
    go back to the other record, which is a record of its own again."""
    actor: User = current_user
    child = _record_to_change(actor, child_id)
    record = next((merge for merge in children.merges_into(child) if merge.id == merge_id), None)
    if record is None:
        raise NotFound("No such merge.")
    moved = set(record.moved_referral_ids)
    held = children.held_referrals_about(actor, child)
    return render_template(
        "children/unmerge.html",
        child=child,
        record=record,
        moving=[referral for referral in held if str(referral.id) in moved],
        staying=[referral for referral in held if str(referral.id) not in moved],
        errors=page_errors({}, UNMERGE),
    )


@blp.post("/children/<uuid:child_id>/merges/<uuid:merge_id>/undo")
@requires(Permission.CHILDREN_MANAGE)
@sent_once
def child_unmerge(child_id: uuid.UUID, merge_id: uuid.UUID) -> Response | tuple[str, int]:
    try:
        record = children.unmerge(current_user, merge_id)
    except ServiceError as refusal:
        return _refused(child_id, refusal, UNMERGE, "merge")
    count = len(record.moved_referral_ids)
    flash(
        f"Merge undone: {count} referral{'s' if count != 1 else ''} moved back to the other "
        "record, which is a record of its own again."
    )
    return redirect(f"/children/{record.survivor_id}")


@blp.post("/children/<uuid:child_id>/export")
@requires(Permission.CHILDREN_EXPORT)
def subject_access_export(child_id: uuid.UUID) -> str:
    """The subject access export as a page to print (or save as PDF). A POST
    with the CSRF token: the export is an audited disclosure, which no other
    site may make a browser ask for."""
    export = child_export.export(current_user, child_id)
    references = {str(item.referral.id): item.referral.reference for item in export.referrals}
    references.update(
        {str(record.merged_id): "A record merged into this one" for record in export.merges}
    )
    return render_template("children/export.html", export=export, references=references)
