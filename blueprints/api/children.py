"""Children: visible to an agency that holds a referral about them."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from blueprints.api import AUTHENTICATED_ERRORS, documents_errors
from referral_app.models import Child
from referral_app.policy import Permission, requires
from referral_app.services import referrals
from schemas.referral import ChildSchema

blp = Blueprint("children", __name__, description="Children who are the subject of referrals.")


@blp.route("/children/<uuid:child_id>")
class ChildDetail(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, ChildSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, child_id: uuid.UUID) -> Child:
        """A child the caller's agency holds a referral about."""
        return referrals.read_child(current_user, child_id)
