"""Consent pages: a referral's consent (the current status, the history, the
form that records a change, the shares waiting for a decision after a
withdrawal) and the decision about one share. The rules are
services/consent.py's and consent_decisions.py's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.date_input import PARTS, read_date
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.models import UK, ConsentDecision, ConsentStatus, LawfulBasis, User, utcnow
from referral_app.models.consent import ConsentGiver
from referral_app.policy import Permission, requires
from referral_app.services import consent, consent_decisions, referrals
from referral_app.services.errors import Conflict, Invalid
from schemas.consent import TOLD_BY, ConsentChangeCreateSchema, ConsentDecisionSchema

blp = Blueprint("web_consent", __name__)

STATUS_WORDS = {
    ConsentStatus.OBTAINED_FROM_CHILD: "Consent given by the child",
    ConsentStatus.OBTAINED_FROM_PARENT: "Consent given by a parent or carer",
    ConsentStatus.REFUSED: "Consent refused",
    ConsentStatus.NOT_SOUGHT: "Consent not sought",
    ConsentStatus.WITHDRAWN: "Consent withdrawn",
}
GIVER_WORDS = {
    ConsentGiver.CHILD: "The child",
    ConsentGiver.PARENT_OR_CARER: "A parent or carer",
    ConsentGiver.OTHER: "Someone else",
}
METHOD_WORDS = {
    "in_person": "In person",
    "phone": "By phone",
    "letter_or_form": "By letter or a signed form",
    "email": "By email",
    "other": "Another way",
    "on_the_referral": "Recorded on the referral",
}
BASIS_WORDS = {
    LawfulBasis.PUBLIC_TASK: "Public task (UK GDPR Article 6(1)(e))",
    LawfulBasis.LEGAL_OBLIGATION: "Legal obligation (UK GDPR Article 6(1)(c))",
    LawfulBasis.VITAL_INTERESTS: "Vital interests: to protect someone's life (Article 6(1)(d))",
    LawfulBasis.LAW_ENFORCEMENT: (
        "Law enforcement purposes (Data Protection Act 2018 Part 3, police and youth justice)"
    ),
}

CHANGE_FIELDS = (
    Field("status", "Consent", "Select what the family said", anchor="status"),
    Field("given_by", "Who", "Select who gave, refused or withdrew consent", anchor="given_by"),
    Field("method", "How", "Select how they told you", anchor="method"),
    Field(
        "occurred_at",
        "Date they told you",
        "Enter the date they told you",
        invalid="Date they told you must be a real date",
        anchor="occurred_at-day",
        own={
            "The date must be today or in the past.": (
                "Date they told you must be today or in the past"
            )
        },
    ),
    Field(
        "note",
        "Note",
        "Enter a note",
        own={"Say why consent was not sought.": "Enter why consent was not sought"},
    ),
)
DECISION_FIELDS = (
    Field("decision", "Decision", "Select whether to keep sharing or revoke the share"),
    Field(
        "lawful_basis",
        "Lawful basis",
        "Select the lawful basis for sharing without consent",
        anchor="lawful_basis",
        own={
            "Consent was withdrawn: select another lawful basis.": (
                "Select a lawful basis other than consent"
            )
        },
    ),
    Field(
        "reason",
        "Reason",
        "Enter the reason for your decision",
        own={"Say why.": "Enter the reason for your decision"},
    ),
)


# --- the referral's consent ---------------------------------------------------


def _render_consent(
    referral_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    changes = consent.history(actor, referral)
    pending = consent_decisions.pending_for(referral)
    decidable = {
        grant.id for grant in pending if consent_decisions.may_decide(actor, referral, grant)
    }
    return render_template(
        "consent/page.html",
        referral=referral,
        changes=list(reversed(changes)),
        pending=pending,
        decidable=decidable,
        may_record=consent.may_record(actor, referral),
        status_words=STATUS_WORDS,
        giver_words=GIVER_WORDS,
        method_words=METHOD_WORDS,
        methods=TOLD_BY,
        errors=errors or page_errors({}, CHANGE_FIELDS),
        form=form or {},
    ), status


@blp.get("/referrals/<uuid:referral_id>/consent")
@requires(Permission.REFERRALS_READ)
def consent_page(referral_id: uuid.UUID) -> tuple[str, int]:
    return _render_consent(referral_id)


def _change_input() -> tuple[dict[str, Any], FormErrors]:
    """The form as the API's body: the date they told you from its three
    boxes, as the start of that UK day (today: now)."""
    data = form_fields(request.form, skip=tuple(f"occurred_at-{part}" for part in PARTS))
    errors: FormErrors = {}
    day, problem = read_date(request.form, "occurred_at", CHANGE_FIELDS[3])
    if problem:
        errors["occurred_at"] = [problem]
    elif day is not None:
        now = utcnow()
        told = datetime.combine(day, time(0, 0), tzinfo=UK)
        data["occurred_at"] = (now if day == now.astimezone(UK).date() else told).isoformat()
    return data, errors


@blp.post("/referrals/<uuid:referral_id>/consent")
@requires(Permission.REFERRALS_UPDATE)
@sent_once
def consent_record(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Record a change in consent (staff of the referring or receiving agency)."""
    data, date_errors = _change_input()
    loaded, errors = validate(ConsentChangeCreateSchema(), data)
    if loaded is None or date_errors:
        shown = page_errors({**errors, **date_errors}, CHANGE_FIELDS)
        return _render_consent(referral_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        recorded = consent.record_change(current_user, referral, **loaded)
    except (Conflict, Invalid) as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, CHANGE_FIELDS)
        return _render_consent(referral_id, errors=shown, form=request.form, status=refusal.status)
    words = STATUS_WORDS[recorded.change.status]
    if recorded.flagged:
        shares = (
            "1 share now needs a decision by the agency that granted it"
            if recorded.flagged == 1
            else f"{recorded.flagged} shares now need a decision by the agencies that granted them"
        )
        flash(f"{words}: recorded. {shares}")
    else:
        flash(f"{words}: recorded")
    return redirect(f"/referrals/{referral_id}/consent")


# --- the decision about a share --------------------------------------------------


def _render_decision(
    referral_id: uuid.UUID,
    share_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    grant = consent_decisions.read_pending_share(actor, referral, share_id)
    bases = [
        basis for basis in BASIS_WORDS if basis in consent.lawful_bases_for(actor.organisation.kind)
    ]
    return render_template(
        "consent/decision.html",
        referral=referral,
        share=grant,
        bases=[(str(basis), BASIS_WORDS[basis]) for basis in bases],
        errors=errors or page_errors({}, DECISION_FIELDS),
        form=form or {},
    ), status


@blp.get("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/consent-decision")
@requires(Permission.SHARES_MANAGE)
def decision_page(referral_id: uuid.UUID, share_id: uuid.UUID) -> tuple[str, int]:
    return _render_decision(referral_id, share_id)


@blp.post("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/consent-decision")
@requires(Permission.SHARES_MANAGE)
@sent_once
def decision_record(referral_id: uuid.UUID, share_id: uuid.UUID) -> Response | tuple[str, int]:
    """Keep sharing on another lawful basis, or revoke the share now (a
    manager of the agency that granted it)."""
    data = form_fields(request.form)
    if data.get("decision") == ConsentDecision.REVOKE:
        data.pop("lawful_basis", None)  # asked only to keep sharing
    loaded, errors = validate(ConsentDecisionSchema(), data)
    if loaded is None:
        shown = page_errors(errors, DECISION_FIELDS)
        return _render_decision(referral_id, share_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        grant = consent_decisions.decide(current_user, referral, share_id, **loaded)
    except (Conflict, Invalid) as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, DECISION_FIELDS)
        return _render_decision(
            referral_id, share_id, errors=shown, form=request.form, status=refusal.status
        )
    if grant.consent_decision is ConsentDecision.REVOKE:
        flash(f"Share with {grant.organisation.name} revoked")
    else:
        flash(f"Decision recorded: sharing with {grant.organisation.name} continues")
    return redirect(f"/referrals/{referral_id}#shares")
