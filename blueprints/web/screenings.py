"""Screening pages: a referral's screenings (the latest level and the
changes over time), the form that completes the current tool, and one
screening with the indicated level, why, and the judgement form. The
rules are services/screenings.py's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, validate
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app import screening_tools
from referral_app.models import ReferralStatus, User
from referral_app.policy import Permission, requires
from referral_app.screening_tools import ANSWER_WORDS, ANSWERS, ToolDefinition
from referral_app.services import referrals, screenings
from referral_app.services.errors import Conflict, Invalid
from schemas.screening import LEVELS, JudgementSchema, ScreeningCreateSchema

blp = Blueprint("web_screenings", __name__)

JUDGEMENT_FIELDS = (
    Field(
        "judgement_level",
        "Your judgement",
        "Select your judgement of the level of risk",
        anchor="judgement_level",
    ),
    Field(
        "judgement_reason",
        "Reason",
        "Enter why your judgement differs from the indicated level",
        own={
            "Give the reason for a judgement that differs from the indicated level.": (
                "Enter why your judgement differs from the indicated level"
            )
        },
    ),
)
LEVEL_WORDS = {"low": "Low", "medium": "Medium", "high": "High"}


def answer_fields(definition: ToolDefinition) -> list[Field]:
    """The form's questions, in the tool's order: each answer, then its evidence."""
    fields: list[Field] = []
    for indicator in definition.indicators:
        question = indicator.question
        fields.append(
            Field(
                f"answers.{indicator.id}",
                question,
                f"Select yes, no or not known for: {question.lower()}",
                anchor=f"answer-{indicator.id}",
                own={
                    "Answer yes, no or not known.": (
                        f"Select yes, no or not known for: {question.lower()}"
                    )
                },
            )
        )
        fields.append(
            Field(
                f"answers.{indicator.id}.evidence",
                "Evidence",
                f"Enter what you saw or were told for: {question.lower()}",
                anchor=f"evidence-{indicator.id}",
                own={
                    "Say what you saw or were told.": (
                        f"Enter what you saw or were told for: {question.lower()}"
                    )
                },
            )
        )
    return fields


def _answers_from_form(definition: ToolDefinition) -> dict[str, Any]:
    """The form as the API's `answers`: an unanswered (or mangled) question
    left out, so the service asks for it."""
    answers: dict[str, Any] = {}
    for indicator in definition.indicators:
        answer = request.form.get(f"answer-{indicator.id}", "")
        if answer not in ANSWERS:
            continue
        given: dict[str, str] = {"answer": answer}
        evidence = request.form.get(f"evidence-{indicator.id}", "").strip()
        if evidence:
            given["evidence"] = evidence
        answers[indicator.id] = given
    return answers


def _schema_errors(errors: FormErrors) -> FormErrors:
    """marshmallow reports a dict's value as "answers.<id>.value.<field>":
    the page's names are "answers.<id>" and "answers.<id>.evidence"."""
    renamed: FormErrors = {}
    for name, messages in errors.items():
        name = name.replace(".value.answer", "").replace(".value.", ".")
        renamed.setdefault(name, []).extend(messages)
    return renamed


# --- a referral's screenings ------------------------------------------------------


@blp.get("/referrals/<uuid:referral_id>/screenings")
@requires(Permission.REFERRALS_READ)
def screening_list(referral_id: uuid.UUID) -> str:
    """The screenings of a held referral: the latest level, and each screening's
    level beside the one before it."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    found = screenings.list_screenings(actor, referral)
    return render_template(
        "screenings/list.html",
        referral=referral,
        screenings=found,
        is_draft=referral.status is ReferralStatus.DRAFT,
        level_words=LEVEL_WORDS,
    )


# --- completing one ---------------------------------------------------------------


def _render_form(
    referral_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    referral = referrals.read_referral(current_user, referral_id)
    definition = screening_tools.current()
    return render_template(
        "screenings/new.html",
        referral=referral,
        tool=definition,
        is_draft=referral.status is ReferralStatus.DRAFT,
        answer_words=ANSWER_WORDS,
        errors=errors or page_errors({}, ()),
        form=form or {},
    ), status


@blp.get("/referrals/<uuid:referral_id>/screenings/new")
@requires(Permission.NOTES_CREATE)
def screening_form(referral_id: uuid.UUID) -> tuple[str, int]:
    return _render_form(referral_id)


@blp.post("/referrals/<uuid:referral_id>/screenings/new")
@requires(Permission.NOTES_CREATE)
@sent_once
def screening_complete(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Complete the current tool: every question answered, evidence for each yes."""
    definition = screening_tools.current()
    fields = answer_fields(definition)
    loaded, errors = validate(ScreeningCreateSchema(), {"answers": _answers_from_form(definition)})
    if loaded is None:
        shown = page_errors(_schema_errors(errors), fields)
        return _render_form(referral_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        screening = screenings.complete(current_user, referral, answers=loaded["answers"])
    except (Conflict, Invalid) as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, fields)
        return _render_form(referral_id, errors=shown, form=request.form, status=refusal.status)
    flash(f"Screening completed: the tool indicates {screening.indicated_level.value} risk")
    return redirect(f"/referrals/{referral_id}/screenings/{screening.id}")


# --- one screening and its judgement ----------------------------------------------


def _render_screening(
    referral_id: uuid.UUID,
    screening_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    screening = screenings.read_screening(actor, referral, screening_id)
    return render_template(
        "screenings/detail.html",
        referral=referral,
        screening=screening,
        tool=screening_tools.tool(screening.tool_version),
        scoring=screenings.explain(screening),
        may_judge=screenings.may_judge(actor, screening),
        answer_words=ANSWER_WORDS,
        level_words=LEVEL_WORDS,
        levels=LEVELS,
        errors=errors or page_errors({}, JUDGEMENT_FIELDS),
        form=form or {},
    ), status


@blp.get("/referrals/<uuid:referral_id>/screenings/<uuid:screening_id>")
@requires(Permission.REFERRALS_READ)
def screening_detail(referral_id: uuid.UUID, screening_id: uuid.UUID) -> tuple[str, int]:
    return _render_screening(referral_id, screening_id)


@blp.post("/referrals/<uuid:referral_id>/screenings/<uuid:screening_id>/judgement")
@requires(Permission.REFERRALS_UPDATE)
@sent_once
def screening_judge(referral_id: uuid.UUID, screening_id: uuid.UUID) -> Response | tuple[str, int]:
    """Record the practitioner's judgement (a manager of the receiving agency,
    or whoever completed the screening), with a reason when it differs."""
    data = {
        key: request.form[key]
        for key in ("judgement_level", "judgement_reason")
        if request.form.get(key, "").strip()
    }
    loaded, errors = validate(JudgementSchema(), data)
    if loaded is None:
        shown = page_errors(errors, JUDGEMENT_FIELDS)
        return _render_screening(
            referral_id, screening_id, errors=shown, form=request.form, status=422
        )
    referral = referrals.read_referral(current_user, referral_id)
    screening = screenings.get_screening(current_user, referral, screening_id)
    try:
        screenings.judge(
            current_user,
            screening,
            level=loaded["judgement_level"],
            reason=loaded.get("judgement_reason"),
        )
    except Invalid as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, JUDGEMENT_FIELDS)
        return _render_screening(
            referral_id, screening_id, errors=shown, form=request.form, status=refusal.status
        )
    flash("Judgement recorded")
    return redirect(f"/referrals/{referral_id}/screenings/{screening_id}")
