"""A child's chronology: see services/chronology.py."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.policy import Permission, requires
from referral_app.services import chronology
from schemas.chronology import ChronologyQuerySchema, ChronologySchema

blp = Blueprint(
    "chronology",
    __name__,
    description="One chronology per child: the dated events of every referral about the "
    "child that your agency holds, in date order.",
)


@blp.route("/children/<uuid:child_id>/chronology")
class ChildChronology(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.arguments(ChronologyQuerySchema, location="query")
    @blp.response(200, ChronologySchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, filters: dict[str, Any], child_id: uuid.UUID) -> chronology.Chronology:
        """The child's chronology: referrals made, withdrawn, triaged, closed
        with their outcome and reopened; contacts, home visits, meetings and
        interventions (notes, at their date of contact) and notes marked
        significant; MACE meetings' decisions; actions agreed, done and
        cancelled. Each with the agency that recorded it, from every referral
        about the child your agency holds; other agencies' internal notes
        never. Filtered by UK calendar days (`from`, `to`) and `kind`.
        Audited as a read of each referral it draws on. 404 for a child your
        agency holds no referral about."""
        return chronology.chronology(current_user, child_id, **filters)
