"""Signing in through the agency's OpenID provider (a real one on loopback):
the round trip, what is refused, and the audit trail."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role
from referral_app.models.sso import SsoIdentity
from tests.factories import Factory
from tests.sso.conftest import (
    Agency,
    at_provider,
    back_at_app,
    configure,
    signed_in,
    sso_sign_in,
    start,
)
from tests.sso.provider import LoopbackProvider

NOT_SET_UP = "is not set up here: ask your administrator"


def audit_reasons(app: Flask, action: str) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent.reason).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [reason or "" for reason in rows]


def test_a_user_signs_in_linked_by_a_verified_email_then_by_subject(
    app: Flask, client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    user = factory.user(Role.CASEWORKER, organisation=agency.org, email="sam.hill@north.example")
    person = provider.person("sam", email="Sam.Hill@north.example", email_verified=True)

    answer = sso_sign_in(client, "sam", next_url="/notifications")
    assert answer.status_code == 302
    assert answer.location == "/notifications"
    assert signed_in(client)
    with app.app_context():
        link = db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
        assert link is not None
        assert link.subject == person.claims["sub"]
    assert "sso" in audit_reasons(app, "auth.login")
    assert audit_reasons(app, "sso.linked") == [provider.url]

    # Next time the subject alone is enough: the provider's e-mail may change.
    other = app.test_client()
    person.claims["email"] = "someone.else@north.example"
    person.claims["email_verified"] = False
    assert sso_sign_in(other, "sam").status_code == 302
    assert signed_in(other)


def test_an_unknown_subject_is_refused_with_a_page_and_audited(
    app: Flask, client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    provider.person("stranger", email="nobody@north.example", email_verified=True)
    answer = sso_sign_in(client, "stranger")
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert f"Your account at {agency.org.name} {NOT_SET_UP}" in page
    assert not signed_in(client)
    assert any("unknown subject" in reason for reason in audit_reasons(app, "auth.login_failed"))


def test_an_unverified_email_does_not_link(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    factory.user(Role.CASEWORKER, organisation=agency.org, email="kim@north.example")
    provider.person("kim", email="kim@north.example", email_verified=False)
    answer = sso_sign_in(client, "kim")
    assert answer.status_code == 403
    assert NOT_SET_UP in answer.get_data(as_text=True)
    assert not signed_in(client)


def test_a_user_of_another_agency_is_not_signed_in(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    factory.user(Role.CASEWORKER, email="lee@elsewhere.example")  # another agency's
    provider.person("lee", email="lee@elsewhere.example", email_verified=True)
    assert sso_sign_in(client, "lee").status_code == 403
    assert not signed_in(client)


def test_an_inactive_user_is_refused(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    user = factory.user(Role.CASEWORKER, organisation=agency.org, email="ash@north.example")
    provider.person("ash", email="ash@north.example", email_verified=True)
    switched_off = client.patch(
        f"/api/v1/users/{user.id}", json={"active": False}, headers=agency.admin_headers
    )
    assert switched_off.status_code == 200, switched_off.json
    answer = sso_sign_in(client, "ash")
    assert answer.status_code == 403
    assert "is switched off here" in answer.get_data(as_text=True)
    assert not signed_in(client)


def test_the_email_claim_identifies_users_when_the_agency_says_so(
    client: FlaskClient, factory: Factory, agency: Agency, provider: LoopbackProvider
) -> None:
    configure(client, agency, user_claim="email")
    factory.user(Role.CASEWORKER, organisation=agency.org, email="jo@north.example")
    provider.person("jo", email="JO@north.example")  # no email_verified: the agency trusts it
    assert sso_sign_in(client, "jo").status_code == 302
    assert signed_in(client)


# -- what a broken or hostile provider, or a forged callback, gets ------------


@pytest.fixture
def person(factory: Factory, agency: Agency, provider: LoopbackProvider) -> str:
    factory.user(Role.CASEWORKER, organisation=agency.org, email="pat@north.example")
    provider.person("pat", email="pat@north.example", email_verified=True)
    return "pat"


def test_a_state_that_does_not_match_is_refused(
    app: Flask, client: FlaskClient, person: str
) -> None:
    callback = at_provider(start(client), person)
    parts = urlsplit(callback)
    params = dict(parse_qsl(parts.query)) | {"state": "forged-state"}
    answer = client.get(f"{parts.path}?{urlencode(params)}")
    assert answer.status_code == 302
    assert answer.location == "/sign-in/sso"
    assert "did not finish" in client.get("/sign-in/sso").get_data(as_text=True)
    assert not signed_in(client)
    assert any("state mismatch" in reason for reason in audit_reasons(app, "auth.login_failed"))


def test_a_callback_in_another_browser_or_a_second_time_is_refused(
    client: FlaskClient, app: Flask, person: str
) -> None:
    callback = at_provider(start(client), person)
    thief = app.test_client()
    assert back_at_app(thief, callback).location == "/sign-in/sso"
    assert not signed_in(thief)
    assert back_at_app(client, callback).status_code == 302  # the real browser: once
    assert signed_in(client)
    again = app.test_client()
    assert back_at_app(again, callback).location == "/sign-in/sso"


def test_an_id_token_with_an_earlier_nonce_is_refused(
    app: Flask, client: FlaskClient, person: str, provider: LoopbackProvider
) -> None:
    first = start(client)
    earlier_nonce = dict(parse_qsl(urlsplit(first).query))["nonce"]
    provider.overrides["nonce"] = earlier_nonce  # replays the first sign-in's nonce
    answer = back_at_app(client, at_provider(start(client), person))
    assert answer.status_code == 403
    assert not signed_in(client)
    assert any("nonce" in reason for reason in audit_reasons(app, "auth.login_failed"))


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("aud", "another-relying-party", "aud"),
        ("iss", "https://login.evil.example/", "iss"),
        ("exp", int(time.time()) - 3600, "exp"),
        ("sub", None, "sub"),
    ],
)
def test_a_wrong_id_token_is_refused(
    app: Flask,
    client: FlaskClient,
    person: str,
    provider: LoopbackProvider,
    claim: str,
    value: object,
    reason: str,
) -> None:
    provider.overrides[claim] = value
    if claim == "exp":
        provider.overrides["iat"] = int(time.time()) - 7200
    answer = sso_sign_in(client, person)
    assert answer.status_code == 403
    assert "did not answer as expected" in answer.get_data(as_text=True)
    assert not signed_in(client)
    refusals = audit_reasons(app, "auth.login_failed")
    assert any("ID token claims" in r and reason in r for r in refusals), refusals


def test_a_token_signed_with_another_key_is_refused(
    app: Flask, client: FlaskClient, person: str, provider: LoopbackProvider
) -> None:
    provider.impostor_key = RSAKey.generate_key(2048, private=True)
    answer = sso_sign_in(client, person)
    assert answer.status_code == 403
    assert not signed_in(client)
    assert any("signature" in r for r in audit_reasons(app, "auth.login_failed"))


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(
    app: Flask, client: FlaskClient, person: str, agency: Agency
) -> None:
    configure(client, agency, client_secret="not the provider's secret")
    answer = sso_sign_in(client, person)
    assert answer.status_code == 403
    assert not signed_in(client)
    assert any("token exchange" in r for r in audit_reasons(app, "auth.login_failed"))


def test_an_agency_without_single_sign_on_sends_back_to_the_choice(
    client: FlaskClient, agency: Agency
) -> None:
    answer = client.get("/sign-in/sso/no-such-agency")
    assert answer.status_code == 302
    assert answer.location == "/sign-in/sso"
    configure(client, agency, enabled=False)
    assert client.get("/sign-in/sso/north-police").location == "/sign-in/sso"
    assert "North Police accounts" not in client.get("/sign-in/sso").get_data(as_text=True)


def test_the_choice_lists_the_agencies_with_single_sign_on(
    client: FlaskClient, agency: Agency
) -> None:
    page = client.get("/sign-in/sso?next=/notifications").get_data(as_text=True)
    assert "Sign in with North Police accounts" in page
    assert 'href="/sign-in/sso/north-police?next=/notifications"' in page
    login = client.get("/login").get_data(as_text=True)
    assert "sign in with your organisation's account</a>" in login
