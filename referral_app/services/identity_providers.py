"""An agency's identity provider settings (single sign-on, services/sso.py).

Set by the agency's org admins, who run its user accounts (a provider is
how those accounts sign in, as a system account is how its systems do), and
by system admins for any agency (they set agencies up, and can turn
password sign-in back on when an agency's provider fails or is
misconfigured and its org admins are locked out).

The client secret is written, never read back through the API or pages:
it is encrypted with the documents' AES-256-GCM key (DOCUMENT_ENCRYPTION_KEY,
document_storage.encrypt), bound to the agency (a ciphertext copied to
another agency's row does not decrypt).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from referral_app import document_storage
from referral_app.extensions import db
from referral_app.models import Organisation, Role, User
from referral_app.models.sso import DEFAULT_MFA_VALUES, IdentityProvider
from referral_app.services import audit
from referral_app.services.errors import Invalid, NotFound

SETTINGS = (
    "display_name",
    "issuer",
    "client_id",
    "user_claim",
    "trust_provider_mfa",
    "mfa_values",
    "password_sign_in",
    "enabled",
)


def _binding(organisation_id: uuid.UUID) -> str:
    return f"idp-{organisation_id.hex}"


def client_secret(provider: IdentityProvider) -> str:
    binding = _binding(provider.organisation_id)
    return document_storage.decrypt(binding, provider.client_secret_encrypted).decode()


def allowed_provider_url(url: str) -> bool:
    """https, or plain http to loopback when SSO_ALLOW_HTTP_LOOPBACK (tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    return parts.scheme == "http" and loopback and current_app.config["SSO_ALLOW_HTTP_LOOPBACK"]


def _organisation(actor: User, organisation_id: uuid.UUID) -> Organisation:
    """The agency whose settings `actor` manages: their own (org admins) or
    any (system admins); NotFound for any other."""
    organisation = db.session.get(Organisation, organisation_id)
    mine = organisation is not None and organisation.id == actor.organisation_id
    if organisation is None or not (mine or actor.has_role(Role.SYSTEM_ADMIN)):
        raise NotFound("No such organisation.")
    return organisation


def get_settings(actor: User, organisation_id: uuid.UUID) -> IdentityProvider | None:
    """The agency's provider (None when it has none yet)."""
    organisation = _organisation(actor, organisation_id)
    return db.session.scalar(
        select(IdentityProvider).where(IdentityProvider.organisation_id == organisation.id)
    )


def get_existing(actor: User, organisation_id: uuid.UUID) -> IdentityProvider:
    provider = get_settings(actor, organisation_id)
    if provider is None:
        raise NotFound("This organisation has no identity provider.")
    return provider


def save_settings(
    actor: User, organisation_id: uuid.UUID, data: dict[str, Any]
) -> tuple[IdentityProvider, bool]:
    """Create or change the agency's provider: (provider, created). A new one
    needs every setting and a client secret; a change keeps the secret when
    none is given."""
    organisation = _organisation(actor, organisation_id)
    provider = db.session.scalar(
        select(IdentityProvider).where(IdentityProvider.organisation_id == organisation.id)
    )
    created = provider is None
    secret = data.get("client_secret")
    if "issuer" in data and not allowed_provider_url(data["issuer"]):
        raise Invalid(
            "The issuer address must start https://.",
            {"issuer": ["Enter the issuer address starting https://."]},
        )
    _refuse_a_dead_end(provider, data)
    if provider is None:
        missing = {
            name: ["Enter this to set up single sign-on."]
            for name in ("display_name", "issuer", "client_id", "client_secret")
            if not data.get(name)
        }
        if missing:
            raise Invalid("Some settings are missing.", missing)
        provider = IdentityProvider(
            organisation_id=organisation.id, mfa_values=list(DEFAULT_MFA_VALUES)
        )
        db.session.add(provider)
    changed = [name for name in SETTINGS if name in data and getattr(provider, name) != data[name]]
    for name in changed:
        setattr(provider, name, data[name])
    if secret:
        provider.client_secret_encrypted = document_storage.encrypt(
            _binding(organisation.id), secret.encode()
        )
        changed.append("client_secret")
    db.session.flush()
    audit.record(
        "sso.provider_saved",
        actor,
        record_type="organisation",
        record_id=organisation.id,
        fields=sorted(changed),
    )
    return provider, created


def _refuse_a_dead_end(provider: IdentityProvider | None, data: dict[str, Any]) -> None:
    """Where MFA is required, password sign-in may be turned off only when
    the provider's MFA is trusted: setting up our authenticator asks for the
    password, so its users could never meet the requirement (Invalid)."""
    if not current_app.config.get("MFA_REQUIRED"):
        return
    passwords = data.get("password_sign_in", provider.password_sign_in if provider else True)
    trusted = data.get("trust_provider_mfa", provider.trust_provider_mfa if provider else False)
    if passwords is False and not trusted:
        raise Invalid(
            "Password sign-in can be turned off only when the provider's MFA is trusted.",
            {
                "password_sign_in": [
                    "Keep password sign-in, or trust the provider's MFA: without either, "
                    "your staff could not set up the authenticator this service requires."
                ]
            },
        )


def remove_settings(actor: User, organisation_id: uuid.UUID) -> None:
    """Remove the agency's provider: its users sign in with passwords again."""
    provider = get_existing(actor, organisation_id)
    db.session.delete(provider)
    db.session.flush()
    audit.record(
        "sso.provider_removed",
        actor,
        record_type="organisation",
        record_id=organisation_id,
    )


def password_sign_in_off(user: User) -> bool:
    """True when the user's agency signs in only through its provider.
    System admins keep their password (the break-glass way back in)."""
    if user.has_role(Role.SYSTEM_ADMIN):
        return False
    return bool(
        db.session.scalar(
            select(IdentityProvider.id).where(
                IdentityProvider.organisation_id == user.organisation_id,
                IdentityProvider.enabled.is_(True),
                IdentityProvider.password_sign_in.is_(False),
            )
        )
    )
