"""Users, their roles and their sign-in sessions (browser sessions and API tokens)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.types import UTCDateTime, new_uuid, utcnow

if TYPE_CHECKING:
    from referral_app.models.system_account import SystemAccount


class Role(enum.StrEnum):
    REFERRER = "referrer"
    CASEWORKER = "caseworker"
    MANAGER = "manager"
    ORG_ADMIN = "org_admin"
    AUDITOR = "auditor"
    SYSTEM_ADMIN = "system_admin"


class UserKind(enum.StrEnum):
    """A person, or another system of the agency (models.system_account):
    no password, no e-mail sign-in, no pages; API tokens by client credentials."""

    PERSON = "person"
    SYSTEM = "system"


# The object-level rights a system account acts with (lifecycle rules,
# pickers): a referrer's. Its permissions are the subset its admin granted.
SYSTEM_ROLES = frozenset({Role.REFERRER})


class User(Model):
    __tablename__ = "user_account"
    __table_args__ = (
        # Emails are unique whatever their case: only lower-cased addresses
        # are stored (services normalise them), and the database refuses others.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A one-time code an admin issued for setting up an authenticator (where
    # the configuration asks for one): only its SHA-256, and when it lapses.
    enrolment_code_hash: Mapped[str | None] = mapped_column(String(64))
    enrolment_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on password change, deactivation and "sign out everywhere": every
    # session and token minted under an older version stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    kind: Mapped[UserKind] = mapped_column(
        enum_column(UserKind, "user_kind"), default=UserKind.PERSON, server_default="person"
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    # Loaded on demand: the signed-in user's come with the session lookup
    # (services.auth), and lists of users ask for them (selectinload), so the
    # users shown on a referral cost no extra query.
    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="select"
    )

    # A system account's own row (None for a person): loaded on demand.
    system_account: Mapped[SystemAccount | None] = relationship(
        foreign_keys="SystemAccount.user_id", back_populates="user", lazy="select"
    )

    @property
    def is_system(self) -> bool:
        return self.kind is UserKind.SYSTEM

    @property
    def roles(self) -> frozenset[Role]:
        if self.kind is UserKind.SYSTEM:
            return SYSTEM_ROLES
        return frozenset(grant.role for grant in self.role_grants)

    def set_roles(self, roles: set[Role] | frozenset[Role] | list[Role]) -> None:
        wanted = set(roles)
        self.role_grants = [g for g in self.role_grants if g.role in wanted]
        for role in sorted(wanted - self.roles):
            self.role_grants.append(UserRole(role=role))

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    # Flask-Login's interface. Sessions are resolved by our own request
    # loader (see services.auth), so get_id is informational only.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and self.organisation.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserRole(Model):
    __tablename__ = "user_role"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_grants")

    def __repr__(self) -> str:
        return f"<UserRole {self.role}>"


class SessionKind(enum.StrEnum):
    BROWSER = "browser"
    API_TOKEN = "api_token"  # noqa: S105 - a kind of session, not a secret


class AuthSession(Model):
    """A browser session or an API token. Only a SHA-256 of the secret is
    stored: a copy of this table signs nobody in."""

    __tablename__ = "auth_session"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind, "session_kind"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Signed in through the agency's identity provider, whose MFA (its `amr`
    # claim) the agency trusts: our TOTP requirement is met (services/sso.py).
    mfa_by_provider: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A system's token asked for fewer permissions than the system holds: the
    # permission names it may use, space-separated (None: all the user's).
    scope: Mapped[str | None] = mapped_column(String(1000))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<AuthSession {self.kind} {self.id}>"
