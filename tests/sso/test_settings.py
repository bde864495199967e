"""An agency's identity provider settings, through the API and the page: who
may set them, what is refused, and that the client secret never comes back."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Role
from referral_app.models.sso import IdentityProvider
from tests.conftest import csrf_token
from tests.factories import PASSWORD, Factory, bearer, token_for
from tests.sso.conftest import Agency, settings_body, signed_in, sso_sign_in
from tests.sso.provider import CLIENT_SECRET, LoopbackProvider


def test_the_secret_is_kept_encrypted_and_never_shown(
    app: Flask, client: FlaskClient, agency: Agency
) -> None:
    shown = client.get(agency.settings_path, headers=agency.admin_headers)
    assert shown.status_code == 200
    assert "client_secret" not in shown.json
    assert shown.json["client_secret_set"] is True
    assert CLIENT_SECRET not in shown.get_data(as_text=True)
    assert shown.json["user_claim"] == "sub"
    assert shown.json["password_sign_in"] is True
    assert shown.json["trust_provider_mfa"] is False
    with app.app_context():
        stored = db.session.scalar(
            select(IdentityProvider.client_secret_encrypted).where(
                IdentityProvider.organisation_id == agency.org.id
            )
        )
        assert stored is not None
        assert CLIENT_SECRET.encode() not in stored


def test_a_change_without_the_secret_keeps_it(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    changed = client.put(
        agency.settings_path,
        json={"display_name": "North Police Entra ID", "mfa_values": ["mfa"]},
        headers=agency.admin_headers,
    )
    assert changed.status_code == 200
    assert changed.json["display_name"] == "North Police Entra ID"
    assert changed.json["mfa_values"] == ["mfa"]
    factory.user(Role.REFERRER, organisation=agency.org, email="vic@north.example")
    provider.person("vic", email="vic@north.example", email_verified=True)
    assert sso_sign_in(client, "vic").status_code == 302  # the kept secret still works
    assert signed_in(client)


def test_only_the_agency_admins_and_system_admins_may(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    other_admin = factory.user(Role.ORG_ADMIN)
    caseworker = factory.user(Role.CASEWORKER, organisation=agency.org)
    system_admin = factory.user(Role.SYSTEM_ADMIN)
    path = agency.settings_path
    other = bearer(token_for(client, other_admin))
    assert client.get(path, headers=other).status_code == 404
    assert client.put(path, json={"enabled": False}, headers=other).status_code == 404
    assert client.delete(path, headers=other).status_code == 404
    worker = bearer(token_for(client, caseworker))
    assert client.get(path, headers=worker).status_code == 403
    boss = bearer(token_for(client, system_admin))
    assert client.get(path, headers=boss).status_code == 200
    assert client.put(path, json={"password_sign_in": True}, headers=boss).status_code == 200
    assert client.delete(path, headers=boss).status_code == 204
    assert client.get(path, headers=agency.admin_headers).status_code == 404
    assert client.get("/sign-in/sso/north-police").location == "/sign-in/sso"


def test_bad_settings_are_refused_with_field_errors(
    client: FlaskClient, factory: Factory, provider: LoopbackProvider
) -> None:
    admin = factory.user(Role.ORG_ADMIN)
    headers = bearer(token_for(client, admin))
    path = f"/api/v1/organisations/{admin.organisation_id}/identity-provider"
    missing = client.put(path, json={"display_name": "Our accounts"}, headers=headers)
    assert missing.status_code == 422
    assert set(missing.json["errors"]) == {"issuer", "client_id", "client_secret"}
    plain_http = client.put(
        path,
        json=settings_body(provider, issuer="http://login.example.org/tenant"),
        headers=headers,
    )
    assert plain_http.status_code == 422
    assert "https://" in plain_http.json["errors"]["issuer"][0]
    claim = client.put(path, json=settings_body(provider, user_claim="name"), headers=headers)
    assert claim.status_code == 422
    assert "user_claim" in claim.json["errors"]
    empty = client.put(path, json={}, headers=headers)
    assert empty.status_code == 422
    nothing = client.get(path, headers=headers)
    assert nothing.status_code == 404  # nothing was saved


def test_the_settings_page(
    client: FlaskClient, factory: Factory, provider: LoopbackProvider
) -> None:
    admin = factory.user(Role.ORG_ADMIN)
    path = f"/admin/organisations/{admin.organisation_id}/identity-provider"
    headers = bearer(token_for(client, admin))  # before passwords are turned off below
    client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    page = client.get(path)
    assert page.status_code == 200
    assert "/sign-in/sso/callback" in page.get_data(as_text=True)  # the redirect URI to register
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "display_name": "Our accounts"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Enter this to set up single sign-on" in text
    form = {
        "csrf_token": token,
        "display_name": "Our accounts",
        "issuer": provider.url,
        "client_id": "referrals-app",
        "client_secret": CLIENT_SECRET,
        "user_claim": "oid",
        "trust_provider_mfa": "true",
        "mfa_values": "mfa, hwk",
        "enabled": "true",
    }
    saved = client.post(path, data=form)
    assert saved.status_code == 302
    again = client.get(path).get_data(as_text=True)
    assert "has been set up" in again
    assert CLIENT_SECRET not in again
    assert "leave this blank to keep it" in again
    assert 'value="mfa hwk"' in again
    settings = client.get(
        f"/api/v1/organisations/{admin.organisation_id}/identity-provider", headers=headers
    ).json
    assert settings["user_claim"] == "oid"
    assert settings["trust_provider_mfa"] is True
    assert settings["password_sign_in"] is False  # the box was left unticked
    assert settings["mfa_values"] == ["mfa", "hwk"]
