"""User administration: creating, listing and changing users, within the
bounds the policy gives each administrator."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from referral_app import policy
from referral_app.extensions import db
from referral_app.models import Organisation, Role, User, UserKind, utcnow
from referral_app.services import audit, credentials, paging
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _visible_users(actor: User) -> Select[User]:
    # People only: system accounts are managed on their own pages (services.system_accounts).
    query = select(User).options(selectinload(User.role_grants)).where(User.kind == UserKind.PERSON)
    if not actor.has_role(Role.SYSTEM_ADMIN):
        query = query.where(User.organisation_id == actor.organisation_id)
    return query


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int


def list_users(
    actor: User, *, page: int, page_size: int, organisation_id: uuid.UUID | None = None
) -> UserPage:
    """The users `actor` administers (all for a system admin, their own
    organisation's for an org admin), by name."""
    query = _visible_users(actor)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = db.session.scalars(
        query.order_by(User.full_name, User.id)
        .limit(page_size)
        .offset(paging.offset(page, page_size))
    ).all()
    return UserPage(users=list(users), total=total)


def get_user(actor: User, user_id: uuid.UUID) -> User:
    """A user `actor` may administer; NotFound otherwise (never a hint that it exists)."""
    user = db.session.scalar(_visible_users(actor).where(User.id == user_id))
    if user is None:
        raise NotFound("No such user.")
    return user


def organisations_to_add_to(actor: User) -> list[Organisation]:
    """The active organisations `actor` may add users to, by name: any for a
    system admin, their own for an org admin."""
    if not actor.has_role(Role.SYSTEM_ADMIN):
        return [actor.organisation]
    query = select(Organisation).where(Organisation.active).order_by(Organisation.name)
    return list(db.session.scalars(query))


def find_by_email(actor: User, email: str) -> User | None:
    """The user with this email address among those `actor` may see (their
    own organisation's, or anyone's for a system admin); None otherwise."""
    return db.session.scalar(_visible_users(actor).where(User.email == normalise_email(email)))


class AdminRefusal(Forbidden):
    """A user change the actor may not make, with the part of the change at
    fault (`field`: "roles", "active", "organisation_id", or FORM for the
    change as a whole) so a form can show it beside that field. The API
    answers it as any other Forbidden."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


FORM = "_schema"
NO_ROLE = "A user needs at least one role."


def _require_a_role(roles: set[Role]) -> None:
    # A user without a role can sign in and do nothing: not a user anyone meant.
    if not roles:
        raise Invalid(NO_ROLE, {"roles": [NO_ROLE]})


def _check_admin(
    actor: User,
    organisation: Organisation,
    changed_roles: set[Role],
    *,
    target: User | None = None,
    field: str = FORM,
) -> None:
    """The policy's refusal, if any, with the field it is about: first what
    holds whatever the roles (another agency, a user in the system admins'
    hands), then the roles changed."""
    general = policy.user_admin_refusal(actor, organisation, (), target=target)
    if general:
        raise AdminRefusal(general, field)
    about_roles = policy.user_admin_refusal(actor, organisation, changed_roles, target=target)
    if about_roles:
        raise AdminRefusal(about_roles, "roles")


def _active_organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.active:
        raise Invalid(
            "The organisation is not known or not active.",
            {"organisation_id": ["Choose an active organisation."]},
        )
    return organisation


PERSONAL_PASSWORD = "Your password must not be your email address or your name."  # noqa: S105


def _letters(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())


def refuse_personal_password(password: str, *, email: str, full_name: str, field: str) -> None:
    """A password that is the person's email address, the part before the @,
    or their name (ignoring case, spaces and punctuation) is the first thing
    an attacker tries: Invalid, naming `field`."""
    guessable = {_letters(email), _letters(email.split("@")[0]), _letters(full_name)}
    if _letters(password) in guessable - {""}:
        raise Invalid(PERSONAL_PASSWORD, {field: [PERSONAL_PASSWORD]})


def create_user(
    actor: User | None,
    *,
    email: str,
    full_name: str,
    organisation_id: uuid.UUID,
    roles: Iterable[Role],
    password: str,
    totp_secret: str | None = None,
) -> User:
    """Create a user. `actor` None means the operator at the command line.

    Refuses: an organisation that is missing or inactive (Invalid), an email
    already in use whatever its case (Conflict), and an actor creating users
    outside their organisation or granting roles they may not (Forbidden, naming
    the field at fault), and a user with no role (Invalid)."""
    roles = set(roles)
    _require_a_role(roles)
    refuse_personal_password(password, email=email, full_name=full_name, field="password")
    organisation = _active_organisation(organisation_id)
    if actor is not None:
        _check_admin(actor, organisation, roles, field="organisation_id")
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("A user with this email already exists.", {"email": ["Already in use."]})
    user = User(
        email=email,
        full_name=full_name,
        organisation=organisation,
        password_hash=credentials.hash_password(password),
        totp_secret=totp_secret,
        active=True,
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor,
        record_type="user",
        record_id=user.id,
        fields=["email", "full_name", "organisation", "roles", "password"]
        + (["totp_secret"] if totp_secret else []),
    )
    return user


def update_user(
    actor: User,
    user: User,
    *,
    full_name: str | None = None,
    roles: Iterable[Role] | None = None,
    active: bool | None = None,
    reset_totp: bool = False,
    sign_out_everywhere: bool = False,
) -> list[str]:
    """Change a user `actor` administers; returns the names of the fields changed.

    `reset_totp` removes their authenticator (recovery when a phone is lost: they
    enrol again at next sign-in); `sign_out_everywhere` ends every session and
    token. Refuses changing one's own roles or disabling oneself, and roles the
    actor may not grant (Forbidden, naming the field at fault), and taking
    every role away (Invalid). Nothing is changed when any part is refused.
    Disabling a user ends all their sessions and tokens, and so does
    resetting their TOTP."""
    new_roles = set(roles) if roles is not None else set(user.roles)
    # Every refusal before any change: a refused change leaves the user as it was.
    _require_a_role(new_roles)
    _check_admin(actor, user.organisation, new_roles ^ set(user.roles), target=user)
    if active is False and user.active and user.id == actor.id:
        raise AdminRefusal("You cannot disable your own account.", "active")
    changed: list[str] = []
    if full_name is not None and full_name != user.full_name:
        user.full_name = full_name
        changed.append("full_name")
    if roles is not None and new_roles != set(user.roles):
        user.set_roles(new_roles)
        changed.append("roles")
    if active is not None and active != user.active:
        user.active = active
        if not active:
            end_sessions(user)
        changed.append("active")
    if reset_totp and user.totp_secret is not None:
        user.totp_secret = None
        user.totp_last_step = None
        end_sessions(user)
        changed.append("totp_secret")
    if sign_out_everywhere:
        end_sessions(user)
        changed.append("sessions")
    db.session.flush()
    if changed:
        audit.record("user.update", actor, record_type="user", record_id=user.id, fields=changed)
    return changed


# Letters and digits that cannot be mistaken for one another when read aloud.
ENROLMENT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def needs_enrolment_code(user: User) -> bool:
    """Setting up this user's authenticator needs an admin's enrolment code."""
    return bool(current_app.config.get("TOTP_ENROLMENT_NEEDS_CODE")) and user.totp_secret is None


def end_sessions(user: User) -> None:
    """End every session and token of `user`: bumping the session version
    invalidates everything minted under the old one."""
    user.session_version += 1


ENROLMENT_CODE_REFUSED = "Enter the enrolment code your administrator gave you"


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace(" ", "").replace("-", "").upper().encode()).hexdigest()


def issue_enrolment_code(actor: User, user: User) -> tuple[str, datetime]:
    """A one-time code with which `user` can set up an authenticator (where
    TOTP_ENROLMENT_NEEDS_CODE): shown once to the admin, kept only as a hash,
    lapsing after ENROLMENT_CODE_LIFETIME, replacing any earlier one.
    Audited. Refuses what `actor` may not administer (Forbidden)."""
    _check_admin(actor, user.organisation, set(), target=user)
    code = "-".join("".join(secrets.choice(ENROLMENT_ALPHABET) for _ in range(4)) for _ in range(3))
    expires_at = utcnow() + current_app.config["ENROLMENT_CODE_LIFETIME"]
    user.enrolment_code_hash = _digest(code)
    user.enrolment_code_expires_at = expires_at
    db.session.flush()
    audit.record(
        "user.enrolment_code_issued",
        actor,
        record_type="user",
        record_id=user.id,
        fields=["enrolment_code"],
    )
    return code, expires_at


def _take_enrolment_code(user: User, code: str | None) -> None:
    """Use up the user's enrolment code, or refuse (Invalid)."""
    valid = (
        code is not None
        and user.enrolment_code_hash is not None
        and user.enrolment_code_expires_at is not None
        and user.enrolment_code_expires_at > utcnow()
        and hmac.compare_digest(user.enrolment_code_hash, _digest(code))
    )
    if not valid:
        raise Invalid(ENROLMENT_CODE_REFUSED, {"enrolment_code": [ENROLMENT_CODE_REFUSED]})
    user.enrolment_code_hash = None
    user.enrolment_code_expires_at = None


def enable_totp(
    user: User,
    *,
    secret: str,
    code: str,
    current_password: str,
    enrolment_code: str | None = None,
) -> None:
    """Set up (or replace) the user's authenticator. Needs the current password
    (a fresh sign-in) and a valid code from the new secret, and, where
    TOTP_ENROLMENT_NEEDS_CODE and the user has no authenticator yet, the
    one-time enrolment code an admin issued (used up here). Ends every other
    session and token of the user. Refuses a wrong password or code (Invalid)."""
    if not credentials.verify_password(user, current_password):
        raise Invalid(
            "Your current password is not right.",
            {"current_password": ["Enter your current password."]},
        )
    if needs_enrolment_code(user):
        _take_enrolment_code(user, enrolment_code)
    step = credentials.matching_step(secret, code, None)
    if step is None:
        raise Invalid(
            "The code is not right.",
            {"otp": ["Enter the 6-digit code your authenticator app shows now."]},
        )
    user.totp_secret = secret
    user.totp_last_step = step
    end_sessions(user)
    db.session.flush()
    audit.record(
        "user.totp_enabled", user, record_type="user", record_id=user.id, fields=["totp_secret"]
    )


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the user's own password. Refuses a wrong current password
    (Invalid). Ends every other session and token of the user; the caller
    starts a fresh session for the device in hand."""
    if not credentials.verify_password(user, current_password):
        raise Invalid(
            "Your current password is not right.",
            {"current_password": ["Enter your current password."]},
        )
    refuse_personal_password(
        new_password, email=user.email, full_name=user.full_name, field="new_password"
    )
    user.password_hash = credentials.hash_password(new_password)
    end_sessions(user)
    db.session.flush()
    audit.record(
        "user.password_changed", user, record_type="user", record_id=user.id, fields=["password"]
    )


def sign_out_everywhere_else(user: User) -> None:
    """End every session and token of the user themself (a lost laptop, a
    leaked token); the caller starts a fresh session for the device in hand."""
    end_sessions(user)
    db.session.flush()
    audit.record(
        "user.signed_out_everywhere",
        user,
        record_type="user",
        record_id=user.id,
        fields=["sessions"],
    )
