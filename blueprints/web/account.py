"""The signed-in user's own account: changing the password."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, session
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from blueprints.web import load_form
from blueprints.web.auth import begin_browser_session
from referral_app.policy import Permission, requires
from referral_app.services import credentials, users
from referral_app.services.errors import Invalid
from schemas.auth import PasswordChangeSchema, TotpEnrolmentSchema

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


PENDING_TOTP = "totp_pending"


@blp.route("/account/totp", methods=["GET", "POST"])
@requires(Permission.ACCOUNT_SELF)
def totp() -> str | Response | tuple[str, int]:
    """Set up an authenticator app: a QR code and the secret as text, then
    the current password and a code to confirm. The secret waits in this
    browser's session until it is confirmed."""
    secret = session.get(PENDING_TOTP)
    if not isinstance(secret, str):
        secret = credentials.new_totp_secret()
        session[PENDING_TOTP] = secret
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = load_form(TotpEnrolmentSchema(), request.form)
        if data is not None:
            try:
                users.enable_totp(
                    current_user,
                    secret=secret,
                    code=data["otp"],
                    current_password=data["current_password"],
                )
            except Invalid as refusal:
                errors = refusal.errors or {"otp": [refusal.message]}
        if not errors:
            begin_browser_session(current_user._get_current_object())
            flash("Your authenticator app is set up. You have been signed out everywhere else.")
            return redirect("/account")
    uri = credentials.provisioning_uri(secret, current_user.email)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")
    return (
        render_template(
            "account_totp.html",
            errors=errors,
            qr=Markup(qr),  # noqa: S704 - SVG made by segno from our own URI
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            enabled=bool(current_user.totp_secret),
        ),
        (422 if errors else 200),
    )
