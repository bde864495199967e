"""Passwords, TOTP, and sign-in sessions (browser sessions and API tokens).

Sessions live in the database so that signing out, changing a password or
disabling a user ends them on the server: a copied cookie or token stops
working. Only a SHA-256 of each secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from referral_app import rls
from referral_app.extensions import db
from referral_app.models import AuthSession, SessionKind, User, utcnow
from referral_app.services import audit, identity_providers
from referral_app.services.credentials import verify_password, verify_totp
from referral_app.services.errors import AuthenticationFailed
from referral_app.services.users import normalise_email

# The same words for every failure (no hint whether the account exists),
# and what a real user needs to know: repeated failures pause an account.
FAILED = (
    "Email, password or security code is not right. After repeated failed attempts an "
    "account is paused for a while: if you are sure of your details, try again later."
)
# Password sign-in turned off for the user's agency (services/identity_providers.py).
SSO_ONLY = (
    "Your organisation signs in with its own accounts here, not with a password: choose "
    '"Sign in with your organisation\'s account" on the sign-in page.'
)
TOKEN_PREFIX = "rfl_"  # noqa: S105 - marks our tokens for secret scanners


# The pause after repeated failures doubles with each further failure, up to
# this many doublings (15 minutes becomes at most 16 hours).
MAX_LOCKOUT_DOUBLINGS = 6


def lockout_for(failures: int) -> timedelta:
    """How long an account pauses after `failures` failed sign-ins in a row
    (counted since the last success): LOGIN_LOCKOUT at LOGIN_MAX_FAILURES,
    twice as long for each failure after that (attempts during a pause are
    refused unchecked and not counted)."""
    beyond = failures - int(current_app.config["LOGIN_MAX_FAILURES"])
    base: timedelta = current_app.config["LOGIN_LOCKOUT"]
    return base * (2 ** min(max(beyond, 0), MAX_LOCKOUT_DOUBLINGS))


def _record_failure(user: User) -> None:
    """Count the failure in one UPDATE ... RETURNING (64 at once on several
    workers lose none), and pause the account once there are
    LOGIN_MAX_FAILURES in a row, longer with each further round. The count
    goes back to 0 only on a successful sign-in, so the pause grows for an
    attacker but ends for the real user, whose right password then works."""
    now = utcnow()
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            failed_login_count=func.coalesce(User.failed_login_count, 0) + 1,
            last_failed_login_at=now,
        )
        .returning(User.failed_login_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "failed_login_count", failures)
    set_committed_value(user, "last_failed_login_at", now)
    if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + lockout_for(failures)


def authenticate(email: str, password: str, otp: str | None) -> User:
    """The user these credentials belong to.

    Refuses, always with the same AuthenticationFailed: an unknown email, a
    wrong password, a missing, wrong or reused TOTP code, an inactive user or
    organisation, and a locked account. Failures are counted on the account
    (the caller must keep that change even though it answers with an error).
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    password_ok = verify_password(user, password)
    if user is None:
        audit.record("auth.login_failed", None, record_type="user", reason="unknown account")
        raise AuthenticationFailed(FAILED)
    locked = user.locked_until is not None and user.locked_until > utcnow()
    refusal = (
        "account locked"
        if locked
        else "wrong password"
        if not password_ok
        else "missing, wrong or reused security code"
        if not verify_totp(user, otp)
        else "account or organisation disabled"
        if not user.is_active
        else None
    )
    if refusal is not None:
        if not locked:
            _record_failure(user)
        audit.record(
            "auth.login_failed", None, record_type="user", record_id=user.id, reason=refusal
        )
        raise AuthenticationFailed(FAILED)
    if identity_providers.password_sign_in_off(user):
        # Said only once the password and code were right: no hint to a guesser.
        audit.record(
            "auth.login_failed",
            None,
            record_type="user",
            record_id=user.id,
            reason="password sign-in turned off for the agency",
        )
        raise AuthenticationFailed(SSO_ONLY)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("auth.login", user, record_type="user", record_id=user.id)
    return user


def verify_second_factor(user: User, otp: str | None) -> None:
    """After single sign-on, the user's own TOTP code (services/sso.py):
    AuthenticationFailed for a missing, wrong or reused code or a paused
    account, failures counted as for passwords."""
    locked = user.locked_until is not None and user.locked_until > utcnow()
    if locked or not verify_totp(user, otp):
        if not locked:
            _record_failure(user)
        reason = "account locked" if locked else "missing, wrong or reused security code"
        audit.record(
            "auth.login_failed", None, record_type="user", record_id=user.id, reason=reason
        )
        raise AuthenticationFailed(FAILED)


def start_sso_session(user: User, *, mfa_by_provider: bool) -> IssuedSecret:
    """A browser session after single sign-on (and the TOTP code when one
    was asked for): audited as a sign-in by method "sso"; `mfa_by_provider`
    marks a session whose second factor the agency's provider did."""
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("auth.login", user, record_type="user", record_id=user.id, reason="sso")
    issued = start_session(user, SessionKind.BROWSER)
    issued.session.mfa_by_provider = mfa_by_provider
    return issued


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedSecret:
    secret: str
    session: AuthSession


def start_session(user: User, kind: SessionKind) -> IssuedSecret:
    """A new browser session or API token for `user`; the secret is returned once."""
    lifetime: timedelta = current_app.config[
        "SESSION_LIFETIME" if kind is SessionKind.BROWSER else "API_TOKEN_LIFETIME"
    ]
    secret = secrets.token_urlsafe(32)
    if kind is SessionKind.API_TOKEN:
        secret = TOKEN_PREFIX + secret
    now = utcnow()
    auth_session = AuthSession(
        user=user,
        kind=kind,
        secret_hash=_digest(secret),
        session_version=user.session_version,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(auth_session)
    db.session.flush()
    audit.record(
        "auth.token_created" if kind is SessionKind.API_TOKEN else "auth.session_started",
        user,
        record_type="auth_session",
        record_id=auth_session.id,
    )
    return IssuedSecret(secret=secret, session=auth_session)


def resolve_session(secret: str, kind: SessionKind) -> AuthSession | None:
    """The live session for a secret, or None when it is unknown, of the other
    kind, expired, revoked, minted before the user's last password change or
    sign-out-everywhere, or belongs to a disabled user or organisation."""
    if not secret or len(secret) > 200:
        return None
    # One query: the session, its user, the user's organisation and roles;
    # on PostgreSQL the same statement scopes the transaction to that
    # organisation (row-level security), undone below if the session is no good.
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    lookup = (
        select(AuthSession)
        .join(AuthSession.user)
        .where(AuthSession.secret_hash == _digest(secret))
        .options(contains_eager(AuthSession.user).joinedload(User.role_grants))
    )
    if postgresql:
        lookup = lookup.add_columns(*rls.setting_columns(User.organisation_id))
    found = db.session.execute(lookup).unique().first()
    auth_session = _live(found[0] if found else None, kind)
    if postgresql and found:
        if auth_session is None:
            rls.await_user_again(db.session)
        else:
            rls.applied_by_lookup(db.session, auth_session.user.organisation_id)
    return auth_session


def _live(auth_session: AuthSession | None, kind: SessionKind) -> AuthSession | None:
    """The session if it is of this kind and still good (see resolve_session)."""
    if auth_session is None or auth_session.kind is not kind:
        return None
    user = auth_session.user
    now = utcnow()
    if (
        auth_session.revoked_at is not None
        or auth_session.expires_at <= now
        or auth_session.session_version != user.session_version
        or not user.is_active
    ):
        return None
    if kind is SessionKind.BROWSER:
        idle_limit: timedelta = current_app.config["SESSION_IDLE_TIMEOUT"]
        if auth_session.last_seen_at + idle_limit <= now:
            return None
        # Written at most once a minute: enough for a 30-minute idle limit.
        if now - auth_session.last_seen_at > timedelta(minutes=1):
            auth_session.last_seen_at = now
    return auth_session


def end_session(auth_session: AuthSession) -> None:
    """Revoke one session or token."""
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        audit.record(
            "auth.logout" if auth_session.kind is SessionKind.BROWSER else "auth.token_revoked",
            auth_session.user,
            record_type="auth_session",
            record_id=auth_session.id,
        )
