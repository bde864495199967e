"""Sign in with an agency's own accounts (OpenID Connect, services/sso.py):
choose the agency, go to its provider, come back to the callback, give the
security code when the provider's MFA is not enough, and land where the
user was going, with the same kind of session as a password sign-in."""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from blueprints.web import safe_next
from blueprints.web.forms import Field, page_errors
from referral_app.auth_guard import SESSION_KEY
from referral_app.boundary import keep_changes_on_error
from referral_app.models import User
from referral_app.services import auth, sso
from referral_app.services.errors import AuthenticationFailed

blp = Blueprint("web_sso", __name__)

PENDING_KEY = "sso"  # the started sign-in (state, nonce, verifier) in the signed cookie
CODE_KEY = "sso_code"  # a provider sign-in waiting for our security code
CODE_SECONDS = 5 * 60
SECURITY_CODE = (Field("otp", "Security code", "Enter the 6-digit security code from your app"),)


def _callback_url() -> str:
    return url_for("web_sso.callback", _external=True)


def _begin_session(user: User, *, mfa_by_provider: bool, next_url: str) -> Response:
    """A fresh session (the old cookie's contents dropped), as after a password."""
    session.clear()
    issued = auth.start_sso_session(user, mfa_by_provider=mfa_by_provider)
    session[SESSION_KEY] = issued.secret
    session.permanent = True
    return redirect(safe_next(next_url))


def _back_to_choice(message: str) -> Response:
    flash(message)
    return redirect(url_for("web_sso.choose"))


@blp.get("/sign-in/sso")
def choose() -> str:
    """The agencies whose staff sign in with their own accounts."""
    return render_template(
        "sso/choose.html",
        providers=sso.sign_in_providers(),
        next_url=safe_next(request.args.get("next")),
    )


@blp.get("/sign-in/sso/callback")
def callback() -> str | Response | tuple[str, int]:
    """Where the provider sends the browser back (the redirect URI to register)."""
    pending = session.pop(PENDING_KEY, None)  # one use, whatever happens
    try:
        signed_in = sso.finish(pending, request.args.to_dict(), _callback_url())
    except sso.SsoRefused as refused:
        sso.refusal_recorded(refused)
        if refused.message == sso.DID_NOT_FINISH:
            return _back_to_choice(refused.message)
        return render_template("sso/refused.html", message=refused.message), 403
    next_url = str((pending or {}).get("next") or "/")
    user = signed_in.user
    if user.totp_secret and not signed_in.mfa_by_provider:
        session[CODE_KEY] = {
            "user_id": str(user.id),
            "next": next_url,
            "until": int(time.time()) + CODE_SECONDS,
        }
        return redirect(url_for("web_sso.security_code"))
    return _begin_session(user, mfa_by_provider=signed_in.mfa_by_provider, next_url=next_url)


@blp.route("/sign-in/sso/security-code", methods=["GET", "POST"])
def security_code() -> str | Response | tuple[str, int]:
    """The user's own second factor after the provider's sign-in (when the
    agency does not trust the provider's MFA, or the token did not show one)."""
    waiting = session.get(CODE_KEY)
    if not isinstance(waiting, dict):
        waiting = {}
    user = None
    if waiting and int(waiting.get("until", 0)) >= time.time():
        user = sso.awaiting_code(uuid.UUID(str(waiting["user_id"])))
    if user is None:
        session.pop(CODE_KEY, None)
        return _back_to_choice(sso.DID_NOT_FINISH)
    if request.method == "GET":
        return render_template("sso/security_code.html", errors=page_errors({}, SECURITY_CODE))
    keep_changes_on_error()  # failed codes count against the account
    try:
        auth.verify_second_factor(user, request.form.get("otp", "").strip() or None)
    except AuthenticationFailed as failure:
        shown = page_errors({"otp": [failure.message]}, SECURITY_CODE)
        return render_template("sso/security_code.html", errors=shown), 401
    return _begin_session(user, mfa_by_provider=False, next_url=str(waiting["next"]))


@blp.get("/sign-in/sso/<code>")
def start(code: str) -> Response:
    """Go to the agency's provider to sign in."""
    provider = sso.provider_for_code(code)
    if provider is None:
        return _back_to_choice(
            "That organisation does not sign in with its own accounts here: choose yours "
            "from the list, or sign in with your email address and password."
        )
    next_url = safe_next(request.args.get("next"))
    try:
        started = sso.begin(provider, _callback_url(), next_url)
    except sso.SsoRefused as refused:
        refused.organisation = provider.organisation
        sso.refusal_recorded(refused)
        return _back_to_choice(refused.message)
    session[PENDING_KEY] = started.pending
    return redirect(started.url)
