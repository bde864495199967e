"""Single sign-on and our MFA: the provider's `amr` satisfies it only when
the agency trusts the provider; otherwise our security code follows. And an
agency that turns password sign-in off: passwords are refused, pointing to
single sign-on."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral_app.models import Role
from tests.conftest import csrf_token
from tests.factories import Factory
from tests.sso.conftest import Agency, configure, signed_in, sso_sign_in
from tests.sso.provider import LoopbackProvider

SSO_POINTER = "signs in with its own accounts here, not with a password"


@pytest.fixture
def require_mfa(app: Flask, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Turns MFA_REQUIRED on (after the admin, who has no authenticator, set things up)."""
    return lambda: monkeypatch.setitem(app.config, "MFA_REQUIRED", True)


def person(factory: Factory, agency: Agency, provider: LoopbackProvider, **claims: object) -> None:
    factory.user(Role.CASEWORKER, organisation=agency.org, email="max@north.example")
    provider.person("max", email="max@north.example", email_verified=True, **claims)


def test_trusted_provider_mfa_satisfies_ours(
    client: FlaskClient,
    factory: Factory,
    agency: Agency,
    provider: LoopbackProvider,
    require_mfa: Callable[[], None],
) -> None:
    configure(client, agency, trust_provider_mfa=True, mfa_values=["mfa", "hwk"])
    require_mfa()
    person(factory, agency, provider, amr=["pwd", "mfa"])
    assert sso_sign_in(client, "max").location == "/"
    # No authenticator of ours, and yet no enrolment demanded: the provider did MFA.
    assert signed_in(client)


def test_untrusted_provider_mfa_does_not(
    client: FlaskClient,
    factory: Factory,
    agency: Agency,
    provider: LoopbackProvider,
    require_mfa: Callable[[], None],
) -> None:
    configure(client, agency, trust_provider_mfa=False)
    require_mfa()
    person(factory, agency, provider, amr=["pwd", "mfa"])
    assert sso_sign_in(client, "max").location == "/"
    home = client.get("/")
    assert home.status_code == 302
    assert home.location == "/account/totp"


def test_a_trusted_provider_without_an_accepted_amr_does_not(
    client: FlaskClient,
    factory: Factory,
    agency: Agency,
    provider: LoopbackProvider,
    require_mfa: Callable[[], None],
) -> None:
    configure(client, agency, trust_provider_mfa=True, mfa_values=["hwk"])
    require_mfa()
    person(factory, agency, provider, amr=["pwd", "otp"])
    sso_sign_in(client, "max")
    assert client.get("/").location == "/account/totp"


def test_a_user_with_an_authenticator_gives_the_code_after_the_provider(
    app: Flask, client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    secret = pyotp.random_base32()
    factory.user(
        Role.CASEWORKER, organisation=agency.org, email="max@north.example", totp_secret=secret
    )
    provider.person("max", email="max@north.example", email_verified=True, amr=["pwd"])
    answer = sso_sign_in(client, "max", next_url="/notifications")
    assert answer.location == "/sign-in/sso/security-code"
    assert not signed_in(client)
    page = client.get("/sign-in/sso/security-code")
    assert "Enter your security code" in page.get_data(as_text=True)
    token = csrf_token(client, "/sign-in/sso/security-code")
    wrong = client.post("/sign-in/sso/security-code", data={"otp": "000000", "csrf_token": token})
    assert wrong.status_code == 401
    assert "There is a problem" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    right = client.post(
        "/sign-in/sso/security-code",
        data={"otp": pyotp.TOTP(secret, interval=30).now(), "csrf_token": token},
    )
    assert right.status_code == 302
    assert right.location == "/notifications"
    assert signed_in(client)
    # The code step is used up with the sign-in.
    assert client.get("/sign-in/sso/security-code").location == "/sign-in/sso"


def test_trusted_provider_mfa_skips_our_code(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    configure(client, agency, trust_provider_mfa=True)
    factory.user(
        Role.CASEWORKER,
        organisation=agency.org,
        email="max@north.example",
        totp_secret=pyotp.random_base32(),
    )
    provider.person("max", email="max@north.example", email_verified=True, amr="mfa")
    assert sso_sign_in(client, "max").location == "/"
    assert signed_in(client)


def test_password_sign_in_off_refuses_passwords_and_points_to_sso(
    client: FlaskClient, factory: Factory, agency: Agency
) -> None:
    user = factory.user(Role.CASEWORKER, organisation=agency.org)
    boss = factory.user(Role.SYSTEM_ADMIN, organisation=agency.org)
    credentials = {"email": user.email, "password": user.password}
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 201

    configure(client, agency, password_sign_in=False)
    api = client.post("/api/v1/auth/tokens", json=credentials)
    assert api.status_code == 401
    assert SSO_POINTER in api.json["message"]
    page = client.post("/login", data={**credentials, "csrf_token": csrf_token(client, "/login")})
    assert page.status_code == 401
    assert SSO_POINTER in page.get_data(as_text=True)
    assert not signed_in(client)
    # A wrong password still gets the usual words: nothing told to a guesser.
    guess = client.post("/api/v1/auth/tokens", json={**credentials, "password": "x" * 20})
    assert SSO_POINTER not in guess.json["message"]
    # System admins keep their password: the way back in if the provider fails.
    boss_login = {"email": boss.email, "password": boss.password}
    assert client.post("/api/v1/auth/tokens", json=boss_login).status_code == 201

    configure(client, agency, enabled=False)  # SSO off: passwords are back
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 201


def test_where_mfa_is_required_passwords_go_off_only_with_the_providers_mfa_trusted(
    app: Flask, client: FlaskClient, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting up our authenticator asks for the password: with passwords off
    and the provider's MFA untrusted, staff could never meet the requirement.
    Refused with a field error, nothing changed; allowed once trusted. (The
    service is called directly: with MFA required, the admin making the
    change through the API would first need an authenticator of their own.)"""
    from referral_app.extensions import db
    from referral_app.models import User
    from referral_app.services import identity_providers
    from referral_app.services.errors import Invalid

    monkeypatch.setitem(app.config, "MFA_REQUIRED", True)
    with app.app_context():
        admin = db.session.get(User, agency.admin.id)
        with pytest.raises(Invalid) as refused:
            identity_providers.save_settings(
                admin, agency.org.id, {"password_sign_in": False, "trust_provider_mfa": False}
            )
        assert "trust the provider's MFA" in refused.value.errors["password_sign_in"][0]
        db.session.rollback()
        provider, _ = identity_providers.save_settings(
            admin, agency.org.id, {"password_sign_in": False, "trust_provider_mfa": True}
        )
        assert provider.password_sign_in is False
        # Trust cannot then be withdrawn while passwords stay off.
        with pytest.raises(Invalid):
            identity_providers.save_settings(admin, agency.org.id, {"trust_provider_mfa": False})
        db.session.rollback()
    # Where MFA is not required, passwords may go off with the MFA untrusted.
    monkeypatch.setitem(app.config, "MFA_REQUIRED", False)
    assert configure(client, agency, password_sign_in=False)["password_sign_in"] is False
