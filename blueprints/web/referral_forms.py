"""Making a referral: the new-referral form, with the likely records of the
child the agency already holds."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.choices import CHILD_INPUTS, CHOICES
from referral_app.boundary import keep_changes_on_error
from referral_app.models import (
    Organisation,
    ReferralStatus,
    User,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import children, lifecycle, organisations, referrals
from referral_app.services.errors import ServiceError
from schemas.referral import (
    ChildInputSchema,
    ReferralCreateSchema,
)

blp = Blueprint("web_referral_forms", __name__)


# The likely-match step of the new-referral form: which record the referral
# is about ("new" or a child's id), and whether the matches were shown.
CHILD_CHOICE = "child_choice"
MATCHES_SHOWN = "matches_shown"
NEW_CHILD = "new"


def _typed_child(form: Any) -> tuple[dict[str, Any], FormErrors]:
    """The child's details as typed; the date of birth comes as day, month
    and year inputs."""
    child = {
        name: form[f"child-{name}"]
        for name in CHILD_INPUTS
        if form.get(f"child-{name}", "").strip()
    }
    parts = [form.get(f"child-dob-{part}", "").strip() for part in ("year", "month", "day")]
    errors: FormErrors = {}
    if all(parts):
        try:
            child["date_of_birth"] = date(*(int(part) for part in parts)).isoformat()
        except ValueError:
            errors["child.date_of_birth"] = ["Date of birth must be a real date."]
    elif any(parts):
        errors["child.date_of_birth"] = ["Date of birth must include a day, month and year."]
    return child, errors


def _referral_form_data() -> tuple[dict[str, Any], FormErrors]:
    """The new-referral form as the API's create body. A known child chosen
    from the likely matches replaces the typed details (`child_id` instead
    of `child`)."""
    form = request.form
    data = form_fields(form, lists=("risk_factors",), skip=("intent", CHILD_CHOICE, MATCHES_SHOWN))
    for name in (*CHILD_INPUTS, "dob-day", "dob-month", "dob-year"):
        data.pop(f"child-{name}", None)
    choice = form.get(CHILD_CHOICE, "")
    if choice and choice != NEW_CHILD:
        data["child_id"] = choice
        return data, {}
    data["child"], errors = _typed_child(form)
    return data, errors


def _as_form_errors(errors: FormErrors) -> FormErrors:
    """A refused `child_id` is the choice among the likely matches."""
    if "child_id" in errors:
        errors[CHILD_CHOICE] = errors.pop("child_id")
    return errors


def _likely_matches(actor: User, child: dict[str, Any]) -> children.MatchResult | None:
    """Likely records of the child about to be recorded (the agency's own,
    and a count of those held elsewhere), if the actor may search."""
    if not has_permission(actor, Permission.CHILDREN_MATCH):
        return None
    return children.find_matches(
        actor,
        first_name=child["first_name"],
        last_name=child["last_name"],
        date_of_birth=child["date_of_birth"],
        postcode=child.get("postcode"),
    )


def _matches_to_show_again(actor: User) -> children.MatchResult | None:
    """The form showed likely matches and comes back with errors elsewhere:
    show them again, so the choice made among them stays on the page."""
    if not request.form.get(MATCHES_SHOWN):
        return None
    typed, errors = _typed_child(request.form)
    child, _ = validate(ChildInputSchema(), typed)
    if child is None or errors:
        return None
    result = _likely_matches(actor, child)
    return result if result is not None and result.matches else None


def _new_referral_form(
    agencies: list[Organisation],
    errors: FormErrors,
    matches: children.MatchResult | None = None,
    status: int = 422,
) -> tuple[str, int]:
    if matches is not None and status >= 400:
        # The page shows children's records: the search stays in the audit
        # trail though the answer is an error. (Only ever before anything
        # was written: the rest of the request is rolled back with nothing.)
        keep_changes_on_error()
    return render_template(
        "referrals/new.html",
        errors=errors,
        form=request.form,
        agencies=agencies,
        matches=matches,
        **CHOICES,
    ), status


@blp.route("/referrals/new", methods=["GET", "POST"])
@requires(Permission.REFERRALS_CREATE)
def new_referral() -> str | Response | tuple[str, int]:
    """Before a new child is recorded, likely records of them the agency
    holds are offered: the user picks one (the referral is then about that
    record) or confirms none of them is this child."""
    agencies = [
        org
        for org in organisations.list_organisations(page=1, page_size=500)[0]
        if org.active and org.id != current_user.organisation_id
    ]
    if request.method == "GET":
        return render_template(
            "referrals/new.html", errors={}, form={}, agencies=agencies, **CHOICES
        )
    data, errors = _referral_form_data()
    loaded, schema_errors = validate(ReferralCreateSchema(), data)
    errors = _as_form_errors({**schema_errors, **errors})
    if loaded is None or errors:
        return _new_referral_form(agencies, errors, _matches_to_show_again(current_user))
    matches = None
    if "child" in loaded and request.form.get(CHILD_CHOICE) != NEW_CHILD:
        matches = _likely_matches(current_user, loaded["child"])
    if matches is not None and matches.matches:
        asked_before = bool(request.form.get(MATCHES_SHOWN))
        unanswered = ["Choose one of these records, or confirm none of them is this child."]
        return _new_referral_form(
            agencies,
            {CHILD_CHOICE: unanswered} if asked_before else {},
            matches,
            422 if asked_before else 200,
        )
    try:
        referral = referrals.create_referral(current_user, **loaded)
        if request.form.get("intent") == "submit":
            lifecycle.transition(current_user, referral, lifecycle.Action.SUBMIT)
    except ServiceError as refusal:
        return _new_referral_form(
            agencies, _as_form_errors(refusal.errors or {"_schema": [refusal.message]})
        )
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
