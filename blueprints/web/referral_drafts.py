"""Changing a referral in the browser: the edit page asks again every
question the viewer may still change (`referrals.editable_fields`: the whole
referral while it is the referring agency's draft), with the new form's words
and checks; and submitting a draft, which shows on the edit page what is
missing, each message linking to its field there.

The child's details are not changed here: they are one record across
referrals, corrected on the child's page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, validate
from blueprints.web.choices import CHOICES, label
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.referral_questions import (
    AGENCY,
    REFERRAL_LIMITS,
    REFERRAL_QUESTIONS,
    SUBMIT_NEEDS,
    agencies_to_refer_to,
    agency_refused,
    missing_to_submit,
    referral_answers,
    shown_values,
)
from blueprints.web.sent_once import sent_once
from referral_app.models import Referral, ReferralStatus
from referral_app.policy import Permission, requires
from referral_app.services import lifecycle, referrals
from referral_app.services.errors import Conflict, Forbidden, Invalid
from schemas.referral import ReferralUpdateSchema

blp = Blueprint("web_referral_drafts", __name__)

STALE = "Someone else changed this referral since you opened it. Check the details and save again."
# The referral's version the page was made from: a save made from an older
# one would undo someone else's change without either of them knowing.
VERSION = Field("version", "The referral", STALE, anchor="saved-now")
EDIT_FORM = (VERSION, *REFERRAL_QUESTIONS)


def _editable(referral: Referral) -> frozenset[str]:
    """What the viewer may change now; refuses a referral they may not
    change at all (a closed one, or one they are not working)."""
    editable = referrals.editable_fields(current_user, referral)
    if editable:
        return editable
    if referral.status in referrals.TERMINAL:
        raise Conflict(f"This referral is {label(referral.status).lower()}: it cannot be changed.")
    raise Forbidden("You cannot change this referral now.")


def _saved_values(referral: Referral) -> dict[str, Any]:
    """The edit form filled in with what the referral holds now."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        AGENCY: text(referral.receiving_organisation_id),
        "reason": text(referral.reason),
        "risk_level": text(referral.risk_level),
        "risk_factors": list(referral.risk_factors or []),
        "consent_status": text(referral.consent_status),
        "consent_notes": text(referral.consent_notes),
        "lawful_basis": text(referral.lawful_basis),
        "service_id": text(referral.service_id),
    }


def _edit_page(
    referral: Referral,
    editable: frozenset[str],
    raw_errors: FormErrors,
    values: dict[str, Any],
    status: int = 200,
    *,
    version: int | None = None,
    links_to_edit_page: bool = False,
) -> tuple[str, int]:
    errors = page_errors(raw_errors, EDIT_FORM)
    if links_to_edit_page:
        # Shown in answer to a submission from elsewhere: each message leads
        # to its field on the edit page (here, or opened afresh).
        path = f"/referrals/{referral.id}/edit"
        anchors = {question.name: path + question.href for question in EDIT_FORM}
        errors = PageErrors(errors.items(), anchors)
    return render_template(
        "referrals/edit.html",
        referral=referral,
        draft=referral.status is ReferralStatus.DRAFT,
        editable=editable,
        errors=errors,
        values=values,
        version=referral.version if version is None else version,
        stale="version" in errors,
        agencies=agencies_to_refer_to(current_user) if AGENCY in editable else [],
        limits=REFERRAL_LIMITS,
        **CHOICES,
    ), status


@blp.get("/referrals/<uuid:referral_id>/edit")
@requires(Permission.REFERRALS_UPDATE)
def edit_referral(referral_id: uuid.UUID) -> tuple[str, int]:
    referral = referrals.read_referral(current_user, referral_id)
    return _edit_page(referral, _editable(referral), {}, _saved_values(referral))


def _changes(referral: Referral, editable: frozenset[str]) -> tuple[dict[str, Any], FormErrors]:
    """The edit form as changes for `update_referral`, and what the page
    refuses. The form holds every question it asks: a blank answer clears a
    draft's field, and is refused where a submitted referral needs one."""
    answers, errors = referral_answers(request.form)
    answers = {name: value for name, value in answers.items() if name in editable}
    errors = {name: said for name, said in errors.items() if name in editable}
    loaded: dict[str, Any] = {}
    if answers:
        found, schema_errors = validate(ReferralUpdateSchema(), answers)
        loaded = found or {}
        errors = {**schema_errors, **errors}
    if AGENCY in editable:
        errors.update(agency_refused(answers, agencies_to_refer_to(current_user)))
    draft = referral.status is ReferralStatus.DRAFT
    changes: dict[str, Any] = {}
    for name in sorted(editable):
        if name in errors:
            continue
        if name in loaded:
            changes[name] = loaded[name]
        elif name == "risk_factors":
            changes[name] = []  # none ticked
        elif name == AGENCY:
            errors[name] = ["Choose an active agency."]
        elif name in lifecycle.REQUIRED_TO_SUBMIT and not draft:
            errors[name] = [SUBMIT_NEEDS]
        else:
            changes[name] = None
    return changes, errors


@blp.post("/referrals/<uuid:referral_id>/edit")
@requires(Permission.REFERRALS_UPDATE)
@sent_once
def save_referral(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Save the edit form, and with "Submit referral" submit the draft."""
    referral = referrals.read_referral(current_user, referral_id)
    editable = _editable(referral)
    version = referral.version
    values = shown_values(request.form)
    if request.form.get("version", "").strip() != str(version):
        return _edit_page(referral, editable, {"version": [STALE]}, values, 409)
    changes, errors = _changes(referral, editable)
    submitting = request.form.get("intent") == "submit" and referral.status is ReferralStatus.DRAFT
    if submitting:
        after = {name: changes.get(name, getattr(referral, name)) for name in editable}
        errors = {**missing_to_submit(after), **errors}
    if errors:
        return _edit_page(referral, editable, errors, values, 422)
    try:
        referrals.update_referral(current_user, referral, changes)
        if submitting:
            lifecycle.transition(current_user, referral, lifecycle.Action.SUBMIT)
    except Invalid as refusal:
        # Something changed under the page's checks (an agency closed since):
        # the save is rolled back, the form shown again with the reason.
        refused = refusal.errors or {"_schema": [refusal.message]}
        return _edit_page(referral, editable, refused, values, 422, version=version)
    if submitting:
        flash(f"Referral {referral.reference} submitted.")
    elif referral.status is ReferralStatus.DRAFT:
        flash(f"Referral {referral.reference} saved as a draft.")
    else:
        flash(f"Referral {referral.reference}: changes saved.")
    return redirect(f"/referrals/{referral.id}")


@blp.post("/referrals/<uuid:referral_id>/submit")
@requires(Permission.REFERRALS_TRANSITION)
@sent_once
def submit_referral(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Submit a draft as it is saved. An incomplete one is not submitted:
    the edit page says what is missing, each message linking to its field."""
    referral = referrals.read_referral(current_user, referral_id)
    try:
        lifecycle.transition(current_user, referral, lifecycle.Action.SUBMIT)
    except Invalid as refusal:
        if not refusal.errors:
            raise
        # Refused before anything was written (transition checks first).
        return _edit_page(
            referral,
            _editable(referral),
            refusal.errors,
            _saved_values(referral),
            422,
            links_to_edit_page=True,
        )
    flash(f"Referral {referral.reference} submitted.")
    return redirect(f"/referrals/{referral.id}")
