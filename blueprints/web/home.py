"""The signed-in home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from referral_app.policy import Permission, permissions_of, requires

blp = Blueprint("web_home", __name__)


@blp.get("/")
@requires(Permission.ACCOUNT_SELF)
def index() -> str:
    return render_template(
        "home.html", user=current_user, permissions=sorted(permissions_of(current_user))
    )
