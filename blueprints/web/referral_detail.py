"""A referral's page: a summary at the top, then tabs for its timeline,
notes (filterable by kind), actions, shares and history, with what the
viewer may do; the forms that stay on the page (a note, marking a note as
significant, a share; the form that adds an action posts to
blueprints/web/actions.py); the printable view and the access log. The
transitions that change its status go through the confirmation pages of
blueprints/web/referral_actions.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.choices import CHOICES
from blueprints.web.date_input import PARTS, read_date
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.models import (
    Note,
    NoteKind,
    Referral,
    ReferralStatus,
    StatusChange,
    User,
    uk_today,
    utcnow,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import (
    actions,
    agreements,
    audit_search,
    casework,
    lifecycle,
    organisations,
    referrals,
)
from referral_app.services.errors import Conflict, Invalid
from referral_app.templating import UK, label, uk_date
from schemas.referral import NoteCreateSchema, NoteSignificanceSchema, ShareCreateSchema

blp = Blueprint("web_referral_detail", __name__)

NOTE_FIELDS = (
    Field("kind", "Kind of note", "Select the kind of note"),
    Field("body", "Note", "Enter the note"),
    Field(
        "occurred_at",
        "Date of contact",
        "Enter the date of contact",
        invalid="Date of contact must be a real date",
        anchor="occurred_at-day",
        own={"Not in the future.": "Date of contact must be today or in the past"},
    ),
    Field("visibility", "Who can see the note", "Select who can see the note"),
    Field(
        "significant",
        "Significant",
        "Select whether to include the note in the child's chronology",
        anchor="significant",
    ),
)
SHARE_FIELDS = (
    Field(
        "organisation_id",
        "Agency",
        "Select the agency to share the referral with",
        own={
            "Choose an active agency.": "Select an agency that is still active",
            "This agency already holds the referral.": "This agency already holds the referral",
        },
    ),
    Field("purpose", "Purpose", "Enter why this agency needs to see the referral"),
    Field("lawful_basis", "Lawful basis", "Select the lawful basis for sharing"),
    # The agreement that covers the share, or why there is none
    # (services.agreements.check_share); its messages without the full stop.
    Field(
        "agreement_id",
        "Information sharing agreement",
        agreements.NEITHER,
        own={message: message.rstrip(".") for message in agreements.SHARE_MESSAGES},
    ),
    Field(
        "no_agreement_reason",
        "Reason for sharing without an agreement",
        "Enter why you are sharing without an agreement",
        own={message: message.rstrip(".") for message in agreements.SHARE_MESSAGES},
    ),
    Field(
        "expires_on",
        "End date",
        "Enter the date the share ends",
        invalid="End date must be a real date",
        anchor="expires_on-day",
        own={
            "Must be in the future.": "End date must be today or in the future",
            f"At most {casework.MAX_SHARE_DAYS} days ahead.": (
                "End date must be no more than a year from today"
            ),
        },
    ),
)
# The notes tab's filter: `?kind=` in the query string.
KIND_FILTER = Field(
    "filter_kind", "Kind of note", "Select a kind of note from the list", anchor="filter-kind"
)
# Notes typed on the page give the day only; midday UK time is the same
# calendar day in UTC, whatever the season.
MIDDAY = time(12, 0)


# --- the forms as the API's bodies ---------------------------------------------------


def _note_input() -> tuple[dict[str, Any], FormErrors]:
    """The note form as the API's body; the date of contact from its three
    inputs (a day in the past at midday UK time; today: now)."""
    data = form_fields(request.form, skip=tuple(f"occurred_at-{part}" for part in PARTS))
    errors: FormErrors = {}
    day, problem = read_date(request.form, "occurred_at", NOTE_FIELDS[2])
    if problem:
        errors["occurred_at"] = [problem]
    elif day is not None:
        today = datetime.now(UK).date()
        if day > today:
            errors["occurred_at"] = ["Not in the future."]
        elif day < today:
            data["occurred_at"] = datetime.combine(day, MIDDAY, UK).isoformat()
    return data, errors


def _share_input() -> tuple[dict[str, Any], FormErrors]:
    """The share form as the API's body: the end date from its three inputs
    (or one ISO `expires_on`), the share lasting to the end of that day, UK
    time."""
    field = next(question for question in SHARE_FIELDS if question.name == "expires_on")
    data = form_fields(request.form, skip=(*(f"expires_on-{part}" for part in PARTS), "expires_on"))
    # The agreement radios: an agreement's id, or "none" with a reason.
    if data.get("agreement_id") == "none":
        del data["agreement_id"]
    elif data.get("agreement_id"):
        data.pop("no_agreement_reason", None)
    errors: FormErrors = {}
    day, problem = read_date(request.form, "expires_on", field)
    iso = request.form.get("expires_on", "").strip()
    if day is None and not problem and iso:
        try:
            day = date.fromisoformat(iso)
        except ValueError:
            problem = field.invalid
    if problem:
        errors["expires_on"] = [problem]
    elif day is not None:
        end = datetime.combine(day + timedelta(days=1), time(0, 0), UK) - timedelta(seconds=1)
        data["expires_at"] = end.astimezone(UTC).isoformat()
    return data, errors


# --- the page -------------------------------------------------------------------


def _kind_filter() -> tuple[NoteKind | None, FormErrors]:
    wanted = request.args.get("kind", "").strip()
    if not wanted:
        return None, {}
    try:
        return NoteKind(wanted), {}
    except ValueError:
        return None, {KIND_FILTER.name: [KIND_FILTER.missing]}


def _timeline(
    notes: list[Note], changes: list[StatusChange]
) -> list[tuple[str, datetime, Note | StatusChange]]:
    """Status changes and notes together, newest first."""
    return sorted(
        [("change", change.at, change) for change in changes]
        + [("note", note.occurred_at, note) for note in notes],
        key=lambda item: item[1],
        reverse=True,
    )


def _share_targets(referral: Referral) -> list[Any]:
    """Active agencies that do not hold the referral as referrer or receiver."""
    return [
        organisation
        for organisation in organisations.list_organisations(page=1, page_size=500)[0]
        if organisation.active
        and organisation.id
        not in (referral.referring_organisation_id, referral.receiving_organisation_id)
    ]


def render_detail(
    referral_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The referral's page, with a refused form's messages and input when
    there are some."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    kind, filter_problem = _kind_filter()
    shown_errors = errors if errors is not None else page_errors({}, NOTE_FIELDS)
    if filter_problem:
        shown_errors = page_errors(filter_problem, (KIND_FILTER,))
        status = 422
    notes = casework.list_notes(actor, referral)
    changes = casework.history(actor, referral)
    shares = casework.list_shares(actor, referral)
    actions_here = [str(action) for action in lifecycle.allowed_actions(actor, referral)]
    may_share = casework.may_manage_shares(actor, referral)
    submitted = referral.status is not ReferralStatus.DRAFT
    may_add_action = submitted and has_permission(actor, Permission.ACTIONS_WORK)
    return render_template(
        "referrals/detail.html",
        referral=referral,
        timeline=_timeline(notes, changes),
        notes=[note for note in notes if kind is None or note.kind == kind],
        note_count=len(notes),
        kind=kind,
        kind_asked=request.args.get("kind", ""),
        changes=list(reversed(changes)),
        shares=shares,
        actions=actions_here,
        assignees=lifecycle.assignable_users(referral) if "assign" in actions_here else [],
        # A draft has no actions (services.actions refuses them).
        agreed_actions=actions.list_actions(actor, referral) if submitted else [],
        may_add_action=may_add_action,
        action_owners=actions.owners_to_choose(actor.organisation_id) if may_add_action else [],
        may_mark_notes=has_permission(actor, Permission.NOTES_CREATE),
        today=uk_today(),
        may_share=may_share,
        share_targets=(
            _share_targets(referral)
            if may_share and referral.status is not ReferralStatus.DRAFT
            else []
        ),
        share_agreements=agreements.in_force_for(actor.organisation_id) if may_share else [],
        may_edit=bool(referrals.editable_fields(actor, referral)),
        may_see_access_log=has_permission(actor, Permission.ACCESS_LOG_READ),
        overdue=lifecycle.is_overdue(referral),
        errors=shown_errors,
        form=form or {},
        now=utcnow(),
        **CHOICES,
    ), status


@blp.get("/referrals/<uuid:referral_id>")
@requires(Permission.REFERRALS_READ)
def referral_detail(referral_id: uuid.UUID) -> tuple[str, int]:
    return render_detail(referral_id)


@blp.get("/referrals/<uuid:referral_id>/print")
@requires(Permission.REFERRALS_READ)
def referral_print(referral_id: uuid.UUID) -> str:
    """One referral on paper: its summary, the notes the viewer may read and
    its history (each read audited, as on its page)."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    return render_template(
        "referrals/print.html",
        referral=referral,
        notes=casework.list_notes(actor, referral),
        changes=casework.history(actor, referral),
        overdue=lifecycle.is_overdue(referral),
        printed_at=utcnow(),
        errors={},
    )


# --- forms on the page ------------------------------------------------------------


@blp.post("/referrals/<uuid:referral_id>/notes")
@requires(Permission.NOTES_CREATE)
@sent_once
def referral_add_note(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    data, date_errors = _note_input()
    loaded, errors = validate(NoteCreateSchema(), data)
    if loaded is None or date_errors:
        shown = page_errors({**errors, **date_errors}, NOTE_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        note = casework.add_note(current_user, referral, **loaded)
    except Invalid as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, NOTE_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=422)
    flash(f"Note added: {label(note.kind)}, dated {uk_date(note.occurred_at)}")
    return redirect(f"/referrals/{referral_id}#notes")


@blp.post("/referrals/<uuid:referral_id>/notes/<uuid:note_id>/significance")
@requires(Permission.NOTES_CREATE)
@sent_once
def referral_mark_note(referral_id: uuid.UUID, note_id: uuid.UUID) -> Response | tuple[str, int]:
    """Mark a note as significant (into the child's chronology), or not."""
    loaded, errors = validate(NoteSignificanceSchema(), form_fields(request.form))
    if loaded is None:
        shown = page_errors(errors, NOTE_FIELDS)
        return render_detail(referral_id, errors=shown, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    casework.mark_significant(current_user, referral, note_id, significant=loaded["significant"])
    flash(
        "Note marked as significant: it is in the child's chronology"
        if loaded["significant"]
        else "Significant mark removed: the note is no longer in the child's chronology"
    )
    return redirect(f"/referrals/{referral_id}#notes")


@blp.post("/referrals/<uuid:referral_id>/shares")
@requires(Permission.SHARES_MANAGE)
@sent_once
def referral_share(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    data, date_errors = _share_input()
    loaded, errors = validate(ShareCreateSchema(), data)
    if loaded is None or date_errors:
        if "expires_at" in errors:
            errors["expires_on"] = errors.pop("expires_at")
        shown = page_errors({**errors, **date_errors}, SHARE_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        grant = casework.share(current_user, referral, **loaded)
    except (Invalid, Conflict) as refusal:
        raw = dict(refusal.errors or {"organisation_id": [refusal.message]})
        if "expires_at" in raw:
            raw["expires_on"] = raw.pop("expires_at")
        shown = page_errors(raw, SHARE_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=refusal.status)
    flash(f"Shared with {grant.organisation.name} until {uk_date(grant.expires_at)}")
    return redirect(f"/referrals/{referral_id}#shares")


@blp.get("/referrals/<uuid:referral_id>/access-log")
@requires(Permission.ACCESS_LOG_READ)
def referral_access_log(referral_id: uuid.UUID) -> str:
    entries = audit_search.access_log(current_user, referral_id)
    return render_template(
        "referrals/access_log.html", entries=entries, referral_id=referral_id, errors={}
    )
