"""The one policy module: who may do what.

Every route states the permission it needs with `@requires(...)`; the
deny-by-default guard in `referral_app.auth_guard` refuses any route that
states nothing. Object-level rules (which organisation's users an admin may
manage, and later which referrals an organisation holds) live here too, so the
rules are written once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from referral_app.models import Organisation, Role, User


class Permission(enum.StrEnum):
    """Permissions as `resource:action` strings. An unknown name raises
    (`Permission("nope")` is a ValueError): a typo never silently denies."""

    ACCOUNT_SELF = "account:self"
    ORGANISATIONS_READ = "organisations:read"
    ORGANISATIONS_MANAGE = "organisations:manage"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    # Case data. Which referral, and which action on it, is decided per
    # record by the functions below and by services.lifecycle.
    REFERRALS_READ = "referrals:read"
    REFERRALS_CREATE = "referrals:create"
    REFERRALS_UPDATE = "referrals:update"
    REFERRALS_TRANSITION = "referrals:transition"
    NOTES_CREATE = "notes:create"
    SHARES_MANAGE = "shares:manage"
    ACCESS_LOG_READ = "referrals:access-log"
    AUDIT_READ = "audit:read"
    CHILDREN_MATCH = "children:match"
    CHILDREN_MANAGE = "children:manage"  # merge, unmerge, rectify
    CHILDREN_EXPORT = "children:export"  # subject access
    REPORTS_READ = "reports:read"
    NOTIFICATIONS_READ = "notifications:read"
    # Actions on a held referral: made for one's own agency, completed or
    # cancelled by the owning agency (services.actions).
    ACTIONS_WORK = "actions:work"
    # Multi-agency meetings: read those one's agency takes part in; put a
    # held referral on the agenda, record what the meeting decided about it
    # and the actions agreed; convene one and record its attendance.
    MEETINGS_READ = "meetings:read"
    MEETINGS_CONTRIBUTE = "meetings:contribute"
    MEETINGS_CONVENE = "meetings:convene"
    # Information sharing agreements (services.agreements): read by a party
    # agency's case roles and auditors; recorded, changed and ended by its
    # managers (not org admins: they run accounts, not sharing decisions);
    # the report of shares per agreement for its managers and auditors.
    AGREEMENTS_READ = "agreements:read"
    AGREEMENTS_MANAGE = "agreements:manage"
    AGREEMENTS_REPORT = "agreements:report"
    # The service directory (services.directory): services, not case data,
    # found by the case roles who refer to them.
    DIRECTORY_READ = "directory:read"
    # Events about held referrals (services.events): the pull feed, read by
    # the case roles and by systems granted it (ids only, scoped as any read);
    # webhook subscriptions, managed by the agency's org admins (a connection
    # to one of its systems, like its accounts: no case data in them).
    EVENTS_READ = "events:read"
    EVENTS_MANAGE = "events:manage"
    # System accounts (services.system_accounts): registered, rotated and
    # revoked by their agency's org admins.
    SYSTEMS_MANAGE = "systems:manage"
    # Single sign-on (services.identity_providers): an agency's identity
    # provider, set by its org admins (who run its accounts) or by a system
    # admin for any agency (the way back in when a provider fails).
    IDENTITY_PROVIDERS_MANAGE = "identity-providers:manage"


_EVERYONE = frozenset({Permission.ACCOUNT_SELF, Permission.ORGANISATIONS_READ})
_CASE_WORK = _EVERYONE | {
    Permission.REFERRALS_READ,
    Permission.REFERRALS_CREATE,
    Permission.REFERRALS_UPDATE,
    Permission.REFERRALS_TRANSITION,
    Permission.NOTES_CREATE,
    Permission.CHILDREN_MATCH,
    Permission.NOTIFICATIONS_READ,
    Permission.ACTIONS_WORK,
    Permission.MEETINGS_READ,
    Permission.AGREEMENTS_READ,
    Permission.DIRECTORY_READ,
    Permission.EVENTS_READ,
}

# Roles that work cases: everyone else (org admins, auditors, system admins)
# sees no case data at all.
CASE_ROLES = frozenset({Role.REFERRER, Role.CASEWORKER, Role.MANAGER})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REFERRER: _CASE_WORK,
    Role.CASEWORKER: _CASE_WORK | {Permission.MEETINGS_CONTRIBUTE},
    Role.MANAGER: _CASE_WORK
    | {
        Permission.MEETINGS_CONTRIBUTE,
        Permission.MEETINGS_CONVENE,
        Permission.SHARES_MANAGE,
        Permission.ACCESS_LOG_READ,
        Permission.CHILDREN_MANAGE,
        Permission.CHILDREN_EXPORT,
        Permission.REPORTS_READ,
        Permission.AGREEMENTS_MANAGE,
        Permission.AGREEMENTS_REPORT,
    },
    Role.ORG_ADMIN: _EVERYONE
    | {
        Permission.USERS_READ,
        Permission.USERS_MANAGE,
        Permission.SYSTEMS_MANAGE,
        Permission.EVENTS_MANAGE,
        Permission.IDENTITY_PROVIDERS_MANAGE,
    },
    # Auditors are told of shares made without an agreement (notifications
    # that name agencies, never a child) and read the agreements report.
    Role.AUDITOR: _EVERYONE
    | {
        Permission.AUDIT_READ,
        Permission.ACCESS_LOG_READ,
        Permission.AGREEMENTS_READ,
        Permission.AGREEMENTS_REPORT,
        Permission.NOTIFICATIONS_READ,
    },
    Role.SYSTEM_ADMIN: _EVERYONE
    | {
        Permission.USERS_READ,
        Permission.USERS_MANAGE,
        Permission.ORGANISATIONS_MANAGE,
        Permission.AUDIT_READ,
        Permission.IDENTITY_PROVIDERS_MANAGE,
    },
}

# What an org admin may grant a system account of their agency: case work a
# referrer does (a system acts with a referrer's object-level rights,
# models.user.SYSTEM_ROLES), never administration.
SYSTEM_GRANTABLE = frozenset(ROLE_PERMISSIONS[Role.REFERRER] - _EVERYONE)

# Roles each administrator may grant. A system admin runs the directory and
# the org admins, never case work; an org admin runs their own agency's staff.
GRANTABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.SYSTEM_ADMIN: frozenset({Role.SYSTEM_ADMIN, Role.ORG_ADMIN, Role.AUDITOR}),
    Role.ORG_ADMIN: frozenset(
        {Role.REFERRER, Role.CASEWORKER, Role.MANAGER, Role.ORG_ADMIN, Role.AUDITOR}
    ),
}

# Endpoints reachable without signing in. Everything else needs a session or
# a bearer token and a stated permission.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "health.healthz",
        "health.readyz",
        "web_auth.login",
        "web_sso.choose",
        "web_sso.start",
        "web_sso.callback",
        "web_sso.security_code",
        "auth.Tokens",
        "oauth.Token",
        "api-docs.openapi_json",
        "web_api_docs.docs",
        "web_api_docs.asset",
    }
)

# API endpoints whose body is a form (application/x-www-form-urlencoded), not
# JSON: the OAuth 2.0 token endpoint, as RFC 6749 says.
FORM_BODY_ENDPOINTS = frozenset({"oauth.Token"})

# What a signed-in user without an authenticator may reach when MFA is required.
MFA_ENROLMENT_ENDPOINTS = frozenset({"web_account.totp", "web_auth.logout"})

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])

PERMISSION_ATTRIBUTE = "_required_permission"
_PERMISSION_NAMES = frozenset(str(permission) for permission in Permission)


def requires(permission: Permission) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view (a function, or a method of a MethodView) with the
    permission it needs. The guard enforces it before the view runs."""
    if not isinstance(permission, Permission):
        raise TypeError(f"unknown permission {permission!r}")

    def mark(view: ViewFunc) -> ViewFunc:
        setattr(view, PERMISSION_ATTRIBUTE, permission)
        return view

    return mark


UPLOADS_ATTRIBUTE = "_accepts_uploads"


def accepts_uploads(view: ViewFunc) -> ViewFunc:
    """Mark an API view that takes a multipart/form-data body (a file
    upload); every other API body must be JSON (the guard answers 415)."""
    setattr(view, UPLOADS_ATTRIBUTE, True)
    return view


def permissions_of(user: User) -> frozenset[Permission]:
    if user.is_system:
        system = user.system_account
        if system is None or system.revoked_at is not None:
            return frozenset()
        named = {Permission(name) for name in system.permissions if name in _PERMISSION_NAMES}
        return frozenset(named & SYSTEM_GRANTABLE) | {Permission.ACCOUNT_SELF}
    granted: set[Permission] = set()
    for role in user.roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def has_permission(user: User, permission: Permission) -> bool:
    return permission in permissions_of(user)


def can_see_user(actor: User, target: User) -> bool:
    """System admins see every user; an org admin sees their own organisation's."""
    if actor.has_role(Role.SYSTEM_ADMIN):
        return True
    return actor.has_role(Role.ORG_ADMIN) and actor.organisation_id == target.organisation_id


def grantable_roles(actor: User) -> frozenset[Role]:
    grantable: set[Role] = set()
    for role in actor.roles:
        grantable |= GRANTABLE_ROLES.get(role, frozenset())
    return frozenset(grantable)


def user_admin_refusal(
    actor: User,
    organisation: Organisation,
    changed_roles: Iterable[Role],
    target: User | None = None,
) -> str | None:
    """Why `actor` may not grant or remove `changed_roles` for a user of
    `organisation`; None when allowed.

    Refuses: managing another organisation's users (unless a system admin),
    granting or removing roles outside what the actor may grant, and changing
    one's own roles (so nobody promotes themselves into case data)."""
    changed = set(changed_roles)
    if not actor.has_role(Role.SYSTEM_ADMIN) and organisation.id != actor.organisation_id:
        return "You can only manage users of your own organisation."
    if target is not None and target.id == actor.id and changed:
        return "You cannot change your own roles."
    # An org admin does not manage a system admin who happens to belong to
    # their agency: that account is in the system admins' hands.
    beyond_actor = target.roles - grantable_roles(actor) if target is not None else set()
    if beyond_actor and not actor.has_role(Role.SYSTEM_ADMIN):
        return "This user is managed by the system administrators."
    refused = sorted(changed - grantable_roles(actor))
    if refused:
        return "You may not grant or remove the role(s): " + ", ".join(refused) + "."
    return None
