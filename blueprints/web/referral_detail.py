"""A referral's page: its summary, timeline, notes and shares, and the
actions the viewer may take on it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.choices import CHOICES, label
from referral_app.models import (
    ReferralStatus,
    User,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import audit, casework, lifecycle, organisations, referrals
from referral_app.services.errors import ServiceError
from schemas.referral import (
    NoteCreateSchema,
    ShareCreateSchema,
    TransitionSchema,
)

blp = Blueprint("web_referral_detail", __name__)


def _detail(referral_id: uuid.UUID, errors: FormErrors | None = None, status: int = 200) -> Any:
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    notes = casework.list_notes(actor, referral)
    changes = casework.history(actor, referral)
    timeline = sorted(
        [("change", change.at, change) for change in changes]
        + [("note", note.occurred_at, note) for note in notes],
        key=lambda item: item[1],
        reverse=True,
    )
    actions = lifecycle.allowed_actions(actor, referral)
    may_share = casework.may_manage_shares(actor, referral)
    shares = casework.list_shares(actor, referral) if may_share else []
    share_targets = (
        [
            org
            for org in organisations.list_organisations(page=1, page_size=500)[0]
            if org.active
            and org.id
            not in (referral.referring_organisation_id, referral.receiving_organisation_id)
        ]
        if may_share and referral.status is not ReferralStatus.DRAFT
        else []
    )
    return render_template(
        "referrals/detail.html",
        referral=referral,
        timeline=timeline,
        actions=[str(action) for action in actions],
        assignees=lifecycle.assignable_users(referral) if "assign" in actions else [],
        shares=shares,
        share_targets=share_targets,
        may_share=may_share,
        may_see_access_log=has_permission(actor, Permission.ACCESS_LOG_READ),
        overdue=lifecycle.is_overdue(referral),
        errors=errors or {},
        form=request.form if errors else {},
        now=datetime.now(UTC),
        **CHOICES,
    ), status


@blp.get("/referrals/<uuid:referral_id>")
@requires(Permission.REFERRALS_READ)
def referral_detail(referral_id: uuid.UUID) -> Any:
    return _detail(referral_id)


def _refused(referral_id: uuid.UUID, refusal: ServiceError) -> Any:
    return _detail(referral_id, refusal.errors or {"_schema": [refusal.message]}, refusal.status)


@blp.post("/referrals/<uuid:referral_id>/transitions")
@requires(Permission.REFERRALS_TRANSITION)
def referral_transition(referral_id: uuid.UUID) -> Any:
    data, errors = validate(TransitionSchema(), form_fields(request.form))
    if data is None:
        return _detail(referral_id, errors, 422)
    referral = referrals.read_referral(current_user, referral_id)
    action = data.pop("action")
    try:
        lifecycle.transition(current_user, referral, action, **data)
    except ServiceError as refusal:
        return _refused(referral_id, refusal)
    flash(f"Referral {referral.reference}: {label(referral.status)}.")
    return redirect(f"/referrals/{referral_id}")


@blp.post("/referrals/<uuid:referral_id>/notes")
@requires(Permission.NOTES_CREATE)
def referral_add_note(referral_id: uuid.UUID) -> Any:
    data, errors = validate(NoteCreateSchema(), form_fields(request.form))
    if data is None:
        return _detail(referral_id, errors, 422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        casework.add_note(current_user, referral, **data)
    except ServiceError as refusal:
        return _refused(referral_id, refusal)
    flash("Note added.")
    return redirect(f"/referrals/{referral_id}#timeline")


@blp.post("/referrals/<uuid:referral_id>/shares")
@requires(Permission.SHARES_MANAGE)
def referral_share(referral_id: uuid.UUID) -> Any:
    fields = form_fields(request.form)
    if fields.get("expires_on"):
        # A date input: the share lasts until the end of that day (UTC).
        try:
            day = datetime.strptime(fields.pop("expires_on"), "%Y-%m-%d").date()
            fields["expires_at"] = datetime.combine(day, time(23, 59, 59), UTC).isoformat()
        except ValueError:
            return _detail(referral_id, {"expires_on": ["Enter a real date."]}, 422)
    data, errors = validate(ShareCreateSchema(), fields)
    if data is None:
        if "expires_at" in errors:
            errors["expires_on"] = errors.pop("expires_at")
        return _detail(referral_id, errors, 422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        casework.share(current_user, referral, **data)
    except ServiceError as refusal:
        if refusal.errors and "expires_at" in refusal.errors:
            refusal.errors["expires_on"] = refusal.errors.pop("expires_at")
        return _refused(referral_id, refusal)
    flash("Shared.")
    return redirect(f"/referrals/{referral_id}#shares")


@blp.post("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/revoke")
@requires(Permission.SHARES_MANAGE)
def referral_revoke_share(referral_id: uuid.UUID, share_id: uuid.UUID) -> Any:
    referral = referrals.read_referral(current_user, referral_id)
    try:
        casework.revoke_share(current_user, referral, share_id)
    except ServiceError as refusal:
        return _refused(referral_id, refusal)
    flash("Share revoked.")
    return redirect(f"/referrals/{referral_id}#shares")


@blp.get("/referrals/<uuid:referral_id>/access-log")
@requires(Permission.ACCESS_LOG_READ)
def referral_access_log(referral_id: uuid.UUID) -> str:
    entries = audit.access_log(current_user, referral_id)
    return render_template("referrals/access_log.html", entries=entries, referral_id=referral_id)
