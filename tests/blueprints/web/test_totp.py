"""TOTP: enrolment, MFA required, recovery by an admin, replay refused."""

from __future__ import annotations

import re

import pyotp
import pytest

from referral_app.models import Role
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer


def enrol(client, code_for=None, password=PASSWORD):
    page = client.get("/account/totp")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text  # the QR code
    secret = re.search(r'id="totp-key">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    code = (code_for or pyotp.TOTP(secret).now)()
    response = client.post(
        "/account/totp",
        data={
            "csrf_token": csrf_token(client, "/account/totp"),
            "current_password": password,
            "otp": code,
        },
    )
    return secret, response


def test_enrolment_needs_the_current_password_and_a_valid_code(app, factory):
    user = factory.user()
    client = sign_in(app, user)
    _, wrong_password = enrol(client, password="not my password")
    assert wrong_password.status_code == 422
    _, wrong_code = enrol(client, code_for=lambda: "000000")
    assert wrong_code.status_code == 422
    _, ok = enrol(client)
    assert ok.status_code == 302
    assert client.get("/account").status_code == 200  # this browser carries on
    # From now on a code is needed to sign in.
    other = app.test_client()
    no_code = other.post(
        "/login",
        data={"csrf_token": csrf_token(other), "email": user.email, "password": PASSWORD},
    )
    assert no_code.status_code == 401


def test_mfa_required_sends_users_without_totp_to_enrolment(app, factory):
    user = factory.user(Role.CASEWORKER)
    client = sign_in(app, user)
    token = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD}
    ).json["token"]
    app.config["MFA_REQUIRED"] = True
    try:
        assert client.get("/").location == "/account/totp"
        assert client.get("/referrals").location == "/account/totp"
        refused = client.get("/api/v1/me", headers=bearer(token))
        assert refused.status_code == 403
        assert refused.json["code"] == "mfa_enrolment_required"
        _, enrolled = enrol(client)
        assert enrolled.status_code == 302
        assert client.get("/").status_code == 200
    finally:
        app.config["MFA_REQUIRED"] = False


def test_org_admin_resets_a_lost_authenticator(app, factory):
    org = factory.organisation()
    secret = pyotp.random_base32()
    user = factory.user(Role.CASEWORKER, organisation=org, totp_secret=secret)
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    response = admin.post(
        f"/admin/users/{user.id}/reset-totp", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert response.status_code == 302
    other = app.test_client()
    signed_in = other.post(
        "/login",
        data={"csrf_token": csrf_token(other), "email": user.email, "password": PASSWORD},
    )
    assert signed_in.status_code == 302  # no code needed until they enrol again


def test_admin_cannot_reset_another_agencys_user(app, factory):
    user = factory.user(Role.CASEWORKER, totp_secret=pyotp.random_base32())
    admin = sign_in(app, factory.user(Role.ORG_ADMIN))
    response = admin.post(
        f"/admin/users/{user.id}/reset-totp", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert response.status_code == 404


def test_sign_out_everywhere_ends_sessions_and_tokens(app, factory):
    org = factory.organisation()
    user = factory.user(Role.CASEWORKER, organisation=org)
    victim_browser = sign_in(app, user)
    token = (
        app.test_client()
        .post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        .json["token"]
    )
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    admin.post(
        f"/admin/users/{user.id}/sign-out", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert victim_browser.get("/").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("field", ["reset_totp", "sign_out_everywhere"])
def test_the_api_offers_the_same_recovery(app, client, factory, field):
    from tests.factories import token_for

    org = factory.organisation()
    user = factory.user(Role.CASEWORKER, organisation=org, totp_secret=pyotp.random_base32())
    admin = factory.user(Role.ORG_ADMIN, organisation=org)
    response = client.patch(
        f"/api/v1/users/{user.id}", json={field: True}, headers=bearer(token_for(client, admin))
    )
    assert response.status_code == 200
    if field == "reset_totp":
        assert response.json["totp_enabled"] is False
