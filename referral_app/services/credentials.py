"""Password hashing (argon2id) and TOTP codes (pyotp)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from referral_app.extensions import db
from referral_app.models import User, utcnow

TOTP_STEP_SECONDS = 30


def password_hasher() -> PasswordHasher:
    """The app's argon2id hasher, built once from its configuration."""
    hasher = current_app.extensions.get("argon2")
    if hasher is None:
        config = current_app.config
        hasher = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
        )
        current_app.extensions["argon2"] = hasher
    return hasher


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def _dummy_hash() -> str:
    # Verifying against this for unknown users costs the same work as a real
    # check, so the answer time does not reveal whether an account exists.
    dummy = current_app.extensions.get("argon2_dummy")
    if dummy is None:
        dummy = hash_password(secrets.token_urlsafe(16))
        current_app.extensions["argon2_dummy"] = dummy
    return dummy


def verify_password(user: User | None, password: str) -> bool:
    """True when `password` is the user's. Rehashes when the parameters changed."""
    hasher = password_hasher()
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    return True


def new_totp_secret() -> str:
    return pyotp.random_base32()


def matching_step(
    secret: str, code: str | None, last_step: int | None, now: datetime | None = None
) -> int | None:
    """The time step of `code` if it is current for `secret` (one step of
    clock drift either way) and later than `last_step` (no replay); else None."""
    if not code or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    moment = now or utcnow()
    for drift in (-1, 0, 1):
        at = moment + timedelta(seconds=drift * TOTP_STEP_SECONDS)
        if hmac.compare_digest(totp.at(at), code):
            step = totp.timecode(at)
            return None if last_step is not None and step <= last_step else step
    return None


def verify_totp(user: User, code: str | None, now: datetime | None = None) -> bool:
    """True for a user without TOTP, or a current code not used before.

    The code's time step is claimed in one conditional UPDATE (compare and
    set): of two sign-ins with the same code at the same moment, on any
    workers or hosts, one moves the step and the other finds it moved (on
    PostgreSQL the second waits for the first's row lock, then re-reads the
    condition), so a code is accepted once."""
    if not user.totp_secret:
        return True
    step = matching_step(user.totp_secret, code, user.totp_last_step, now)
    if step is None:
        return False
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=account, issuer_name="Referrals"
    )
