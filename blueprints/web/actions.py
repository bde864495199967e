"""Actions pages: "My actions" (and, for managers, their agency's), one
action with the form that completes or cancels it, and the form on a
referral's page that adds one (the page itself: referral_detail.py). The
rules are services/actions.py's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.date_input import PARTS, read_date
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.page_links import (
    check_page_exists,
    page_asked,
    page_count,
    pagination,
    query_for,
    showing,
)
from blueprints.web.referral_detail import render_detail
from blueprints.web.sent_once import sent_once
from referral_app.models import ActionStatus, Role, User, uk_today
from referral_app.policy import Permission, requires
from referral_app.services import actions, referrals
from referral_app.services.errors import Conflict, Invalid
from referral_app.templating import uk_date
from schemas.action import ActionCloseSchema, ActionCreateSchema, ActionListQuerySchema

blp = Blueprint("web_actions", __name__)

PAGE_SIZE = 25

ADD_FIELDS = (
    Field("description", "What needs doing", "Enter what needs doing"),
    Field(
        "owner_id",
        "Owner",
        "Select who owns the action",
        own={
            "Choose an active member of staff of the owning agency.": (
                "Select someone who still works in your agency, or anyone in it"
            )
        },
    ),
    Field(
        "due_on",
        "Due date",
        "Enter the date the action is due",
        invalid="Due date must be a real date",
        anchor="due_on-day",
        own={
            "Not in the past.": "Due date must be today or in the future",
            "At most two years ahead.": "Due date must be no more than two years from today",
        },
    ),
)
CLOSE_FIELDS = (
    Field(
        "status",
        "How the action ended",
        "Select whether the action was done or cancelled",
        anchor="status",
    ),
    Field("note", "Note", "Enter what was done, or why the action was cancelled"),
)
FILTER_FIELDS = (
    Field("scope", "Whose actions", "Select whose actions to show", anchor="scope"),
    Field("status", "Status", "Select which actions to show", anchor="filter-status"),
)
DONE_WORDS = {
    ActionStatus.DONE: "Action marked as done",
    ActionStatus.CANCELLED: "Action cancelled",
}


# --- the worklist -----------------------------------------------------------------


@blp.get("/actions")
@requires(Permission.ACTIONS_WORK)
def action_list() -> tuple[str, int]:
    """The viewer's actions, or (managers, `?scope=agency`) their agency's:
    open ones by default, overdue first."""
    actor: User = current_user
    asked = {key: request.args.get(key, "").strip() for key in ("scope", "status")}
    query, problems = validate(
        ActionListQuerySchema(), {key: value for key, value in asked.items() if value}
    )
    http_status = 200
    if query is None:  # a mangled link: the default list, and what was wrong
        query, http_status = ActionListQuerySchema().load({}), 422
    page = page_asked(request.args)
    found = actions.worklist(
        actor, scope=query["scope"], status=query["status"], page=page, page_size=PAGE_SIZE
    )
    if found.total:
        check_page_exists(page, found.total, PAGE_SIZE)
    return render_template(
        "actions/list.html",
        items=found.items,
        total=found.total,
        overdue=found.overdue,
        scope=query["scope"],
        status_shown="all" if query["status"] is None else str(query["status"]),
        is_manager=actor.has_role(Role.MANAGER),
        showing=showing(page, PAGE_SIZE, found.total, "action"),
        pagination=pagination(
            page,
            page_count(found.total, PAGE_SIZE),
            query_for("/actions", asked),
            "Pages of actions",
        ),
        today=uk_today(),
        errors=page_errors(problems, FILTER_FIELDS),
    ), http_status


# --- one action -------------------------------------------------------------------


def _render_action(
    action_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor: User = current_user
    action = actions.read_action(actor, action_id)
    return render_template(
        "actions/detail.html",
        action=action,
        may_close=(
            action.status is ActionStatus.OPEN
            and action.owning_organisation_id == actor.organisation_id
        ),
        today=uk_today(),
        errors=errors or page_errors({}, CLOSE_FIELDS),
        form=form or {},
    ), status


@blp.get("/actions/<uuid:action_id>")
@requires(Permission.ACTIONS_WORK)
def action_detail(action_id: uuid.UUID) -> tuple[str, int]:
    return _render_action(action_id)


@blp.post("/actions/<uuid:action_id>/close")
@requires(Permission.ACTIONS_WORK)
@sent_once
def action_close(action_id: uuid.UUID) -> Response | tuple[str, int]:
    """Complete or cancel the action, with a note (its owning agency only)."""
    loaded, errors = validate(ActionCloseSchema(), form_fields(request.form))
    if loaded is None:
        shown = page_errors(errors, CLOSE_FIELDS)
        return _render_action(action_id, errors=shown, form=request.form, status=422)
    action = actions.get_action(current_user, action_id)
    try:
        actions.close_action(current_user, action, status=loaded["status"], note=loaded["note"])
    except (Conflict, Invalid) as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, CLOSE_FIELDS)
        return _render_action(action_id, errors=shown, form=request.form, status=refusal.status)
    flash(DONE_WORDS[loaded["status"]])
    return redirect(f"/actions/{action_id}")


# --- the form on a referral's page ------------------------------------------------


def _action_input() -> tuple[dict[str, Any], FormErrors]:
    """The form as the API's body: the due date from its three inputs."""
    data = form_fields(request.form, skip=tuple(f"due_on-{part}" for part in PARTS))
    errors: FormErrors = {}
    day, problem = read_date(request.form, "due_on", ADD_FIELDS[2])
    if problem:
        errors["due_on"] = [problem]
    elif day is not None:
        data["due_on"] = day.isoformat()
    return data, errors


@blp.post("/referrals/<uuid:referral_id>/actions")
@requires(Permission.ACTIONS_WORK)
@sent_once
def referral_add_action(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Add an action for the viewer's own agency, to anyone in it or a
    named person."""
    data, date_errors = _action_input()
    data.pop("owning_organisation_id", None)  # the page adds for one's own agency only
    loaded, errors = validate(ActionCreateSchema(), data)
    if loaded is None or date_errors:
        shown = page_errors({**errors, **date_errors}, ADD_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    try:
        action = actions.create_action(
            current_user,
            referral,
            description=loaded["description"],
            owning_organisation_id=current_user.organisation_id,
            due_on=loaded["due_on"],
            owner_id=loaded.get("owner_id"),
        )
    except (Invalid, Conflict) as refusal:
        shown = page_errors(refusal.errors or {"_schema": [refusal.message]}, ADD_FIELDS)
        return render_detail(referral_id, errors=shown, form=request.form, status=refusal.status)
    flash(f"Action added, due {uk_date(action.due_on)}")
    return redirect(f"/referrals/{referral_id}#actions")
