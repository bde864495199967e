"""The signed-in user's own account: changing the password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import load_form
from blueprints.web.auth import begin_browser_session
from referral_app.policy import Permission, requires
from referral_app.services import users
from referral_app.services.errors import Invalid
from schemas.auth import PasswordChangeSchema

blp = Blueprint("web_account", __name__)


@blp.route("/account", methods=["GET", "POST"])
@requires(Permission.ACCOUNT_SELF)
def account() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("account.html", errors={})
    data, errors = load_form(PasswordChangeSchema(), request.form)
    if data is not None:
        try:
            users.change_password(current_user, data["current_password"], data["new_password"])
        except Invalid as refusal:
            errors = refusal.errors or {"current_password": [refusal.message]}
    if errors:
        return render_template("account.html", errors=errors), 422
    # Every other session and token of this user has ended; this browser
    # carries on in a new one.
    begin_browser_session(current_user._get_current_object())
    flash("Your password has been changed. You have been signed out everywhere else.")
    return redirect("/account")
