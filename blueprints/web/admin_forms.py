"""The administration forms' questions and words: each field declared once,
in page order, with what the page says when it is missing or wrong; the
roles and kinds of organisation as people call them; what the page says
after a change."""

from __future__ import annotations

from collections.abc import Iterable

from blueprints.web import FormErrors
from blueprints.web.forms import Field
from referral_app.models import OrganisationKind, Role, User
from referral_app.services import users
from referral_app.services.errors import ServiceError

PAGE_SIZE = 25

# What each role is called and what it lets a person do.
ROLE_WORDS: dict[Role, tuple[str, str]] = {
    Role.REFERRER: ("Referrer", "Makes referrals and reads those their organisation holds."),
    Role.CASEWORKER: (
        "Caseworker",
        "Works on the referrals assigned to them, and makes referrals.",
    ),
    Role.MANAGER: (
        "Manager",
        "Triages, assigns and shares their organisation's referrals, and reads its reports.",
    ),
    Role.ORG_ADMIN: (
        "Organisation administrator",
        "Manages the users of their organisation. Sees no case data.",
    ),
    Role.AUDITOR: ("Auditor", "Reads and checks the audit trail. Sees no case data."),
    Role.SYSTEM_ADMIN: (
        "System administrator",
        "Manages organisations and their administrators. Sees no case data.",
    ),
}

ORGANISATION_KINDS: list[tuple[str, str]] = [
    (str(OrganisationKind.POLICE), "Police"),
    (str(OrganisationKind.YOUTH_JUSTICE), "Youth justice service"),
    (str(OrganisationKind.COUNCIL), "Council"),
    (str(OrganisationKind.CHARITY), "Charity"),
    (str(OrganisationKind.EDUCATION), "School or college"),
    (str(OrganisationKind.HEALTH), "Health service"),
    (str(OrganisationKind.OTHER), "Other"),
]

# The schema says this for an empty list of roles (Length(min=1, max=6)); a
# list that is too long is not one a form can send.
_NO_ROLES = f"Length must be between 1 and {len(Role)}."
ROLES_NOT_OFFERED = "Select roles from the list"
_CHOOSE_ROLES = {
    _NO_ROLES: "Select at least one role",
    users.NO_ROLE: "Select at least one role",
    "You cannot change your own roles.": "You cannot change your own roles",
}
_EMAIL = Field(
    "email",
    "Email address",
    "Enter an email address",
    invalid="Enter an email address in the correct format, like name@example.org",
    own={"Already in use.": "Someone already uses this email address"},
)
_FULL_NAME = Field(
    "full_name",
    "Full name",
    "Enter the person's full name",
    # Length(min=1, max=200): too long is caught before, as "Longer than ...".
    own={"Length must be between 1 and 200.": "Enter the person's full name"},
)

NEW_USER = (
    _FULL_NAME,
    _EMAIL,
    Field(
        "organisation_id",
        "Organisation",
        "Select an organisation",
        own={
            "Choose an active organisation.": "Select an active organisation",
            "You can only manage users of your own organisation.": (
                "You can only add users to your own organisation"
            ),
        },
    ),
    Field(
        "roles",
        "Roles",
        "Select at least one role",
        invalid=ROLES_NOT_OFFERED,
        anchor="roles",
        own=_CHOOSE_ROLES,
    ),
    Field(
        "password",
        "Password",
        "Enter a password",
        own={
            # Length(min=12, max=128): too long is caught before, as "Longer than ...".
            "Length must be between 12 and 128.": "Password must be 12 characters or more",
            "This password is too common: it appears in lists attackers try first.": (
                "Password is too common: choose one that is harder to guess"
            ),
        },
    ),
)

EDIT_USER = (
    _FULL_NAME,
    Field(
        "roles",
        "Roles",
        "Select at least one role",
        invalid=ROLES_NOT_OFFERED,
        anchor="roles",
        own=_CHOOSE_ROLES,
    ),
    Field(
        "active",
        "Account",
        "Select whether this person can sign in",
        anchor="active",
        own={"You cannot disable your own account.": "You cannot disable your own account"},
    ),
)

NEW_ORGANISATION = (
    Field(
        "name",
        "Name",
        "Enter the organisation's name",
        own={"Length must be between 2 and 200.": "Name must be 2 characters or more"},
    ),
    Field(
        "code",
        "Code",
        "Enter a code for the organisation",
        own={
            "Length must be between 2 and 64.": "Code must be 2 characters or more",
            "String does not match expected pattern.": (
                "Code must only include lower-case letters, numbers and hyphens, like essex-police"
            ),
            "Already in use.": "Another organisation already uses this code",
        },
    ),
    Field(
        "kind",
        "Type of organisation",
        "Select the type of organisation",
        anchor="kind",
    ),
)


def role_choices(roles: Iterable[Role]) -> list[tuple[str, str, str]]:
    """(value, name, what it allows) for each role, in the order given."""
    return [(str(role), *ROLE_WORDS[role]) for role in roles]


def role_names(roles: Iterable[Role]) -> str:
    """ "Caseworker and Manager", in the order the roles are defined."""
    held = set(roles)
    names = [ROLE_WORDS[role][0] for role in Role if role in held]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def refusal_errors(refusal: ServiceError) -> FormErrors:
    """A service's refusal as errors of the form's fields."""
    if isinstance(refusal, users.AdminRefusal):
        return {refusal.field: [refusal.message]}
    return refusal.errors or {"_schema": [refusal.message]}


def changes_said(user: User, changed: list[str]) -> str:
    """What the page says happened to `user` (never just "Updated")."""
    if changed == ["sessions"]:
        return f"{user.full_name} has been signed out everywhere. They need to sign in again."
    if changed == ["totp_secret"]:
        return (
            f"{user.full_name}'s authenticator app has been reset. "
            "They will set up a new one when they next sign in."
        )
    said: list[str] = []
    if "full_name" in changed:
        said.append(f"name changed to {user.full_name}")
    if "roles" in changed:
        said.append(f"roles are now {role_names(user.roles)}")
    if "active" in changed:
        said.append(
            "account is active again"
            if user.active
            else "account is disabled and they have been signed out everywhere"
        )
    if not said:
        return f"You did not change anything for {user.full_name}."
    return f"Changes saved for {user.full_name}: " + "; ".join(said) + "."
