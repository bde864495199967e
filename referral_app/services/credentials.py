"""Password hashing (argon2id) and TOTP codes (pyotp)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

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


def verify_totp(user: User, code: str | None, now: datetime | None = None) -> bool:
    """True for a current code (one step of clock drift either way) that has
    not been used before; records its time step so it cannot be replayed."""
    if not user.totp_secret:
        return True
    if not code or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret, interval=TOTP_STEP_SECONDS)
    moment = now or utcnow()
    for drift in (-1, 0, 1):
        at = moment + timedelta(seconds=drift * TOTP_STEP_SECONDS)
        if hmac.compare_digest(totp.at(at), code):
            step = totp.timecode(at)
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False
