"""The notifications page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user

from referral_app.policy import Permission, has_permission, requires
from referral_app.services import notifications

blp = Blueprint("web_notifications", __name__)


@blp.app_context_processor
def unread_notifications() -> dict[str, Any]:
    """The unread count beside "Notifications" in the navigation."""

    def count() -> int:
        if not current_user.is_authenticated or not has_permission(
            current_user, Permission.NOTIFICATIONS_READ
        ):
            return 0
        return notifications.unread_count(current_user)

    return {"unread_notifications": count}


@blp.get("/notifications")
@requires(Permission.NOTIFICATIONS_READ)
def notification_list() -> str:
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    items, total = notifications.list_notifications(
        current_user, unread_only=False, page=page_number, page_size=50
    )
    return render_template("notifications.html", items=items, total=total)


@blp.post("/notifications/<uuid:notification_id>/read")
@requires(Permission.NOTIFICATIONS_READ)
def notification_open(notification_id: uuid.UUID) -> Any:
    """Mark read and go to the referral."""
    notifications.mark_read(current_user, notification_id)
    target = request.form.get("referral_id", "")
    try:
        return redirect(f"/referrals/{uuid.UUID(target)}")
    except ValueError:
        return redirect("/notifications")


@blp.post("/notifications/read-all")
@requires(Permission.NOTIFICATIONS_READ)
def notification_read_all() -> Any:
    notifications.mark_read(current_user)
    return redirect("/notifications")
