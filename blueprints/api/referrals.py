"""Referrals: the closed loop, scoped to the agencies that hold them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import Note, Referral, Share, StatusChange
from referral_app.policy import Permission, requires
from referral_app.services import audit_search, casework, lifecycle, referrals, retention
from referral_app.services.errors import Invalid
from referral_app.services.referral_rows import Row
from referral_app.services.scoping import get_held_referral
from schemas.audit import AccessLogEntrySchema
from schemas.referral import (
    LegalHoldSchema,
    NoteCreateSchema,
    NoteSchema,
    NoteSignificanceSchema,
    ReferralCreateSchema,
    ReferralDetailSchema,
    ReferralListQuerySchema,
    ReferralSchema,
    ReferralSearchSchema,
    ReferralUpdateSchema,
    ShareCreateSchema,
    ShareSchema,
    StatusChangeSchema,
    TransitionSchema,
)

blp = Blueprint("referrals", __name__, description="Referrals, their notes, shares and history.")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Retrying with the same key and body returns the first answer; "
            "the same key with another body is refused with 422.",
        }
    ]
}


def etag_data(referral: Referral | Row) -> dict[str, Any]:
    """The ETag follows the referral's version: any change to it changes the tag."""
    return {"id": str(referral.id), "version": referral.version}


@blp.route("/referrals")
class Referrals(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.arguments(ReferralListQuerySchema, location="query")
    @blp.response(200, ReferralSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Referrals the caller's agency holds, newest first. To search by name,
        use POST /referrals/search (names stay out of URLs and logs)."""
        return _page_of(query, pagination_parameters)

    @requires(Permission.REFERRALS_CREATE)
    @blp.arguments(
        ReferralCreateSchema,
        example={
            "child": {
                "first_name": "Jordan",
                "last_name": "Smith",
                "date_of_birth": "2011-04-02",
                "postcode": "CM1 1AA",
                "school": "Chelmsford Academy",
            },
            "receiving_organisation_id": "6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c",
            "reason": "Found with cash and two phones after a missing episode; "
            "older youths seen collecting him from school.",
            "risk_level": "high",
            "risk_factors": ["county_lines", "missing_episodes"],
            "consent_status": "obtained_from_parent",
            "lawful_basis": "public_task",
        },
    )
    @blp.response(201, ReferralDetailSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 409, 413, 415)
    def post(self, data: dict[str, Any]) -> Referral | Response:
        """Create a draft referral about a new child (`child`) or a known one (`child_id`)."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return lifecycle.for_viewer(
                current_user, referrals.create_referral(current_user, **data)
            )
        if not 1 <= len(key) <= 200:
            raise Invalid(
                "The Idempotency-Key is 1 to 200 characters.",
                {IDEMPOTENCY_HEADER: ["1 to 200 characters."]},
            )
        fingerprint = referrals.fingerprint(request.get_json())
        earlier = referrals.find_idempotent_response(current_user, key, fingerprint)
        if earlier is not None:
            # The referral as it is now (read, scoped and audited like any
            # read): never a stored copy, which could outlive an erasure.
            made = referrals.read_referral(current_user, uuid.UUID(earlier.response_body["id"]))
            response = jsonify(
                ReferralDetailSchema().dump(lifecycle.for_viewer(current_user, made))
            )
            response.status_code = earlier.status_code
            response.headers["Idempotent-Replayed"] = "true"
            return response
        referral = referrals.create_referral(current_user, **data)
        referrals.remember_response(current_user, key, fingerprint, 201, {"id": str(referral.id)})
        return lifecycle.for_viewer(current_user, referral)


def _page_of(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Row]:
    page = referrals.list_referrals(
        current_user,
        referrals.ReferralFilters.from_input(query),
        page=pagination_parameters.page,
        page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = page.total
    pagination_parameters.total_exact = page.exact
    return page.items


@blp.route("/referrals/search")
class ReferralSearch(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.arguments(ReferralSearchSchema, example={"q": "Jordan Smith", "status": "in_progress"})
    @blp.response(200, ReferralSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 413, 415)
    def post(self, body: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Search the referrals the caller's agency holds by the child's name
        or the reference (in the body, so names stay out of URLs), with the
        same filters as the list; `page` and `page_size` in the query string."""
        return _page_of(body, pagination_parameters)


@blp.route("/referrals/<uuid:referral_id>")
class ReferralDetail(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.etag
    @blp.response(200, ReferralDetailSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> Row:
        """One referral, with the actions the caller may take. Sends an ETag."""
        row = referrals.read_referral_row(current_user, referral_id)
        blp.set_etag(etag_data(row))
        return lifecycle.row_for_viewer(current_user, row)

    @requires(Permission.REFERRALS_UPDATE)
    @blp.etag
    @blp.arguments(
        ReferralUpdateSchema,
        example={
            "risk_level": "medium",
            "reason": "Found with cash and two phones after a missing episode; "
            "now attending school daily.",
        },
    )
    @blp.response(200, ReferralDetailSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 412, 413, 415, 428)
    def patch(self, data: dict[str, Any], referral_id: uuid.UUID) -> Referral:
        """Change editable fields. Needs `If-Match` with the ETag last read:
        428 without it, 412 when someone else changed the referral since."""
        referral = get_held_referral(current_user, referral_id)
        blp.check_etag(etag_data(referral))
        referrals.update_referral(current_user, referral, data)
        blp.set_etag(etag_data(referral))
        return lifecycle.for_viewer(current_user, referral)


@blp.route("/referrals/<uuid:referral_id>/transitions")
class Transitions(MethodView):
    @requires(Permission.REFERRALS_TRANSITION)
    @blp.arguments(
        TransitionSchema,
        example={
            "action": "close",
            "outcome": "engaged_and_completed",
            "outcome_summary": "Completed twelve weeks of mentoring; back in full-time education.",
        },
    )
    @blp.response(200, ReferralDetailSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 412, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Referral:
        """Move the referral through its lifecycle: submit, withdraw, accept,
        decline, assign, close, reopen. 409 when the status does not allow
        the action; 403 when the caller may not take it."""
        referral = get_held_referral(current_user, referral_id)
        lifecycle.transition(
            current_user,
            referral,
            data.pop("action"),
            **data,
        )
        return lifecycle.for_viewer(current_user, referral)


@blp.route("/referrals/<uuid:referral_id>/legal-hold")
class LegalHold(MethodView):
    @requires(Permission.SHARES_MANAGE)
    @blp.arguments(
        LegalHoldSchema,
        example={
            "legal_hold": True,
            "reason": "Evidence in a live criminal case (operation reference 24/1187).",
        },
    )
    @blp.response(200, ReferralDetailSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Referral:
        """Put the referral on legal hold (retention will not anonymise it or its
        child) or lift the hold, with a reason. Managers of the referring or
        receiving agency."""
        referral = get_held_referral(current_user, referral_id)
        retention.set_legal_hold(
            current_user, referral, on=data["legal_hold"], reason=data["reason"]
        )
        return lifecycle.for_viewer(current_user, referral)


@blp.route("/referrals/<uuid:referral_id>/history")
class History(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, StatusChangeSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[StatusChange]:
        """The referral's status changes, oldest first."""
        return casework.history(current_user, get_held_referral(current_user, referral_id))


@blp.route("/referrals/<uuid:referral_id>/notes")
class Notes(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, NoteSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[Note]:
        """Notes the caller's agency may read: shared ones and its own internal ones."""
        return casework.list_notes(current_user, get_held_referral(current_user, referral_id))

    @requires(Permission.NOTES_CREATE)
    @blp.arguments(
        NoteCreateSchema,
        example={
            "body": "Home visit: Jordan was in; his mother says he has not gone missing "
            "since the last meeting.",
            "kind": "home_visit",
            "visibility": "shared",
            "occurred_at": "2026-12-03T16:30:00+00:00",
        },
    )
    @blp.response(201, NoteSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Note:
        """Add a note (append-only: correct a note with another note)."""
        referral = get_held_referral(current_user, referral_id)
        return casework.add_note(current_user, referral, **data)


@blp.route("/referrals/<uuid:referral_id>/notes/<uuid:note_id>/significance")
class NoteSignificance(MethodView):
    @requires(Permission.NOTES_CREATE)
    @blp.arguments(NoteSignificanceSchema, example={"significant": True})
    @blp.response(200, NoteSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID, note_id: uuid.UUID) -> Note:
        """Mark a note the caller's agency may read as significant (it goes
        into the child's chronology), or remove the mark. The note's text
        never changes."""
        referral = get_held_referral(current_user, referral_id)
        return casework.mark_significant(
            current_user, referral, note_id, significant=data["significant"]
        )


@blp.route("/referrals/<uuid:referral_id>/access-log")
class AccessLog(MethodView):
    @requires(Permission.ACCESS_LOG_READ)
    @blp.response(200, AccessLogEntrySchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[audit_search.AccessLogEntry]:
        """Who read or changed the referral, when and from which agency
        (managers and auditors of an agency that holds it)."""
        return audit_search.access_log(current_user, referral_id)


@blp.route("/referrals/<uuid:referral_id>/shares")
class Shares(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ShareSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[Share]:
        """Shares of the referral (a shared agency sees only its own)."""
        return casework.list_shares(current_user, get_held_referral(current_user, referral_id))

    @requires(Permission.SHARES_MANAGE)
    @blp.arguments(
        ShareCreateSchema,
        example={
            "organisation_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "purpose": "Youth justice worker to join the safety plan.",
            "lawful_basis": "public_task",
            "expires_at": "2027-03-31T23:59:59+00:00",
            "agreement_id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
        },
    )
    @blp.response(201, ShareSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Share:
        """Share with a further agency, for a purpose, on a lawful basis, until a date."""
        referral = get_held_referral(current_user, referral_id)
        return casework.share(current_user, referral, **data)


@blp.route("/referrals/<uuid:referral_id>/shares/<uuid:share_id>")
class ShareDetail(MethodView):
    @requires(Permission.SHARES_MANAGE)
    @blp.response(200, ShareSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404, 409)
    def delete(self, referral_id: uuid.UUID, share_id: uuid.UUID) -> Share:
        """Revoke a share: the agency stops seeing the referral at once."""
        referral = get_held_referral(current_user, referral_id)
        return casework.revoke_share(current_user, referral, share_id)
