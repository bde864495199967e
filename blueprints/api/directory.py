"""The Open Referral UK service directory: diversion services found by type,
age and postcode district (services/directory.py). Any case role may
search it: it lists services, not children, so a search is not audited."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import DirectoryService
from referral_app.policy import Permission, requires
from referral_app.services import directory
from schemas.directory import DirectoryQuerySchema, DirectoryServiceSchema

blp = Blueprint(
    "directory",
    __name__,
    description="The Open Referral UK service directory: diversion services by type, "
    "age and postcode district.",
)


@blp.route("/directory/services")
class Services(MethodView):
    @requires(Permission.DIRECTORY_READ)
    @blp.arguments(DirectoryQuerySchema, location="query")
    @blp.response(200, DirectoryServiceSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Find active services by `type` (a taxonomy term), the child's `age`
        and a `postcode` or postcode district: those whose areas include the
        district, and those with no area limit (`area_limited` false). By
        name. 422 for an age outside 0 to 25 or a postcode that is not one."""
        page = directory.search(
            type_=query.get("type"),
            age=query.get("age"),
            district=query.get("district"),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/directory/services/<uuid:service_id>")
class Service(MethodView):
    @requires(Permission.DIRECTORY_READ)
    @blp.response(200, DirectoryServiceSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, service_id: uuid.UUID) -> DirectoryService:
        """One service of the directory, active or not (a referral may name
        one that has since stopped)."""
        return directory.get_service(service_id)
