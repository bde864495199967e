"""The signed-in user's own account: their details, changing the password,
setting up an authenticator app, and signing out everywhere else."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, session
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, load_form
from blueprints.web.admin_forms import role_names
from blueprints.web.auth import begin_browser_session
from blueprints.web.forms import Field, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.policy import Permission, requires
from referral_app.services import credentials, users
from referral_app.services.errors import Invalid
from schemas.auth import PasswordChangeSchema, TotpEnrolmentSchema

blp = Blueprint("web_account", __name__)

Page = str | tuple[str, int]

_CURRENT_PASSWORD = Field(
    "current_password",
    "Current password",
    "Enter your current password",
    # The service's words when the password given is not theirs.
    own={"Enter your current password.": "Your current password is not right"},
)
CHANGE_PASSWORD = (
    _CURRENT_PASSWORD,
    Field(
        "new_password",
        "New password",
        "Enter a new password",
        own={
            # Length(min=12, max=128): too long is caught before, as "Longer than ...".
            "Length must be between 12 and 128.": "New password must be 12 characters or more",
            "This password is too common: it appears in lists attackers try first.": (
                "New password is too common: choose one that is harder to guess"
            ),
        },
    ),
    Field(
        "confirm_password",
        "Confirm new password",
        "Enter your new password again",
        own={"The passwords do not match.": "Enter the same new password twice"},
    ),
)
SET_UP_TOTP = (
    _CURRENT_PASSWORD,
    Field(
        "otp",
        "Code",
        "Enter the 6-digit code from your authenticator app",
        own={
            "Enter the 6-digit code.": "Enter the 6-digit code from your authenticator app",
            "Enter the 6-digit code your authenticator app shows now.": (
                "The code is not right: enter the 6-digit code your app shows now"
            ),
        },
    ),
    Field("enrolment_code", "Enrolment code", users.ENROLMENT_CODE_REFUSED),
)


def _account_page(raw_errors: FormErrors | None = None) -> str:
    return render_template(
        "account.html",
        errors=page_errors(raw_errors, CHANGE_PASSWORD),
        role_names=role_names,
    )


@blp.route("/account", methods=["GET", "POST"])
@requires(Permission.ACCOUNT_SELF)
@sent_once
def account() -> Page | Response:
    if request.method == "GET":
        return _account_page()
    data, errors = load_form(PasswordChangeSchema(), request.form)
    if data is not None:
        try:
            users.change_password(current_user, data["current_password"], data["new_password"])
        except Invalid as refusal:
            errors = refusal.errors or {"current_password": [refusal.message]}
    if errors:
        return _account_page(errors), 422
    # Every other session and token of this user has ended; this browser
    # carries on in a new one.
    begin_browser_session(current_user._get_current_object())
    flash("Your password has been changed. You have been signed out everywhere else.")
    return redirect("/account")


@blp.post("/account/sign-out-everywhere")
@requires(Permission.ACCOUNT_SELF)
@sent_once
def sign_out_everywhere() -> Response:
    """End every other session and API token of the user (a lost laptop, a
    token that leaked); this browser carries on in a new session."""
    users.sign_out_everywhere_else(current_user)
    begin_browser_session(current_user._get_current_object())
    flash("You have been signed out everywhere else, and your API tokens no longer work.")
    return redirect("/account")


PENDING_TOTP = "totp_pending"


@blp.route("/account/totp", methods=["GET", "POST"])
@requires(Permission.ACCOUNT_SELF)
@sent_once
def totp() -> Page | Response:
    """Set up an authenticator app: a QR code and the secret as text, then
    the current password and a code to confirm. The secret waits in this
    browser's session until it is confirmed. (One endpoint for both: it is
    what a user who must set one up may reach.)"""
    secret = session.get(PENDING_TOTP)
    if not isinstance(secret, str):
        secret = credentials.new_totp_secret()
        session[PENDING_TOTP] = secret
    errors: FormErrors = {}
    if request.method == "POST":
        data, errors = load_form(TotpEnrolmentSchema(), request.form)
        if data is not None:
            try:
                users.enable_totp(
                    current_user,
                    secret=secret,
                    code=data["otp"],
                    current_password=data["current_password"],
                    enrolment_code=data.get("enrolment_code"),
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
            errors=page_errors(errors, SET_UP_TOTP),
            qr=Markup(qr),  # noqa: S704 - SVG made by segno from our own URI
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            enabled=bool(current_user.totp_secret),
            needs_code=users.needs_enrolment_code(current_user),
        ),
        (422 if errors else 200),
    )
