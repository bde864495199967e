"""The notifications page: the viewer's notifications, newest first, a page
at a time, each naming its referral by reference with a link to it; mark one
or all read. (Acting on a referral marks its notifications read too: see
services.notifications.mark_read_about.)"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web.page_links import (
    check_page_exists,
    page_asked,
    page_count,
    pagination,
    showing,
)
from blueprints.web.sent_once import sent_once
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import notifications

blp = Blueprint("web_notifications", __name__)

PAGE_SIZE = 25
LIST = "/notifications"


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


def _list_page(page: int) -> str:
    return LIST if page <= 1 else f"{LIST}?page={page}"


@blp.get("/notifications")
@requires(Permission.NOTIFICATIONS_READ)
def notification_list() -> str:
    page = page_asked(request.args)
    items, total = notifications.list_notifications(
        current_user, unread_only=False, page=page, page_size=PAGE_SIZE
    )
    if total:
        check_page_exists(page, total, PAGE_SIZE)
    return render_template(
        "notifications.html",
        items=items,
        total=total,
        page=page,
        showing=showing(page, PAGE_SIZE, total, "notification"),
        pagination=pagination(
            page, page_count(total, PAGE_SIZE), _list_page, "Pages of notifications"
        ),
        unread=notifications.unread_count(current_user),
        subjects=notifications.SUBJECTS,
        errors={},
    )


def _back_to_list() -> Response:
    """The page of the list the form was sent from."""
    page = request.form.get("page", "")
    return redirect(_list_page(int(page) if page.isdigit() else 1))


@blp.post("/notifications/<uuid:notification_id>/read")
@requires(Permission.NOTIFICATIONS_READ)
@sent_once
def notification_open(notification_id: uuid.UUID) -> Response:
    """Mark one read; then to its referral (when the form names it) or back
    to the list."""
    notifications.mark_read(current_user, notification_id)
    target = request.form.get("referral_id", "")
    try:
        return redirect(f"/referrals/{uuid.UUID(target)}")
    except ValueError:
        flash("Marked as read")
        return _back_to_list()


@blp.post("/notifications/read-all")
@requires(Permission.NOTIFICATIONS_READ)
@sent_once
def notification_read_all() -> Response:
    marked = notifications.mark_read(current_user)
    flash(f"{marked} {'notification' if marked == 1 else 'notifications'} marked as read")
    return _back_to_list()
