"""Who is asking, and may they: the deny-by-default guard.

Browser pages authenticate with the server-side session named in the signed
session cookie; the API authenticates with bearer tokens only and ignores
cookies (so it needs no CSRF token and cannot be driven by a forged page).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Request, Response, current_app, g, redirect, request, session
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from referral_app import boundary, policy, rls
from referral_app.errors import error_response, wants_json
from referral_app.extensions import db, login_manager
from referral_app.models import AuthSession, SessionKind, User
from referral_app.services import audit, auth

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SESSION_KEY = "sid"


@login_manager.request_loader
def load_user_from_request(req: Request) -> User | None:
    if req.path.startswith("/api/"):
        header = req.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        auth_session = _resolve(secret.strip(), SessionKind.API_TOKEN)
    else:
        cookie_secret = session.get(SESSION_KEY)
        if not isinstance(cookie_secret, str):
            return None
        auth_session = _resolve(cookie_secret, SessionKind.BROWSER)
    if auth_session is None:
        return None
    if auth_session.user.is_system and auth_session.kind is not SessionKind.API_TOKEN:
        return None  # a system account never uses the pages
    g.auth_session = auth_session
    return auth_session.user


def _resolve(secret: str, kind: SessionKind) -> AuthSession | None:
    """The sign-in lookup, the first statement of a signed-in request. The
    pool does not ping a connection before lending it (a round trip on every
    request): if the lent one turns out dead (the database restarted, a
    proxy dropped it), SQLAlchemy discards it and the lookup runs once more
    on a fresh one."""
    try:
        return auth.resolve_session(secret, kind)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        db.session.rollback()
        return auth.resolve_session(secret, kind)


def required_permission(app: Flask, endpoint: str, method: str) -> policy.Permission | None:
    """The permission the view behind `endpoint` states for `method`, or None."""
    view = app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, "get" if method == "HEAD" else method.lower(), None)
    return getattr(view, policy.PERMISSION_ATTRIBUTE, None)


def _takes_upload() -> bool:
    """A multipart/form-data body sent to a view marked policy.accepts_uploads."""
    if request.mimetype != "multipart/form-data" or request.endpoint is None:
        return False
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return bool(getattr(view, policy.UPLOADS_ATTRIBUTE, False))


def unauthenticated() -> Response:
    if wants_json():
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    target = request.full_path if request.query_string else request.path
    return redirect("/login?" + urlencode({"next": target}))  # type: ignore[return-value]


def guard() -> Response | None:
    """Runs before every request: only PUBLIC_ENDPOINTS pass without a user;
    everything else needs a user and the permission its view states. A view
    that states none is refused: nothing is allowed by omission."""
    if request.method in BODY_METHODS and request.path.startswith("/api/"):
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", ""
        )
        # The OAuth token endpoint takes a form (public, its own checks).
        form_ok = request.endpoint in policy.FORM_BODY_ENDPOINTS and (
            request.mimetype == "application/x-www-form-urlencoded"
        )
        if (
            has_body
            and request.mimetype != "application/json"
            and not _takes_upload()
            and not form_ok
        ):
            return error_response(415)
    endpoint = request.endpoint
    if endpoint is None:
        return None  # routing failed: let Flask answer 404 or 405
    if endpoint in policy.PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return unauthenticated()
    boundary.remember_actor()
    if (
        current_app.config["MFA_REQUIRED"]
        and not current_user.totp_secret
        and not current_user.is_system
        and not getattr(g.get("auth_session"), "mfa_by_provider", False)
        and endpoint not in policy.MFA_ENROLMENT_ENDPOINTS
    ):
        # Nothing but enrolling (or signing out) until an authenticator is set up.
        if wants_json():
            return error_response(
                403,
                "Set up an authenticator app first: sign in on the web and open /account/totp.",
                code="mfa_enrolment_required",
            )
        return redirect("/account/totp")  # type: ignore[return-value]
    # From here on the database itself scopes case rows to the user's agency.
    g.rls_token = rls.scope_to(db.session, current_user.organisation_id)
    permission = required_permission(current_app, endpoint, request.method)
    # A system's token asked for fewer permissions (`scope`): only those.
    scope = getattr(g.get("auth_session"), "scope", None)
    out_of_scope = scope is not None and str(permission) not in scope.split()
    if permission is None or out_of_scope or not policy.has_permission(current_user, permission):
        audit.record_denial(
            "access.denied",
            current_user,
            reason=f"{request.method} {request.path} needs {permission or 'a stated permission'}",
        )
        return error_response(403)
    return None


def end_scope(_error: BaseException | None) -> None:
    token = g.pop("rls_token", None)
    if token is not None:
        rls.unscope(token)


def init_app(app: Flask) -> None:
    app.before_request(guard)
    app.teardown_request(end_scope)
