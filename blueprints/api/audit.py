"""The audit trail, for auditors (their organisation's events) and system admins (all)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import AuditEvent
from referral_app.policy import Permission, requires
from referral_app.services import audit
from schemas.audit import AuditEventQuerySchema, AuditEventSchema, VerificationSchema

blp = Blueprint("audit", __name__, description="The tamper-evident audit trail.")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @requires(Permission.AUDIT_READ)
    @blp.arguments(AuditEventQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(
        self, query: dict[str, Any], pagination_parameters: PaginationParameters
    ) -> list[AuditEvent]:
        """Events, newest first, filtered by actor, organisation, action, record and time."""
        filters = audit.EventFilters.from_input(query)
        events, total = audit.list_events(
            current_user,
            filters,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return events


@blp.route("/audit-events/verify")
class Verify(MethodView):
    @requires(Permission.AUDIT_READ)
    @blp.response(200, VerificationSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> audit.Verification:
        """Recompute the hash chain: `{ok, checked, first_bad_seq}`."""
        return audit.verify_for(current_user)
