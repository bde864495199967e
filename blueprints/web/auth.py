"""Sign in and out in the browser."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session
from werkzeug.wrappers import Response

from blueprints.web import load_form, safe_next
from blueprints.web.forms import Field, page_errors
from referral_app.auth_guard import SESSION_KEY
from referral_app.boundary import keep_changes_on_error
from referral_app.models import SessionKind, User
from referral_app.policy import Permission, requires
from referral_app.services import auth
from referral_app.services.errors import AuthenticationFailed
from schemas.auth import CredentialsSchema

blp = Blueprint("web_auth", __name__)

SIGN_IN = (
    Field("email", "Email address", "Enter your email address"),
    Field("password", "Password", "Enter your password"),
    Field("otp", "Security code", "Enter the 6-digit security code from your app"),
)


def begin_browser_session(user: User) -> None:
    """A fresh session for `user`: the old cookie's contents are dropped
    (no session fixation) and a new server-side session is started."""
    session.clear()
    issued = auth.start_session(user, SessionKind.BROWSER)
    session[SESSION_KEY] = issued.secret
    session.permanent = True


@blp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template(
            "login.html", form={}, errors=page_errors({}, SIGN_IN), next_url=next_url
        )
    form = {key: request.form.get(key, "") for key in ("email", "otp")}
    data, errors = load_form(CredentialsSchema(), request.form)
    if data is None:
        shown = page_errors(errors, SIGN_IN)
        return render_template("login.html", form=form, errors=shown, next_url=next_url), 422
    keep_changes_on_error()  # failed attempts count against the account
    try:
        user = auth.authenticate(data["email"], data["password"], data["otp"])
    except AuthenticationFailed as failure:
        shown = page_errors({"email": [failure.message]}, SIGN_IN)
        return render_template("login.html", form=form, errors=shown, next_url=next_url), 401
    begin_browser_session(user)
    return redirect(next_url)


@blp.post("/logout")
@requires(Permission.ACCOUNT_SELF)
def logout() -> Response:
    """End this session on the server, not just in the browser."""
    auth.end_session(g.auth_session)
    session.clear()
    flash("You have signed out.")
    return redirect("/login")
