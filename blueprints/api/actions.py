"""Actions: what an agency agreed to do about a referral, by a date (see
services/actions.py). Seen by the agencies that hold the referral; closed
by the agency that owns it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import Action
from referral_app.policy import Permission, requires
from referral_app.services import actions
from referral_app.services.scoping import get_held_referral
from schemas.action import (
    ActionCloseSchema,
    ActionCreateSchema,
    ActionListQuerySchema,
    ActionSchema,
)

blp = Blueprint(
    "actions",
    __name__,
    description="Actions on referrals: an owning agency (and optionally a named owner), "
    "a due date, open until the owning agency completes or cancels them.",
)


@blp.route("/referrals/<uuid:referral_id>/actions")
class ReferralActions(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ActionSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[Action]:
        """The actions on a referral the caller's agency holds: open ones
        first, by due date."""
        return actions.list_actions(current_user, get_held_referral(current_user, referral_id))

    @requires(Permission.ACTIONS_WORK)
    @blp.arguments(
        ActionCreateSchema,
        example={
            "description": "Book a first meeting with the child and their mother at school.",
            "due_on": "2026-12-07",
            "owning_organisation_id": "6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c",
        },
    )
    @blp.response(201, ActionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Action:
        """Add an action for the caller's own agency (the owning agency must
        hold the referral; a named owner must be its active staff; the due
        date today or later). 409 on a draft."""
        referral = get_held_referral(current_user, referral_id)
        return actions.create_action(
            current_user,
            referral,
            description=data["description"],
            owning_organisation_id=data.get("owning_organisation_id", current_user.organisation_id),
            due_on=data["due_on"],
            owner_id=data.get("owner_id"),
        )


@blp.route("/actions")
class Worklist(MethodView):
    @requires(Permission.ACTIONS_WORK)
    @blp.arguments(ActionListQuerySchema, location="query")
    @blp.response(200, ActionSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """The caller's actions (`scope=mine`: owned by name) or, for managers,
        their agency's (`scope=agency`), on referrals the agency still holds:
        open ones first, the most overdue first."""
        page = actions.worklist(
            current_user,
            scope=query["scope"],
            status=query["status"],
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/actions/<uuid:action_id>")
class ActionDetail(MethodView):
    @requires(Permission.ACTIONS_WORK)
    @blp.response(200, ActionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, action_id: uuid.UUID) -> Action:
        """One action on a referral the caller's agency holds."""
        return actions.read_action(current_user, action_id)


@blp.route("/actions/<uuid:action_id>/close")
class CloseAction(MethodView):
    @requires(Permission.ACTIONS_WORK)
    @blp.arguments(
        ActionCloseSchema,
        example={
            "status": "done",
            "note": "Met Jordan and his mother at school on 3 December; "
            "he agreed to weekly sessions.",
        },
    )
    @blp.response(200, ActionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], action_id: uuid.UUID) -> Action:
        """Complete (`done`) or cancel an open action, with a note. Only the
        owning agency (403 for another holder); 409 when already closed."""
        action = actions.get_action(current_user, action_id)
        return actions.close_action(current_user, action, status=data["status"], note=data["note"])
