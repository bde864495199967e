"""Exploitation screenings: the screening tool's definition (versioned),
the screenings of a referral and the practitioner's judgement (see
services/screenings.py). Seen and completed by the agencies that hold the
referral; judged by a manager of the receiving agency or by whoever
completed the screening."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app import screening_tools
from referral_app.models import Screening
from referral_app.policy import Permission, requires
from referral_app.screening_tools import ToolDefinition
from referral_app.services import screenings
from referral_app.services.errors import NotFound
from referral_app.services.scoping import get_held_referral
from schemas.screening import (
    JudgementSchema,
    ScreeningCreateSchema,
    ScreeningSchema,
    ToolDefinitionSchema,
)

# Every indicator of the current tool answered (as the service needs), one
# yes with its evidence.
SCREENING_EXAMPLE = {
    "answers": {
        indicator.id: {"answer": "no"} for indicator in screening_tools.current().indicators
    }
    | {
        "missing_episodes": {
            "answer": "yes",
            "evidence": "Missing from home twice in October, found in Southend each time.",
        }
    },
}

blp = Blueprint(
    "screenings",
    __name__,
    description="Exploitation screenings: a versioned tool of indicators by theme, the level "
    "it indicates, and the practitioner's judgement beside it.",
)


@blp.route("/screening-tools/current")
class CurrentTool(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ToolDefinitionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> ToolDefinition:
        """The current version of the screening tool: its themes and
        indicators, the scoring and the rules that raise the level."""
        return screening_tools.current()


@blp.route("/screening-tools/<version>")
class ToolVersion(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ToolDefinitionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, version: str) -> ToolDefinition:
        """One version of the screening tool (its number, as a screening's
        `tool_version` says): what a screening made with it was asked and
        scored by."""
        # A plain segment, not <int:>: an anonymous caller is refused (401)
        # before anything is said about which versions exist.
        definition = screening_tools.tool(int(version)) if version.isdecimal() else None
        if definition is None:
            raise NotFound("No such version of the screening tool.")
        return definition


@blp.route("/referrals/<uuid:referral_id>/screenings")
class ReferralScreenings(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ScreeningSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[Screening]:
        """The screenings of a referral the caller's agency holds, the latest first."""
        referral = get_held_referral(current_user, referral_id)
        return screenings.list_screenings(current_user, referral)

    @requires(Permission.NOTES_CREATE)
    @blp.arguments(ScreeningCreateSchema, example=SCREENING_EXAMPLE)
    @blp.response(201, ScreeningSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Screening:
        """Complete a screening with the current tool: every indicator
        answered, evidence for each yes (422 otherwise). The indicated level
        is computed; a judgement may be given at once, with a reason when it
        differs (422 without). 409 on a draft."""
        referral = get_held_referral(current_user, referral_id)
        return screenings.complete(
            current_user,
            referral,
            answers=data["answers"],
            judgement_level=data.get("judgement_level"),
            judgement_reason=data.get("judgement_reason"),
        )


@blp.route("/referrals/<uuid:referral_id>/screenings/<uuid:screening_id>")
class ScreeningDetail(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ScreeningSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID, screening_id: uuid.UUID) -> Screening:
        """One screening of a referral the caller's agency holds."""
        referral = get_held_referral(current_user, referral_id)
        return screenings.read_screening(current_user, referral, screening_id)


@blp.route("/referrals/<uuid:referral_id>/screenings/<uuid:screening_id>/judgement")
class Judgement(MethodView):
    @requires(Permission.REFERRALS_UPDATE)
    @blp.arguments(
        JudgementSchema,
        example={
            "judgement_level": "high",
            "judgement_reason": "Seen with an adult known to police for supplying drugs: "
            "more than the answers show.",
        },
    )
    @blp.response(200, ScreeningSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def post(
        self, data: dict[str, Any], referral_id: uuid.UUID, screening_id: uuid.UUID
    ) -> Screening:
        """Record or change the practitioner's judgement: a manager of the
        receiving agency or whoever completed the screening (403 for anyone
        else); a reason when the level differs from the indicated one (422)."""
        referral = get_held_referral(current_user, referral_id)
        screening = screenings.get_screening(current_user, referral, screening_id)
        return screenings.judge(
            current_user,
            screening,
            level=data["judgement_level"],
            reason=data.get("judgement_reason"),
        )
