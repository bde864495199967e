"""Single sign-on with OpenID Connect: an agency's identity provider and the
links between its users and the provider's subjects (services/sso.py).

Administration data, not case data: no row-level security (as user_account).
The client secret is kept encrypted (document_storage's AES-256-GCM under
DOCUMENT_ENCRYPTION_KEY, bound to the row): it is sent to the provider's
token endpoint, so it must be read back, and it is never shown again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User

# The `amr` values (RFC 8176, and Microsoft Entra ID's) taken as a second
# factor when an agency trusts its provider's MFA.
DEFAULT_MFA_VALUES = ["mfa", "otp", "hwk", "swk", "fido", "sc", "face", "fpt"]


class IdentityProvider(Model):
    """An agency's OpenID provider (one per agency)."""

    __tablename__ = "identity_provider"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    # Shown on the sign-in button: "Sign in with <display_name>".
    display_name: Mapped[str] = mapped_column(String(120))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The ID token claim that identifies a user: sub (the default), oid
    # (Entra ID), or email / preferred_username (matched to the user's e-mail).
    user_claim: Mapped[str] = mapped_column(String(64), default="sub")
    trust_provider_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_values: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_MFA_VALUES))
    # False: the agency's users sign in through the provider only.
    password_sign_in: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.issuer}>"


class SsoIdentity(Model):
    """A user's subject at their agency's provider (the value of its user claim)."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("organisation_id", "issuer", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<SsoIdentity {self.issuer} {self.subject}>"
