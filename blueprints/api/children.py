"""Children: visible to an agency that holds a referral about them. Finding
the same child, merging two records of one child, correcting a child's
details and subject access."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.models import Child, ChildMerge
from referral_app.policy import Permission, requires
from referral_app.services import child_export, child_matching, children, referrals
from schemas.child import (
    ChildExportSchema,
    ChildMatchesSchema,
    ChildMatchQuerySchema,
    ChildMergeCreateSchema,
    ChildMergeSchema,
    ChildRectifySchema,
)
from schemas.referral import ChildSchema

blp = Blueprint("children", __name__, description="Children who are the subject of referrals.")


@blp.route("/children/matches")
class ChildMatches(MethodView):
    @requires(Permission.CHILDREN_MATCH)
    @blp.arguments(
        ChildMatchQuerySchema,
        example={
            "first_name": "Jordan",
            "last_name": "Smith",
            "date_of_birth": "2011-04-02",
            "postcode": "CM1 1AA",
        },
    )
    @blp.response(200, ChildMatchesSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 413, 415)
    def post(self, data: dict[str, Any]) -> child_matching.MatchResult:
        """Likely records of this child among those your agency can see, best
        first, with a score (0-100) and the reasons; and `held_elsewhere`, how
        many likely matches other agencies hold (a count only). Details in the
        body, so names stay out of URLs."""
        return child_matching.find_matches(current_user, **data)


@blp.route("/children/<uuid:child_id>")
class ChildDetail(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ChildSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, child_id: uuid.UUID) -> Child:
        """A child the caller's agency holds a referral about."""
        return referrals.read_child(current_user, child_id)

    @requires(Permission.CHILDREN_MANAGE)
    @blp.arguments(
        ChildRectifySchema,
        example={"last_name": "Smith-Jones", "aliases": ["Jordy"], "school": "Chelmsford Academy"},
    )
    @blp.response(200, ChildSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def patch(self, data: dict[str, Any], child_id: uuid.UUID) -> Child:
        """Correct the child's details: managers of the referring or receiving
        agency of a referral about them (403 for an agency that sees them only
        through a share). The audit trail records which fields changed."""
        child, _changed = children.rectify(current_user, child_id, data)
        return child


@blp.route("/children/<uuid:child_id>/merge")
class ChildMerges(MethodView):
    @requires(Permission.CHILDREN_MANAGE)
    @blp.arguments(
        ChildMergeCreateSchema, example={"duplicate_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}
    )
    @blp.response(201, ChildMergeSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415)
    def post(self, data: dict[str, Any], child_id: uuid.UUID) -> ChildMerge:
        """Merge another record of the same child (`duplicate_id`) into this
        one: its referrals move here, with their history. Both records must be
        visible to your agency, your agency the referring or receiving agency
        of a referral about each (403 when it sees one only through a share),
        and of every referral about the duplicate (409 otherwise)."""
        return children.merge(current_user, child_id, data["duplicate_id"])


@blp.route("/children/merges/<uuid:merge_id>/undo")
class ChildMergeUndo(MethodView):
    @requires(Permission.CHILDREN_MANAGE)
    @blp.response(200, ChildMergeSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404, 409)
    def post(self, merge_id: uuid.UUID) -> ChildMerge:
        """Undo a merge: exactly the referrals it moved go back to the merged
        record (the referring or receiving agency of those referrals)."""
        return children.unmerge(current_user, merge_id)


@blp.route("/children/<uuid:child_id>/export")
class ChildExport(MethodView):
    @requires(Permission.CHILDREN_EXPORT)
    @blp.response(200, ChildExportSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, child_id: uuid.UUID) -> child_export.SubjectAccessExport:
        """Subject access: everything your agency holds about the child (the
        details, its referrals with their history, the notes it may read and
        their shares) and who accessed them. Audited as a disclosure."""
        return child_export.export(current_user, child_id)
