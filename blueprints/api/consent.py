"""Consent as a history (services/consent.py) and the decision about a
share when consent is withdrawn (services/consent_decisions.py). Every
holder of the referral reads the history; staff of the referring or
receiving agency record changes; a manager of the agency that granted a
share decides what happens to it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.models import Share
from referral_app.policy import Permission, requires
from referral_app.services import consent, consent_decisions
from referral_app.services.scoping import get_held_referral
from schemas.consent import (
    ConsentChangeCreateSchema,
    ConsentChangeSchema,
    ConsentDecisionSchema,
    ConsentHistorySchema,
    RecordedChangeSchema,
)
from schemas.referral import ShareSchema

blp = Blueprint(
    "consent",
    __name__,
    description="Consent as a history: who gave, refused or withdrew it, how and when; "
    "what a withdrawal does to the referral's shares, and the decision about each.",
)


@blp.route("/referrals/<uuid:referral_id>/consent")
class ConsentHistory(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ConsentHistorySchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> dict[str, Any]:
        """The consent history of a referral the caller's agency holds, oldest
        first, and the current status."""
        referral = get_held_referral(current_user, referral_id)
        changes = consent.history(current_user, referral)
        return {"current_status": referral.consent_status, "changes": changes}

    @requires(Permission.REFERRALS_UPDATE)
    @blp.arguments(
        ConsentChangeCreateSchema,
        example={
            "status": "withdrawn",
            "given_by": "parent_or_carer",
            "method": "phone",
            "occurred_at": "2026-11-27T10:30:00+00:00",
            "note": "Mother rang: she no longer wants the youth club told about him.",
        },
    )
    @blp.response(201, RecordedChangeSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> dict[str, Any]:
        """Record a change in consent: staff of the referring or receiving
        agency (403 for a shared agency), not on a draft (409). A withdrawal
        flags every live share and asks each granting agency to decide."""
        referral = get_held_referral(current_user, referral_id)
        recorded = consent.record_change(current_user, referral, **data)
        change = recorded.change
        return {
            **{name: getattr(change, name) for name in ConsentChangeSchema().fields},
            "shares_flagged": recorded.flagged,
        }


@blp.route("/referrals/<uuid:referral_id>/shares/<uuid:share_id>/consent-decision")
class ShareConsentDecision(MethodView):
    @requires(Permission.SHARES_MANAGE)
    @blp.arguments(
        ConsentDecisionSchema,
        example={
            "decision": "continue",
            "lawful_basis": "public_task",
            "reason": "He is still going missing; the youth offending team needs to know "
            "to keep him safe (safeguarding duty, Children Act 2004 s.11).",
        },
    )
    @blp.response(200, ShareSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID, share_id: uuid.UUID) -> Share:
        """Decide what happens to a share after consent was withdrawn:
        `continue` on another lawful basis with a reason, or `revoke` it now.
        A manager of the agency that granted the share (403 for another
        holder); 409 when no decision is pending or it was made."""
        referral = get_held_referral(current_user, referral_id)
        return consent_decisions.decide(current_user, referral, share_id, **data)
