"""System accounts: an org admin registers their agency's systems, rotates
and retires their client secrets and revokes them (services.system_accounts)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.models import SystemAccount
from referral_app.policy import Permission, requires
from referral_app.services import system_accounts
from schemas.system_account import (
    IssuedSecretSchema,
    SystemAccountCreateSchema,
    SystemAccountSchema,
    SystemAccountUpdateSchema,
)

blp = Blueprint(
    "system_accounts", __name__, description="System accounts of the caller's agency (org admins)."
)


def _issued(system: SystemAccount, issued: system_accounts.IssuedClientSecret) -> dict[str, Any]:
    return {
        "system": system,
        "secret_id": issued.record.id,
        "client_id": system.client_id,
        "client_secret": issued.secret,
    }


@blp.route("/system-accounts")
class Systems(MethodView):
    @requires(Permission.SYSTEMS_MANAGE)
    @blp.response(200, SystemAccountSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> list[SystemAccount]:
        """The system accounts of the caller's agency, by name."""
        return system_accounts.list_systems(current_user)

    @requires(Permission.SYSTEMS_MANAGE)
    @blp.arguments(
        SystemAccountCreateSchema,
        example={
            "name": "Police records system",
            "description": "Sends referrals from the force's records system.",
            "permissions": ["referrals:create", "referrals:read", "referrals:transition"],
        },
    )
    @blp.response(201, IssuedSecretSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 413, 415, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register a system of the caller's agency.

        The answer holds the client secret: shown this once, only its hash is kept."""
        system, issued = system_accounts.create_system(current_user, **data)
        return _issued(system, issued)


@blp.route("/system-accounts/<uuid:system_id>")
class SystemDetail(MethodView):
    @requires(Permission.SYSTEMS_MANAGE)
    @blp.response(200, SystemAccountSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, system_id: uuid.UUID) -> SystemAccount:
        """One system account of the caller's agency."""
        return system_accounts.get_system(current_user, system_id)

    @requires(Permission.SYSTEMS_MANAGE)
    @blp.arguments(
        SystemAccountUpdateSchema,
        example={"permissions": ["referrals:read", "referrals:create"]},
    )
    @blp.response(200, SystemAccountSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 409, 413, 415, 422)
    def patch(self, data: dict[str, Any], system_id: uuid.UUID) -> SystemAccount:
        """Change a system's name, description or permissions."""
        system = system_accounts.get_system(current_user, system_id)
        return system_accounts.update_system(current_user, system, **data)


@blp.route("/system-accounts/<uuid:system_id>/secrets")
class Secrets(MethodView):
    @requires(Permission.SYSTEMS_MANAGE)
    @blp.response(201, IssuedSecretSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404, 409)
    def post(self, system_id: uuid.UUID) -> dict[str, Any]:
        """Rotate: a new client secret (shown once).

        The live secrets keep working for SYSTEM_SECRET_GRACE (7 days by
        default) or until retired, so the system changes over without a gap."""
        system = system_accounts.get_system(current_user, system_id)
        issued = system_accounts.rotate_secret(current_user, system)
        return _issued(system, issued)


@blp.route("/system-accounts/<uuid:system_id>/secrets/<uuid:secret_id>")
class Secret(MethodView):
    @requires(Permission.SYSTEMS_MANAGE)
    @blp.response(204)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404, 409)
    def delete(self, system_id: uuid.UUID, secret_id: uuid.UUID) -> None:
        """Retire a client secret now (not the system's last live one)."""
        system = system_accounts.get_system(current_user, system_id)
        system_accounts.retire_secret(current_user, system, secret_id)


@blp.route("/system-accounts/<uuid:system_id>/revoke")
class Revoke(MethodView):
    @requires(Permission.SYSTEMS_MANAGE)
    @blp.response(200, SystemAccountSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def post(self, system_id: uuid.UUID) -> SystemAccount:
        """Revoke a system: its secrets and every token it holds stop at once."""
        system = system_accounts.get_system(current_user, system_id)
        return system_accounts.revoke_system(current_user, system)
