"""The caller's notifications: new referrals, assignments, outcomes, shares,
overdue triage. They name the referral, never the child."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import Notification
from referral_app.policy import Permission, requires
from referral_app.services import notifications
from schemas.notification import MarkedSchema, NotificationQuerySchema, NotificationSchema

blp = Blueprint("notifications", __name__, description="The caller's notifications.")


@blp.route("/notifications")
class Notifications(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(
        self, query: dict[str, Any], pagination_parameters: PaginationParameters
    ) -> list[Notification]:
        """The caller's notifications, newest first."""
        items, total = notifications.list_notifications(
            current_user,
            unread_only=bool(query.get("unread")),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return items


@blp.route("/notifications/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.response(200, MarkedSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def post(self, notification_id: uuid.UUID) -> dict[str, int]:
        """Mark one notification read."""
        return {"marked": notifications.mark_read(current_user, notification_id)}


@blp.route("/notifications/read-all")
class NotificationsReadAll(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.response(200, MarkedSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def post(self) -> dict[str, int]:
        """Mark all the caller's notifications read."""
        return {"marked": notifications.mark_read(current_user)}
