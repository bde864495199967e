"""System accounts: another system of an agency (its police records system,
say) that uses the API with the OAuth 2.0 client credentials grant.

A system account is a `User` of kind `system` (so every scoping rule, service
and audit record works for it unchanged) plus this row: its name, the
permissions its agency's admin granted it, its public client id, and its
client secrets (only a SHA-256 of each; two can be live while one replaces
the other)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


class SystemAccount(Model):
    __tablename__ = "system_account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    # The User row the system acts as (kind "system"): its agency, its
    # sessions (tokens), its place in the audit trail.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Permission names (policy.Permission values), a subset of SYSTEM_GRANTABLE.
    permissions: Mapped[list[str]] = mapped_column(JSON)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(
        foreign_keys=[user_id], back_populates="system_account", lazy="joined", innerjoin=True
    )
    secrets: Mapped[list[SystemSecret]] = relationship(
        back_populates="system_account",
        cascade="all, delete-orphan",
        order_by="SystemSecret.created_at",
        lazy="select",
    )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def live_secrets(self) -> list[SystemSecret]:
        now = utcnow()
        return [secret for secret in self.secrets if secret.live(now)]

    def __repr__(self) -> str:
        return f"<SystemAccount {self.client_id}>"


class SystemSecret(Model):
    """One client secret. Live while not retired and not past `expires_at`
    (set when a newer secret replaces it: the grace for the change)."""

    __tablename__ = "system_secret"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    system_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("system_account.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters after the prefix, to tell secrets apart on the page.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    system_account: Mapped[SystemAccount] = relationship(back_populates="secrets")

    def live(self, now: datetime) -> bool:
        return self.retired_at is None and (self.expires_at is None or self.expires_at > now)

    def __repr__(self) -> str:
        return f"<SystemSecret {self.id}>"
