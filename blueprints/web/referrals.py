"""Referral pages: the worklist, list and search, the new-referral form, and
a referral's page with its timeline and the actions the viewer may take.
Same schemas and services as the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from referral_app.models import (
    ConsentStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Outcome,
    Referral,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    User,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import audit, casework, lifecycle, organisations, referrals
from referral_app.services.errors import ServiceError
from schemas.referral import (
    NoteCreateSchema,
    ReferralCreateSchema,
    ReferralFiltersSchema,
    ReferralListQuerySchema,
    ReferralSearchSchema,
    ShareCreateSchema,
    TransitionSchema,
)

blp = Blueprint("web_referrals", __name__)

PAGE_SIZE = 25
CHOICES: dict[str, Any] = {
    "risk_levels": list(RiskLevel),
    "risk_factors": list(RiskFactor),
    "consent_statuses": list(ConsentStatus),
    "lawful_bases": list(LawfulBasis),
    "outcomes": list(Outcome),
    "note_kinds": list(NoteKind),
    "visibilities": list(NoteVisibility),
    "statuses": list(ReferralStatus),
}
CHOICES["options"] = {  # (value, label) pairs for radios and selects
    name: [(str(value), str(value).replace("_", " ").capitalize()) for value in values]
    for name, values in CHOICES.items()
}
CHILD_INPUTS = ("first_name", "last_name", "gender", "address", "postcode", "school")


def label(value: object) -> str:
    return str(value).replace("_", " ").capitalize()


@blp.app_context_processor
def permission_checker() -> dict[str, Any]:
    """`can("referrals:read")` in templates: the navigation follows the policy."""

    def can(name: str) -> bool:
        return bool(current_user.is_authenticated) and has_permission(
            current_user, Permission(name)
        )

    return {"can": can}


@blp.app_template_filter("label")
def label_filter(value: object) -> str:
    return label(value)


@blp.get("/")
@requires(Permission.ACCOUNT_SELF)
def home() -> str:
    """The worklist: what needs the viewer's attention first."""
    actor: User = current_user
    sections: list[tuple[str, str, list[Referral]]] = []
    if has_permission(actor, Permission.REFERRALS_READ):
        if "manager" in actor.roles:
            triage = referrals.list_referrals(
                actor,
                referrals.ReferralFilters(
                    direction="incoming", status=ReferralStatus.SUBMITTED, sort="deadline"
                ),
                page=1,
                page_size=PAGE_SIZE,
            )
            sections.append(("triage", "Awaiting triage", triage.items))
        mine = referrals.list_referrals(
            actor,
            referrals.ReferralFilters(assigned_to_me=True, status=ReferralStatus.IN_PROGRESS),
            page=1,
            page_size=PAGE_SIZE,
        )
        sections.append(("assigned", "Assigned to me", mine.items))
        sent = referrals.list_referrals(
            actor, referrals.ReferralFilters(direction="outgoing"), page=1, page_size=PAGE_SIZE
        )
        sections.append(("sent", "Sent by my agency", sent.items))
    return render_template("home.html", user=actor, sections=sections, overdue=lifecycle.is_overdue)


SEARCH_LIMIT = 100


@blp.route("/referrals", methods=["GET", "POST"])
@requires(Permission.REFERRALS_READ)
def referral_list() -> str | tuple[str, int]:
    """The list with its filters (in the query string: nothing personal). A
    search by name is POSTed, so the name never appears in a URL or a log;
    it shows the first SEARCH_LIMIT matches."""
    searching = request.method == "POST"
    source = request.form if searching else request.args
    filters_in = form_fields(source, skip=("page",))
    schema = (
        (ReferralSearchSchema() if filters_in.get("q") else ReferralFiltersSchema())
        if searching
        else ReferralListQuerySchema()
    )
    data, errors = validate(schema, filters_in)
    page_number = 1 if searching else max(1, request.args.get("page", 1, type=int) or 1)
    if data is None:
        return render_template(
            "referrals/list.html", errors=errors, form=filters_in, page=None, **CHOICES
        ), 422
    page_size = SEARCH_LIMIT if searching else PAGE_SIZE
    page = referrals.list_referrals(
        current_user,
        referrals.ReferralFilters.from_input(data),
        page=page_number,
        page_size=page_size,
    )
    return render_template(
        "referrals/list.html",
        errors={},
        form=filters_in,
        query={key: value for key, value in filters_in.items() if key != "q"},
        page=page,
        page_number=page_number,
        pages=1 if searching else max(1, -(-page.total // PAGE_SIZE)),
        searching=searching,
        search_limit=SEARCH_LIMIT,
        overdue=lifecycle.is_overdue,
        **CHOICES,
    )


def _referral_form_data() -> tuple[dict[str, Any], FormErrors]:
    """The new-referral form as the API's create body. The date of birth
    comes as day, month and year inputs."""
    form = request.form
    data = form_fields(form, lists=("risk_factors",), skip=("intent",))
    child = {name: data.pop(f"child-{name}") for name in CHILD_INPUTS if f"child-{name}" in data}
    parts = [data.pop(f"child-dob-{part}", "").strip() for part in ("year", "month", "day")]
    errors: FormErrors = {}
    if all(parts):
        try:
            child["date_of_birth"] = date(*(int(part) for part in parts)).isoformat()
        except ValueError:
            errors["child.date_of_birth"] = ["Date of birth must be a real date."]
    elif any(parts):
        errors["child.date_of_birth"] = ["Date of birth must include a day, month and year."]
    data["child"] = child
    return data, errors


@blp.route("/referrals/new", methods=["GET", "POST"])
@requires(Permission.REFERRALS_CREATE)
def new_referral() -> str | Response | tuple[str, int]:
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
    errors = {**schema_errors, **errors}
    referral = None
    if loaded is not None and not errors:
        try:
            referral = referrals.create_referral(current_user, **loaded)
            if request.form.get("intent") == "submit":
                lifecycle.transition(current_user, referral, lifecycle.Action.SUBMIT)
        except ServiceError as refusal:
            errors = refusal.errors or {"_schema": [refusal.message]}
    if errors or referral is None:
        return render_template(
            "referrals/new.html",
            errors=errors,
            form=request.form,
            agencies=agencies,
            **CHOICES,
        ), 422
    flash(
        f"Referral {referral.reference} "
        + ("submitted." if referral.status is ReferralStatus.SUBMITTED else "saved as a draft.")
    )
    return redirect(f"/referrals/{referral.id}")


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
