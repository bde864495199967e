"""Sign-in throttling with Flask-Limiter: per account and per client address,
never global (one attacker must not lock everybody out). Only failed attempts
count. The counters live in Redis when REDIS_URL is set, so the limits hold
across workers and hosts; in memory otherwise (one process: development).
CSV exports of an agency's referrals are limited per user, the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user
from limits import parse_many

from referral_app.services import audit


def client_address() -> str:
    return request.remote_addr or "unknown"


def _account_key() -> str:
    """The account being tried, hashed (no email addresses in the limiter's
    storage), whatever its case or surrounding spaces."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    normalised = str(email or "").strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()[:40]


def _on_breach(request_limit: RequestLimit) -> Response | None:
    if request.endpoint not in SIGN_IN_ENDPOINTS:
        return None  # other limits record their own refusals
    audit.record_denial(
        "auth.throttled", None, reason=f"{request.method} {request.path}: {request_limit.limit}"
    )
    return None


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def _config_limit(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


# The sign-in endpoints: the login page and the token endpoint draw on the
# same two counters (shared scopes).
SIGN_IN_ENDPOINTS = ("web_auth.login", "auth.Tokens")


def init_app(app: Flask) -> None:
    """One limiter per application (call after the blueprints are registered):
    wraps the sign-in views with the per-account and per-address limits, and
    the CSV exports with the per-user limit."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter = Limiter(client_address, app=app, on_breach=_on_breach, strategy="moving-window")
    app.extensions["referral_limiter"] = limiter
    limits = [
        limiter.shared_limit(
            _config_limit("SIGN_IN_LIMIT_PER_ACCOUNT"),
            "sign-in-per-account",
            key_func=_account_key,
            methods=["POST"],
            deduct_when=_failed,
        ),
        limiter.shared_limit(
            _config_limit("SIGN_IN_LIMIT_PER_ADDRESS"),
            "sign-in-per-address",
            key_func=client_address,
            methods=["POST"],
            deduct_when=_failed,
        ),
    ]
    for endpoint in SIGN_IN_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        for limit in limits:
            view = limit(view)
        app.view_functions[endpoint] = view
    _limit_csv_exports(app, limiter)


# --- CSV exports -------------------------------------------------------------
# A bulk disclosure of an agency's referrals: limited per user (whether by the
# API or the reports page, one shared counter), counting the exports made.
# The check runs inside the view, after the guard has found the user.

CSV_EXPORT_ENDPOINTS = (
    "reports.ReferralsCsv",
    "web_reports.referrals_csv",
    "web_chronology.child_chronology_csv",
    "web_agreements.agreement_report_csv",
)


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{client_address()}"  # not reached: the guard wants a user


def _exported(response: Response) -> bool:
    return response.status_code < 400


def _on_export_breach(request_limit: RequestLimit) -> Response | None:
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    audit.record_denial("report.csv_export", actor, reason=f"throttled: {request_limit.limit}")
    return None


def _limit_csv_exports(app: Flask, limiter: Limiter) -> None:
    limit = limiter.shared_limit(
        _config_limit("CSV_EXPORT_LIMIT"),
        "csv-export-per-user",
        key_func=_user_key,
        deduct_when=_exported,
        on_breach=_on_export_breach,
    )
    for endpoint in CSV_EXPORT_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        app.view_functions[endpoint] = limit(view)


# --- Matching ----------------------------------------------------------------
# Finding the same child answers, for a name and a date of birth, whether
# another agency holds the child: asked over and over it is an oracle. Every
# surface that matches (the API, the new-referral form, the child page) draws
# on one counter per user, in the limiter's storage (Redis across hosts).


def take_match_allowance(user_id: object) -> bool:
    """Count one match for the user; False when the MATCH_LIMIT_PER_USER
    window is used up (the match must then not run)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    limiter: Limiter = current_app.extensions["referral_limiter"]
    for item in parse_many(str(current_app.config["MATCH_LIMIT_PER_USER"])):
        if not limiter.limiter.hit(item, "child-match-per-user", str(user_id)):
            return False
    return True
