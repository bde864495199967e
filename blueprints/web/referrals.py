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
from referral_app.boundary import keep_changes_on_error
from referral_app.models import (
    ConsentStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Organisation,
    Outcome,
    Referral,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    User,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import audit, casework, children, lifecycle, organisations, referrals
from referral_app.services.errors import ServiceError
from schemas.referral import (
    ChildInputSchema,
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
        # None: more pages than were counted (services.paging.bounded_count).
        pages=1 if searching else max(1, -(-page.total // PAGE_SIZE)) if page.exact else None,
        searching=searching,
        search_limit=SEARCH_LIMIT,
        overdue=lifecycle.is_overdue,
        **CHOICES,
    )


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
