"""The agency directory."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import Organisation
from referral_app.policy import Permission, requires
from referral_app.services import organisations
from schemas.organisation import OrganisationCreateSchema, OrganisationSchema

blp = Blueprint("organisations", __name__, description="The agency directory.")


@blp.route("/organisations")
class Organisations(MethodView):
    @requires(Permission.ORGANISATIONS_READ)
    @blp.response(200, OrganisationSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, pagination_parameters: PaginationParameters) -> list[Organisation]:
        """List the agencies (any signed-in user)."""
        items, total = organisations.list_organisations(
            page=pagination_parameters.page, page_size=pagination_parameters.page_size
        )
        pagination_parameters.item_count = total
        return items

    @requires(Permission.ORGANISATIONS_MANAGE)
    @blp.arguments(
        OrganisationCreateSchema,
        example={
            "code": "essex-youth-justice",
            "name": "Essex Youth Justice Service",
            "kind": "youth_justice",
        },
    )
    @blp.response(201, OrganisationSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 409, 413, 415)
    def post(self, data: dict[str, Any]) -> Organisation:
        """Add an agency (system admins)."""
        return organisations.create_organisation(current_user, **data)
