"""System accounts: an org admin registers another system of their agency,
grants it a subset of case permissions, and hands it a client secret (shown
once) that it exchanges for short-lived tokens (services.oauth).

A system is a `User` of kind "system" in the agency (models.user.UserKind):
it never signs in with a password or on the pages, holds only what it was
granted (policy.permissions_of), and everything it does is audited with it
as the actor and its agency as the actor's. Its client secrets are 256-bit
random strings, so a SHA-256 (compared in constant time, as the lookup is by
client id) is enough: a slow password hash would add nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    AuthSession,
    SessionKind,
    SystemAccount,
    SystemSecret,
    User,
    UserKind,
    utcnow,
)
from referral_app.policy import SYSTEM_GRANTABLE, Permission
from referral_app.services import audit
from referral_app.services.errors import Conflict, Invalid, NotFound

SECRET_PREFIX = "rfs_"  # noqa: S105 - marks our client secrets for secret scanners
CLIENT_ID_PREFIX = "sys_"
TOKEN_PREFIX = "rfl_"  # noqa: S105 - the prefix of every bearer token (services.auth)
SYSTEM_SUFFIX = " (system account)"
NAME_MAX = 120


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def grantable_permissions() -> list[str]:
    """The permissions a system may be given, sorted (what the pages offer)."""
    return sorted(str(permission) for permission in SYSTEM_GRANTABLE)


def systems_of(organisation_id: uuid.UUID) -> list[SystemAccount]:
    """The agency's system accounts, live and revoked, by name (for other
    features that point at "a system of theirs", e.g. event delivery)."""
    return list(
        db.session.scalars(
            select(SystemAccount)
            .where(SystemAccount.organisation_id == organisation_id)
            .order_by(SystemAccount.name, SystemAccount.id)
        )
    )


def list_systems(actor: User) -> list[SystemAccount]:
    return systems_of(actor.organisation_id)


def get_system(actor: User, system_id: uuid.UUID) -> SystemAccount:
    """One of the actor's agency's systems; NotFound for any other (no hint)."""
    system = db.session.get(SystemAccount, system_id)
    if system is None or system.organisation_id != actor.organisation_id:
        audit.record_denial(
            "access.not_found", actor, record_type="system_account", record_id=system_id
        )
        raise NotFound("System account not found.")
    return system


def _clean_name(name: str | None) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise Invalid("Enter the system's name.", {"name": ["Enter the system's name."]})
    if len(cleaned) > NAME_MAX:
        message = f"The name must be {NAME_MAX} characters or fewer."
        raise Invalid(message, {"name": [message]})
    return cleaned


def _clean_permissions(permissions: Iterable[str] | None) -> list[str]:
    chosen = sorted({str(name).strip() for name in permissions or []})
    if not chosen:
        message = "Choose at least one permission the system needs."
        raise Invalid(message, {"permissions": [message]})
    allowed = set(grantable_permissions())
    refused = [name for name in chosen if name not in allowed]
    if refused:
        message = (
            "A system can only be given case work permissions of your agency; not: "
            + ", ".join(refused)
            + "."
        )
        raise Invalid(message, {"permissions": [message]})
    return chosen


@dataclass(frozen=True)
class IssuedClientSecret:
    """A new secret: `secret` is shown once and never stored."""

    secret: str
    record: SystemSecret


def _new_secret(system: SystemAccount) -> IssuedClientSecret:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    record = SystemSecret(
        secret_hash=digest(secret), hint=secret[: len(SECRET_PREFIX) + 4], created_at=utcnow()
    )
    system.secrets.append(record)
    return IssuedClientSecret(secret=secret, record=record)


def create_system(
    actor: User, *, name: str, permissions: Iterable[str], description: str | None = None
) -> tuple[SystemAccount, IssuedClientSecret]:
    """Register a system of the actor's agency, with its first secret."""
    cleaned_name = _clean_name(name)
    chosen = _clean_permissions(permissions)
    client_id = CLIENT_ID_PREFIX + secrets.token_hex(12)
    user = User(
        kind=UserKind.SYSTEM,
        email=f"{client_id}@system-accounts.invalid",
        full_name=cleaned_name + SYSTEM_SUFFIX,
        organisation_id=actor.organisation_id,
        # Not an argon2 hash: no password ever verifies against it.
        password_hash="!system-account",  # noqa: S106
        active=True,
    )
    system = SystemAccount(
        user=user,
        organisation_id=actor.organisation_id,
        name=cleaned_name,
        description=(description or "").strip(),
        permissions=chosen,
        client_id=client_id,
        created_by_id=actor.id,
    )
    db.session.add(system)
    issued = _new_secret(system)
    db.session.flush()
    audit.record(
        "system.create",
        actor,
        record_type="system_account",
        record_id=system.id,
        fields=["name", "description", "permissions"],
    )
    return system, issued


def update_system(
    actor: User,
    system: SystemAccount,
    *,
    name: str | None = None,
    description: str | None = None,
    permissions: Iterable[str] | None = None,
) -> SystemAccount:
    """Rename, describe or change the permissions of a live system."""
    if system.revoked:
        raise Conflict("This system account is revoked: register a new one.")
    changed = []
    if name is not None:
        system.name = _clean_name(name)
        system.user.full_name = system.name + SYSTEM_SUFFIX
        changed.append("name")
    if description is not None:
        system.description = description.strip()
        changed.append("description")
    if permissions is not None:
        system.permissions = _clean_permissions(permissions)
        changed.append("permissions")
    audit.record(
        "system.update", actor, record_type="system_account", record_id=system.id, fields=changed
    )
    return system


def live_secrets(system: SystemAccount, now: datetime | None = None) -> list[SystemSecret]:
    moment = now or utcnow()
    return [secret for secret in system.secrets if secret.live(moment)]


def rotate_secret(actor: User, system: SystemAccount) -> IssuedClientSecret:
    """A new secret; the live ones keep working for SYSTEM_SECRET_GRACE (or
    until retired), so the system can change over without a gap."""
    if system.revoked:
        raise Conflict("This system account is revoked: register a new one.")
    now = utcnow()
    grace: timedelta = current_app.config["SYSTEM_SECRET_GRACE"]
    for secret in live_secrets(system, now):
        if secret.expires_at is None or secret.expires_at > now + grace:
            secret.expires_at = now + grace
    issued = _new_secret(system)
    db.session.flush()
    audit.record(
        "system.secret_rotated",
        actor,
        record_type="system_account",
        record_id=system.id,
        reason=f"new secret {issued.record.id}",
    )
    return issued


def retire_secret(actor: User, system: SystemAccount, secret_id: uuid.UUID) -> SystemSecret:
    """Stop one secret now. The last live one is refused: rotate or revoke."""
    now = utcnow()
    secret = next((item for item in system.secrets if item.id == secret_id), None)
    if secret is None or not secret.live(now):
        raise NotFound("Client secret not found, or already retired.")
    if len(live_secrets(system, now)) == 1:
        raise Conflict(
            "This is the system's only live secret: rotate it first, or revoke the system."
        )
    secret.retired_at = now
    audit.record(
        "system.secret_retired",
        actor,
        record_type="system_account",
        record_id=system.id,
        reason=f"secret {secret.id}",
    )
    return secret


def revoke_system(actor: User, system: SystemAccount) -> SystemAccount:
    """Revoke the system: its secrets and every token it holds stop at once
    (the user is disabled and its session version bumped)."""
    if system.revoked:
        return system
    now = utcnow()
    system.revoked_at = now
    for secret in live_secrets(system, now):
        secret.retired_at = now
    system.user.active = False
    system.user.session_version += 1
    audit.record("system.revoke", actor, record_type="system_account", record_id=system.id)
    return system


# --- Client authentication and tokens (used by services.oauth) ---------------


def find_by_client_id(client_id: str) -> SystemAccount | None:
    if not client_id or len(client_id) > 64:
        return None
    return db.session.scalar(select(SystemAccount).where(SystemAccount.client_id == client_id))


def secret_matches(system: SystemAccount, secret: str) -> bool:
    """Whether `secret` is one of the system's live secrets (constant time)."""
    if system.revoked or not system.user.is_active or len(secret) > 200:
        return False
    offered = digest(secret)
    matched = False
    for stored in live_secrets(system):
        matched |= hmac.compare_digest(stored.secret_hash, offered)
    return matched


def allowed_scope(system: SystemAccount, requested: Iterable[str]) -> list[str] | None:
    """The requested permission names if the system holds all of them, else None."""
    asked = {name for name in requested if name}
    held = {str(permission) for permission in SYSTEM_GRANTABLE} & set(system.permissions)
    return sorted(asked) if asked <= held else None


def issue_token(
    system: SystemAccount, access_token: str, scope: list[str] | None, lifetime: timedelta
) -> AuthSession:
    """Store the token the token endpoint hands out: an API token session of
    the system's user (only its SHA-256), narrowed to `scope` if asked."""
    now = utcnow()
    user = system.user
    auth_session = AuthSession(
        user=user,
        kind=SessionKind.API_TOKEN,
        secret_hash=digest(access_token),
        session_version=user.session_version,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        scope=" ".join(scope) if scope else None,
    )
    db.session.add(auth_session)
    db.session.flush()
    audit.record(
        "system.token_issued",
        user,
        record_type="auth_session",
        record_id=auth_session.id,
        reason=f"scope: {auth_session.scope}" if scope else None,
    )
    return auth_session


def permission_names(system: SystemAccount) -> list[str]:
    """The granted permissions, as the policy reads them."""
    return sorted(str(Permission(name)) for name in system.permissions)
