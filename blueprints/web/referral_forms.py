"""Making a referral: the new-referral form, with the likely records of the
child the agency already holds.

A form is answered in one round: the date of birth, the schema's checks, the
agency chosen and, for "Submit referral", what submitting needs are all
reported together, one plain message a field (blueprints/web/forms.py; the
referral's own questions are in referral_questions.py, shared with the edit
page)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, validate
from blueprints.web.choices import CHILD_INPUTS, CHOICES
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.referral_questions import (
    ANSWERS,
    REFERRAL_LIMITS,
    REFERRAL_QUESTIONS,
    agencies_to_refer_to,
    agency_refused,
    cut_too_long,
    limits_of,
    missing_to_submit,
    referral_answers,
    shown_values,
)
from blueprints.web.sent_once import sent_once
from referral_app.models import Organisation, ReferralStatus, User
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import child_matching, lifecycle, referrals
from referral_app.services.errors import ServiceError, TooMany
from schemas.referral import ChildInputSchema, ReferralCreateSchema

blp = Blueprint("web_referral_forms", __name__)

# The longest answers about the child the schema takes, by error name.
CHILD_LIMITS = limits_of(ChildInputSchema(), CHILD_INPUTS, "child.")


# The likely-match step: which record the referral is about ("new" or a
# child's id), and whether the matches were shown.
CHILD_CHOICE = "child_choice"
MATCHES_SHOWN = "matches_shown"
NEW_CHILD = "new"
UNANSWERED = "Choose one of these records, or confirm none of them is this child"

DOB = "child.date_of_birth"
DOB_PARTS = ("day", "month", "year")
DOB_NOT_REAL = "Date of birth must be a real date"
DOB_INCOMPLETE = "Date of birth must include a day, month and year"
YEAR_DIGITS = "Year must include 4 numbers"

NEW_FORM = (
    Field(
        CHILD_CHOICE,
        "Child record",
        UNANSWERED,
        own={"No child with this id is visible to you.": UNANSWERED},
    ),
    Field("child.first_name", "First name", "Enter the child's first name"),
    Field("child.last_name", "Last name", "Enter the child's last name"),
    Field(
        DOB,
        "Date of birth",
        "Enter the child's date of birth",
        invalid=DOB_NOT_REAL,
        anchor="child-dob-day",
        own={"Date of birth must not be in the future.": "Date of birth must be in the past"},
    ),
    Field("child.gender", "Gender", "Enter the child's gender"),
    Field("child.address", "Address", "Enter the child's address"),
    Field(
        "child.postcode",
        "Postcode",
        "Enter a real postcode",
        own={"Not a UK postcode.": "Enter a real postcode"},
    ),
    Field("child.school", "School", "Enter the child's school"),
    Field(
        "child",
        "The child",
        "Enter the child's details",
        anchor="child-first_name",
        own={"Give either child or child_id.": "Enter the child's details"},
    ),
    *REFERRAL_QUESTIONS,
)


def _typed_child(form: Mapping[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The child's details as typed; the date of birth comes as day, month
    and year inputs."""
    child = {
        name: form[f"child-{name}"]
        for name in CHILD_INPUTS
        if form.get(f"child-{name}", "").strip()
    }
    errors = cut_too_long(child, CHILD_LIMITS, "child.")
    day, month, year = (form.get(f"child-dob-{part}", "").strip() for part in DOB_PARTS)
    if day and month and year:
        try:
            born = date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # 31 2 2011; a day of twenty digits
            errors[DOB] = [DOB_NOT_REAL]
        else:
            if len(year) != 4:
                errors[DOB] = [YEAR_DIGITS]
            else:
                child["date_of_birth"] = born.isoformat()
    elif day or month or year:
        errors[DOB] = [DOB_INCOMPLETE]
    return child, errors


def _dob_parts_in_error(form: Mapping[str, str], errors: PageErrors) -> list[str]:
    """The inputs of the date of birth to show in error: those left blank
    when only some were given, the year when it is too short, else all."""
    message = errors.get(DOB)
    if not message:
        return []
    if message == YEAR_DIGITS:
        return ["year"]
    blank = [part for part in DOB_PARTS if not form.get(f"child-dob-{part}", "").strip()]
    return blank if message == DOB_INCOMPLETE and blank else list(DOB_PARTS)


def _referral_form_data(agencies: list[Organisation]) -> tuple[dict[str, Any], FormErrors]:
    """The new-referral form as the API's create body, and what the page
    itself refuses. A known child chosen from the likely matches replaces
    the typed details (`child_id` instead of `child`)."""
    data, errors = referral_answers(request.form)
    errors.update(agency_refused(data, agencies))
    choice = request.form.get(CHILD_CHOICE, "")
    if choice and choice != NEW_CHILD:
        data["child_id"] = choice
        return data, errors
    data["child"], child_errors = _typed_child(request.form)
    return data, {**errors, **child_errors}


def _as_form_errors(errors: FormErrors) -> FormErrors:
    """A refused `child_id` is the choice among the likely matches."""
    if "child_id" in errors:
        errors[CHILD_CHOICE] = errors.pop("child_id")
    return errors


def _likely_matches(actor: User, child: dict[str, Any]) -> child_matching.MatchResult | None:
    """Likely records of the child about to be recorded (the agency's own,
    and a count of those held elsewhere), if the actor may search."""
    if not has_permission(actor, Permission.CHILDREN_MATCH):
        return None
    return child_matching.find_matches(
        actor,
        first_name=child["first_name"],
        last_name=child["last_name"],
        date_of_birth=child["date_of_birth"],
        postcode=child.get("postcode"),
    )


def _matches_to_show_again(actor: User) -> child_matching.MatchResult | None:
    """The form showed likely matches and comes back with errors elsewhere:
    show them again, so the choice made among them stays on the page."""
    if not request.form.get(MATCHES_SHOWN):
        return None
    typed, errors = _typed_child(request.form)
    child, _ = validate(ChildInputSchema(), typed)
    if child is None or errors:
        return None
    try:
        result = _likely_matches(actor, child)
    except TooMany:
        return None  # the choice made stays in the form (new.html), unshown
    return result if result is not None and result.matches else None


def _new_referral_form(
    agencies: list[Organisation],
    raw_errors: FormErrors,
    matches: child_matching.MatchResult | None = None,
    status: int = 422,
) -> tuple[str, int]:
    errors = page_errors(raw_errors, NEW_FORM)
    form = request.form if request.method == "POST" else MultiDict()
    return render_template(
        "referrals/new.html",
        errors=errors,
        values=shown_values(form),
        dob_error_parts=_dob_parts_in_error(form, errors),
        agencies=agencies,
        matches=matches,
        editable=ANSWERS,
        limits=REFERRAL_LIMITS,
        **CHOICES,
    ), status


@blp.get("/referrals/new")
@requires(Permission.REFERRALS_CREATE)
def new_referral() -> tuple[str, int]:
    return _new_referral_form(agencies_to_refer_to(current_user), {}, status=200)


@blp.post("/referrals/new")
@requires(Permission.REFERRALS_CREATE)
@sent_once
def make_referral() -> Response | tuple[str, int]:
    """Before a new child is recorded, likely records of them the agency
    holds are offered: the user picks one (the referral is then about that
    record) or confirms none of them is this child."""
    agencies = agencies_to_refer_to(current_user)
    data, own_errors = _referral_form_data(agencies)
    loaded, schema_errors = validate(ReferralCreateSchema(), data)
    refused = _as_form_errors({**schema_errors, **own_errors})
    submitting = request.form.get("intent") == "submit"
    incomplete = missing_to_submit(data) if submitting else {}
    if loaded is None or refused:
        errors = {**incomplete, **refused}
        return _new_referral_form(agencies, errors, _matches_to_show_again(current_user))
    matches = None
    if "child" in loaded and request.form.get(CHILD_CHOICE) != NEW_CHILD:
        try:
            matches = _likely_matches(current_user, loaded["child"])
        except TooMany as refusal:
            # Not a thing to make without looking for the child first: the
            # answers stay on the page, to send again later.
            return _new_referral_form(agencies, {"_schema": [refusal.message]}, status=429)
    if matches is not None and matches.matches:
        # A question of its own: asked even while other answers are missing.
        asked = dict(incomplete)
        if request.form.get(MATCHES_SHOWN):
            asked[CHILD_CHOICE] = [UNANSWERED]
        return _new_referral_form(agencies, asked, matches, 422 if asked else 200)
    if incomplete:
        # The choice among the matches, if one was made, is kept on the page.
        return _new_referral_form(agencies, incomplete)
    try:
        referral = referrals.create_referral(current_user, **loaded)
        if submitting:
            lifecycle.transition(current_user, referral, lifecycle.Action.SUBMIT)
    except ServiceError as refusal:
        errors = _as_form_errors(refusal.errors or {"_schema": [refusal.message]})
        # A record the agency cannot see is refused before anything is
        # written: the matches it could choose from are shown again.
        again = _matches_to_show_again(current_user) if CHILD_CHOICE in errors else None
        return _new_referral_form(agencies, errors, again)
    flash(
        f"Referral {referral.reference} "
        + ("submitted." if referral.status is ReferralStatus.SUBMITTED else "saved as a draft.")
    )
    if matches is not None and matches.held_elsewhere:
        count = matches.held_elsewhere
        flash(
            f"{count} likely record{'s' if count != 1 else ''} of this child "
            f"{'are' if count != 1 else 'is'} held by other agencies; you cannot see "
            f"{'them' if count != 1 else 'it'}."
        )
    return redirect(f"/referrals/{referral.id}")
