"""What a viewer does to a referral from its page: accept, decline,
withdraw, close and reopen it, and revoke a share, each through a page that
says what will happen and to whom before it is done; assign and submit,
straight from the referral's page. After each, the referral's page says what
happened.

The forms post where they always have (POST /referrals/<id>/transitions and
.../shares/<share_id>/revoke, with the API's field names). A refused one
comes back to the page it was sent from with the reasons, never a dead end."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.choices import CHOICES
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.referral_detail import render_detail
from blueprints.web.sent_once import sent_once
from referral_app.models import Referral, ReferralStatus, Share, User
from referral_app.policy import Permission, requires
from referral_app.services import casework, lifecycle, referrals
from referral_app.services.errors import Conflict, Invalid
from referral_app.services.lifecycle import Action
from referral_app.templating import label
from schemas.referral import TransitionSchema

blp = Blueprint("web_referral_actions", __name__)


def _reason(doing: str) -> Field:
    return Field(
        "reason",
        "Reason",
        f"Enter the reason for {doing} the referral",
        own={"Give a reason.": f"Enter the reason for {doing} the referral"},
    )


@dataclass(frozen=True)
class Confirmation:
    """A confirmation page: its question, its button and the fields it holds."""

    action: Action
    question: str
    button: str
    fields: tuple[Field, ...] = ()
    warning: bool = False  # cannot be undone: a warning button and text


CONFIRMATIONS = {
    confirmation.action: confirmation
    for confirmation in (
        Confirmation(Action.ACCEPT, "Accept this referral?", "Accept referral"),
        Confirmation(
            Action.DECLINE,
            "Decline this referral?",
            "Decline referral",
            (_reason("declining"),),
            warning=True,
        ),
        Confirmation(
            Action.WITHDRAW,
            "Withdraw this referral?",
            "Withdraw referral",
            (_reason("withdrawing"),),
            warning=True,
        ),
        Confirmation(
            Action.CLOSE,
            "Close this referral?",
            "Close referral",
            (
                Field(
                    "outcome",
                    "Outcome",
                    "Select the outcome",
                    own={"Choose an outcome.": "Select the outcome"},
                ),
                Field(
                    "outcome_summary",
                    "Summary of the outcome",
                    "Enter a summary of the outcome",
                    own={
                        "Summarise the outcome for the referrer.": "Enter a summary of the outcome"
                    },
                ),
            ),
        ),
        Confirmation(
            Action.REOPEN, "Reopen this referral?", "Reopen referral", (_reason("reopening"),)
        ),
    )
}
ASSIGN_FIELDS = (
    Field(
        "assignee_id",
        "Assign to",
        "Select who to assign the referral to",
        own={
            "Choose a caseworker.": "Select who to assign the referral to",
            "Choose an active caseworker or manager of your agency.": (
                "Select an active caseworker or manager of your agency"
            ),
        },
    ),
)
# Submitting an incomplete draft: what is missing, pointing at the summary.
SUBMIT_FIELDS = tuple(
    Field(
        name,
        question,
        f"Add the {question} before you submit the referral",
        anchor="referral-summary",
        own={
            "Required before the referral is submitted.": (
                f"Add the {question} before you submit the referral"
            )
        },
    )
    for name, question in (
        ("reason", "reason for referral"),
        ("risk_level", "risk level"),
        ("consent_status", "consent"),
        ("lawful_basis", "lawful basis"),
    )
)
ACTION_FIELD = Field("action", "Action", "Choose what to do with the referral from its page")


def consequences(action: Action, referral: Referral) -> list[str]:
    """What taking `action` will do, and who will be told, in plain words."""
    referring = referral.referring_organisation.name
    receiving = referral.receiving_organisation.name
    if action is Action.ACCEPT:
        return [
            f"{receiving} takes the referral on: it becomes accepted, "
            "and you can then assign it to a caseworker.",
            f"{referring} will see on the referral that it was accepted.",
        ]
    if action is Action.DECLINE:
        return [
            "The referral will be declined. It cannot be reopened: "
            f"{referring} would need to make a new referral.",
            f"{referring} will be told the referral was declined, with your reason.",
        ]
    if action is Action.WITHDRAW and referral.status is ReferralStatus.DRAFT:
        return [
            "The draft will be withdrawn and can no longer be submitted.",
            f"It was never sent, so {receiving} has not seen it and will not.",
        ]
    if action is Action.WITHDRAW:
        return [
            "The referral will be withdrawn. It cannot be reopened.",
            f"{receiving} will see on the referral that it was withdrawn, with your reason.",
        ]
    if action is Action.CLOSE:
        return [
            "The referral will be closed with the outcome you choose.",
            f"{referring} will be told the referral was closed, with the outcome and your summary.",
            f"A manager of {receiving} can reopen it later if it is needed.",
        ]
    assignee = referral.assignee.full_name if referral.assignee else None
    return [
        "The referral will be in progress again"
        + (f", assigned to {assignee}." if assignee else "."),
        f"{referring} will be told the referral was reopened, with your reason.",
    ]


def done(action: Action, referral: Referral) -> str:
    """What the referral's page says once `action` is taken."""
    reference = referral.reference
    referring = referral.referring_organisation.name
    return {
        Action.SUBMIT: f"Referral {reference} submitted to {referral.receiving_organisation.name}",
        Action.ACCEPT: f"Referral {reference} accepted",
        Action.DECLINE: f"Declined: {referring} has been told",
        Action.WITHDRAW: f"Referral {reference} withdrawn",
        Action.ASSIGN: f"Assigned to {referral.assignee.full_name if referral.assignee else ''}",
        Action.CLOSE: f"Referral {reference} closed: {referring} has been told the outcome",
        Action.REOPEN: f"Referral {reference} reopened: {referring} has been told",
    }[action]


def _no_longer(action: Action, referral: Referral) -> str:
    past = {
        Action.ACCEPT: "accepted",
        Action.DECLINE: "declined",
        Action.WITHDRAW: "withdrawn",
        Action.CLOSE: "closed",
        Action.REOPEN: "reopened",
    }[action]
    return f"This referral is now {label(referral.status).lower()}, so it cannot be {past}"


# --- the confirmation pages ---------------------------------------------------------


def render_confirm(
    referral_id: uuid.UUID,
    confirmation: Confirmation,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page that asks before an action is taken. An actor who may not
    take it is refused (403); one whose referral has moved on is told so,
    with the way back (409)."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    possible = True
    try:
        lifecycle.check_may_take(actor, referral, confirmation.action)
    except Conflict:
        possible = False
        errors = page_errors({"_schema": [_no_longer(confirmation.action, referral)]}, ())
        status = 409
    return render_template(
        "referrals/confirm.html",
        referral=referral,
        confirmation=confirmation,
        action=str(confirmation.action),
        possible=possible,
        consequences=consequences(confirmation.action, referral),
        errors=errors if errors is not None else page_errors({}, confirmation.fields),
        form=form or {},
        **CHOICES,
    ), status


@blp.get("/referrals/<uuid:referral_id>/confirm/<action>")
@requires(Permission.REFERRALS_TRANSITION)
def referral_confirm(referral_id: uuid.UUID, action: str) -> tuple[str, int]:
    confirmation = CONFIRMATIONS.get(Action(action)) if action in set(Action) else None
    if confirmation is None:
        abort(404)
    return render_confirm(referral_id, confirmation)


def _refused(
    referral_id: uuid.UUID, action: Action, raw: FormErrors, status: int
) -> tuple[str, int]:
    """Back to the page the form was on, with what was wrong."""
    form = request.form
    if action in CONFIRMATIONS:
        confirmation = CONFIRMATIONS[action]
        shown = page_errors(raw, confirmation.fields)
        return render_confirm(referral_id, confirmation, errors=shown, form=form, status=status)
    fields = ASSIGN_FIELDS if action is Action.ASSIGN else SUBMIT_FIELDS
    return render_detail(referral_id, errors=page_errors(raw, fields), form=form, status=status)


@blp.post("/referrals/<uuid:referral_id>/transitions")
@requires(Permission.REFERRALS_TRANSITION)
@sent_once
def referral_transition(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    data, errors = validate(TransitionSchema(), form_fields(request.form))
    named = request.form.get("action", "")
    if named not in set(Action):
        shown = page_errors({"action": errors.get("action", ["?"])}, (ACTION_FIELD,))
        return render_detail(referral_id, errors=shown, form=request.form, status=422)
    action = Action(named)
    if data is None:
        return _refused(referral_id, action, errors, 422)
    referral = referrals.read_referral(current_user, referral_id)
    data.pop("action")
    try:
        lifecycle.transition(current_user, referral, action, **data)
    except (Invalid, Conflict) as refusal:
        return _refused(referral_id, action, refusal.errors or {}, refusal.status)
    flash(done(action, referral))
    return redirect(f"/referrals/{referral_id}")


# --- revoking a share ----------------------------------------------------------------


def render_revoke(
    referral_id: uuid.UUID, share_id: uuid.UUID, *, status: int = 200
) -> tuple[str, int]:
    """The page that asks before a share is revoked (a revoked one: 409, said so)."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    grant: Share = casework.read_share(actor, referral, share_id)
    errors = page_errors({}, ())
    if grant.revoked_at is not None:
        errors = page_errors(
            {"_schema": [f"The share with {grant.organisation.name} is already revoked"]}, ()
        )
        status = 409
    return render_template(
        "referrals/confirm_revoke.html",
        referral=referral,
        share=grant,
        possible=grant.revoked_at is None,
        errors=errors,
    ), status


@blp.get("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/revoke")
@requires(Permission.SHARES_MANAGE)
def referral_confirm_revoke(referral_id: uuid.UUID, share_id: uuid.UUID) -> tuple[str, int]:
    return render_revoke(referral_id, share_id)


@blp.post("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/revoke")
@requires(Permission.SHARES_MANAGE)
@sent_once
def referral_revoke_share(
    referral_id: uuid.UUID, share_id: uuid.UUID
) -> Response | tuple[str, int]:
    referral = referrals.read_referral(current_user, referral_id)
    try:
        grant = casework.revoke_share(current_user, referral, share_id)
    except Conflict:
        return render_revoke(referral_id, share_id, status=409)
    flash(f"Share with {grant.organisation.name} revoked")
    return redirect(f"/referrals/{referral_id}#shares")
