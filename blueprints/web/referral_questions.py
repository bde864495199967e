"""The referral's own questions, asked by the new-referral form
(referral_forms.py) and again by the edit page (referral_drafts.py): their
plain-English messages, the longest answers the schemas take, and the checks
the pages make besides the schema's, so that a form is answered in one round
(the schema refuses a too-long answer before it looks at the others, and
skips its consent check when another field is wrong)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from blueprints.web import FormErrors, form_fields
from blueprints.web.forms import Field
from referral_app.models import Organisation, User
from referral_app.services import lifecycle, organisations
from schemas.referral import ReferralFieldsSchema

# What lifecycle.transition says of a field a draft needs before submitting.
SUBMIT_NEEDS = "Required before the referral is submitted."
NOT_SOUGHT = "not_sought"
AGENCY = "receiving_organisation_id"


def _asked(name: str, label: str, missing: str, **kwargs: Any) -> Field:
    """A question whose answer submitting needs says so in its own words."""
    own = {SUBMIT_NEEDS: missing, **kwargs.pop("own", {})}
    return Field(name, label, missing, own=own, **kwargs)


REFERRAL_QUESTIONS = (
    _asked(
        AGENCY,
        "Agency to refer to",
        "Select the agency to refer to",
        own={
            "Choose an active agency.": "Select the agency to refer to",
            "Choose an agency other than your own.": "Select an agency other than your own",
        },
    ),
    # The directory service the referral is for (optional; services.directory).
    Field(
        "service_id",
        "Service",
        "Select a service from the directory",
        own={
            "Choose a service from the directory that is still running.": (
                "Select a service from the directory that is still running"
            )
        },
    ),
    _asked("reason", "Reason for referral", "Enter the reason for referral"),
    _asked("risk_level", "Risk level", "Select a risk level"),
    _asked(
        "risk_factors",
        "Risk factors",
        "Select the risk factors that apply",
        invalid="Select risk factors from the list",
    ),
    _asked("consent_status", "Consent", "Select whether consent was obtained"),
    _asked(
        "consent_notes",
        "Consent notes",
        "Say why consent was not sought",
        own={"Required when consent was not sought.": "Say why consent was not sought"},
    ),
    _asked("lawful_basis", "Lawful basis", "Select the lawful basis for sharing"),
    Field(
        "special_category_condition",
        "Condition for sensitive information",
        "Select a condition for sensitive information",
        anchor="special_category_condition",
    ),
)
ANSWERS = frozenset(question.name for question in REFERRAL_QUESTIONS)


def max_length(field: ma.fields.Field) -> int | None:
    """The longest text a schema field takes, from its Length validator."""
    limits = [
        validator.max
        for validator in field.validators
        if isinstance(validator, ma.validate.Length) and validator.max is not None
    ]
    return min(limits, default=None)


def limits_of(schema: ma.Schema, names: Collection[str], prefix: str = "") -> dict[str, int]:
    found = {prefix + name: max_length(schema.fields[name]) for name in names}
    return {name: limit for name, limit in found.items() if limit is not None}


# The longest answers the schemas take, by error name: the character counts
# show them, and an answer over one is refused before the schema sees it.
REFERRAL_LIMITS = limits_of(ReferralFieldsSchema(), ("reason", "consent_notes"))


def cut_too_long(data: dict[str, Any], limits: Mapping[str, int], prefix: str = "") -> FormErrors:
    """Takes out of `data` the answers longer than their limit, each with its
    error: the schema refuses a form with one of them before it checks the
    rest, and the page reports every field in one round."""
    errors: FormErrors = {}
    for name, limit in limits.items():
        key = name.removeprefix(prefix)
        value = data.get(key)
        if isinstance(value, str) and len(value) > limit:
            del data[key]
            errors[name] = [f"Longer than maximum length {limit}."]
    return errors


def referral_answers(form: MultiDict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The referral's own answers on a page form, as the schemas take them:
    blank answers left out, the risk factors as a list; and the consent
    notes asked for when consent was not sought (the schema checks that only
    when every other field is right)."""
    data = {
        name: value
        for name, value in form_fields(form, lists=("risk_factors",)).items()
        if name in ANSWERS
    }
    errors = cut_too_long(data, REFERRAL_LIMITS)
    if data.get("consent_status") == NOT_SOUGHT and not data.get("consent_notes"):
        errors.setdefault("consent_notes", ["Say why consent was not sought."])
    return data, errors


def agency_refused(data: Mapping[str, Any], agencies: list[Organisation]) -> FormErrors:
    """An agency the page did not offer (inactive, the user's own, made up)."""
    chosen = data.get(AGENCY)
    if chosen and chosen not in {str(agency.id) for agency in agencies}:
        return {AGENCY: ["Choose an active agency."]}
    return {}


def missing_to_submit(answers: Mapping[str, Any]) -> FormErrors:
    """What a draft with these answers still needs before it is submitted."""
    return {name: [SUBMIT_NEEDS] for name in lifecycle.REQUIRED_TO_SUBMIT if not answers.get(name)}


def agencies_to_refer_to(actor: User) -> list[Organisation]:
    return [
        org
        for org in organisations.list_organisations(page=1, page_size=500)[0]
        if org.active and org.id != actor.organisation_id
    ]


def shown_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """A sent form's answers, to show them again on the page."""
    values: dict[str, Any] = {key: form.get(key, "") for key in form}
    values["risk_factors"] = form.getlist("risk_factors") if isinstance(form, MultiDict) else []
    return values
