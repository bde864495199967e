"""API sign-in: bearer tokens, stored hashed, expiring, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pyotp
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuthSession, User, utcnow
from tests.conftest import csrf_token
from tests.factories import bearer, token_for


def test_token_then_me_then_revoke(client, factory):
    user = factory.user()
    response = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": user.password}
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"]["email"] == user.email
    token = body["token"]
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["id"] == str(user.id)
    assert client.delete("/api/v1/auth/tokens/current", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_unknown_user_and_wrong_password_look_the_same(client, factory):
    user = factory.user()
    wrong = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": "not the password"}
    )
    unknown = client.post(
        "/api/v1/auth/tokens", json={"email": "nobody@example.org", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_tokens_are_stored_hashed(app, client, factory):
    user = factory.user()
    token = token_for(client, user)
    with app.app_context():
        stored = db.session.scalars(select(AuthSession.secret_hash)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_expired_token_is_refused(app, client, factory):
    user = factory.user()
    token = token_for(client, user)
    with app.app_context():
        for auth_session in db.session.scalars(select(AuthSession)):
            auth_session.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_forged_and_malformed_tokens_are_refused(client, factory):
    factory.user()
    for header in ("Bearer rfl_forged", "Bearer ", "Basic abc", "bearer", "Bearer " + "x" * 5000):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json["code"] == "unauthenticated"


def test_browser_session_cookie_does_not_authenticate_the_api(client, factory):
    """The API reads bearer tokens only: a cross-site request riding on the
    browser's cookie gets nowhere."""
    user = factory.user()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": user.password, "otp": ""},
    )
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_api_token_does_not_open_browser_pages(client, factory):
    user = factory.user()
    token = token_for(client, user)
    assert client.get("/", headers=bearer(token)).status_code == 302


def test_totp_user_needs_a_code_for_a_token(client, factory):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    credentials = {"email": user.email, "password": user.password}
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 401
    assert (
        client.post("/api/v1/auth/tokens", json={**credentials, "otp": "123456"}).status_code == 401
    )
    code = pyotp.TOTP(secret).now()
    assert client.post("/api/v1/auth/tokens", json={**credentials, "otp": code}).status_code == 201


def test_rejects_already_used_totp_token(client, factory):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    credentials = {"email": user.email, "password": user.password, "otp": pyotp.TOTP(secret).now()}
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 201
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 401


def test_disabling_a_user_ends_their_tokens(app, client, factory):
    from referral_app.models import Role

    org = factory.organisation()
    admin = factory.user(Role.ORG_ADMIN, organisation=org)
    victim = factory.user(Role.CASEWORKER, organisation=org)
    victim_token = token_for(client, victim)
    response = client.patch(
        f"/api/v1/users/{victim.id}",
        json={"active": False},
        headers=bearer(token_for(client, admin)),
    )
    assert response.status_code == 200
    assert response.json["active"] is False
    assert client.get("/api/v1/me", headers=bearer(victim_token)).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/tokens", json={"email": victim.email, "password": victim.password}
        ).status_code
        == 401
    )


def test_failed_token_attempts_are_counted_even_though_the_answer_is_an_error(app, client, factory):
    user = factory.user()
    for _ in range(3):
        client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong one!"})
    with app.app_context():
        assert db.session.get(User, user.id).failed_login_count == 3


def test_password_is_rehashed_when_parameters_change(app, client, factory):
    user = factory.user()
    with app.app_context():
        before = db.session.get(User, user.id).password_hash
    app.extensions.pop("argon2", None)
    app.config["ARGON2_TIME_COST"] = 2
    try:
        token_for(client, user)
        with app.app_context():
            after = db.session.get(User, user.id).password_hash
    finally:
        app.extensions.pop("argon2", None)
        app.config["ARGON2_TIME_COST"] = 1
    assert after != before
    assert "t=2" in after
    token_for(client, user)  # the new hash verifies


def test_unknown_users_cost_the_same_password_work(app, client, factory):
    """No user enumeration by timing: an unknown email still runs one argon2
    verification, like a known one."""
    from referral_app.services import credentials

    user = factory.user()
    with app.app_context():
        real = credentials.password_hasher()
    calls: list[str] = []

    class CountingHasher:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    app.extensions["argon2"] = CountingHasher()
    try:
        client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong one!"})
        known = len(calls)
        client.post(
            "/api/v1/auth/tokens", json={"email": "ghost@example.org", "password": "x" * 12}
        )
    finally:
        app.extensions["argon2"] = real
    assert known == 1
    assert len(calls) - known == 1
    assert calls[1].startswith("$argon2id$")  # a real hash, not a shortcut
