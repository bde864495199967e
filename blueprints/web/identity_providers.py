"""The page of an agency's identity provider settings (single sign-on): for
its org admins and system admins, as the API (services/identity_providers.py).
The client secret is asked for, never shown: left blank, it is kept."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.admin_forms import refusal_errors
from blueprints.web.forms import Field, page_errors
from referral_app.models.sso import DEFAULT_MFA_VALUES, IdentityProvider
from referral_app.policy import Permission, requires
from referral_app.services import identity_providers
from referral_app.services.errors import ServiceError
from schemas.identity_provider import USER_CLAIMS, IdentityProviderInputSchema

blp = Blueprint("web_identity_providers", __name__)

Page = str | tuple[str, int]
FLAGS = ("trust_provider_mfa", "password_sign_in", "enabled")
FIELDS = (
    Field(
        "display_name", "The name on the sign-in page", "Enter the name to show on the sign-in page"
    ),
    Field("issuer", "The issuer address", "Enter the issuer address"),
    Field("client_id", "The client ID", "Enter the client ID the provider gave this service"),
    Field("client_secret", "The client secret", "Enter the client secret"),
    Field("user_claim", "The claim", "Choose the claim that identifies a user"),
    Field("trust_provider_mfa", "Trusting MFA", "Say whether to trust the provider's MFA"),
    Field("mfa_values", "The accepted MFA methods", "Enter at least one accepted MFA method"),
    Field("password_sign_in", "Password sign-in", "Say whether passwords may still be used"),
    Field("enabled", "Single sign-on", "Say whether single sign-on is on"),
)


def _form_of(provider: IdentityProvider | None) -> MultiDict[str, str]:
    if provider is None:
        return MultiDict(
            {"user_claim": "sub", "mfa_values": " ".join(DEFAULT_MFA_VALUES), "enabled": "true"}
            | {"password_sign_in": "true"}
        )
    return MultiDict(
        {
            "display_name": provider.display_name,
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "user_claim": provider.user_claim,
            "mfa_values": " ".join(provider.mfa_values),
        }
        | {flag: "true" for flag in FLAGS if getattr(provider, flag)}
    )


def _page(
    organisation_id: uuid.UUID,
    provider: IdentityProvider | None,
    form: MultiDict[str, str],
    errors: FormErrors | None = None,
) -> str:
    return render_template(
        "sso/provider.html",
        organisation_id=organisation_id,
        provider=provider,
        form=form,
        claims=USER_CLAIMS,
        errors=page_errors(errors or {}, FIELDS),
    )


@blp.get("/admin/organisations/<uuid:organisation_id>/identity-provider")
@requires(Permission.IDENTITY_PROVIDERS_MANAGE)
def settings(organisation_id: uuid.UUID) -> str:
    provider = identity_providers.get_settings(current_user, organisation_id)
    return _page(organisation_id, provider, _form_of(provider))


def _submitted(form: MultiDict[str, str]) -> dict[str, Any]:
    data = form_fields(form, skip=("mfa_values", *FLAGS))
    data.update({flag: "true" if form.get(flag) == "true" else "false" for flag in FLAGS})
    methods = [word for word in re.split(r"[\s,]+", form.get("mfa_values", "")) if word]
    if methods:  # left empty: the values kept (or the defaults, on setting up)
        data["mfa_values"] = methods
    return data


@blp.post("/admin/organisations/<uuid:organisation_id>/identity-provider")
@requires(Permission.IDENTITY_PROVIDERS_MANAGE)
def save(organisation_id: uuid.UUID) -> Page | Response:
    provider = identity_providers.get_settings(current_user, organisation_id)
    data, errors = validate(IdentityProviderInputSchema(), _submitted(request.form))
    if data is None:
        return _page(organisation_id, provider, request.form, errors), 422
    try:
        saved, created = identity_providers.save_settings(current_user, organisation_id, data)
    except ServiceError as refusal:
        return _page(organisation_id, provider, request.form, refusal_errors(refusal)), (
            refusal.status
        )
    flash(
        f"Single sign-on for {saved.organisation.name} has been "
        + ("set up." if created else "changed.")
    )
    return redirect(f"/admin/organisations/{organisation_id}/identity-provider")
