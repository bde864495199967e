"""Every response carries the security headers, set in one place."""

from __future__ import annotations

import pytest

from referral_app import create_app
from referral_app.config import ProductionConfig
from tests.factories import bearer, token_for

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def assert_security_headers(response, *, cacheable=False):
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    if not cacheable:
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    ["/login", "/healthz", "/readyz", "/api/v1/openapi.json", "/no-such-page", "/api/v1/nope", "/"],
)
def test_every_response_carries_the_headers_anonymous(client, path):
    assert_security_headers(client.get(path))


def test_every_response_carries_the_headers_authenticated(client, factory):
    user = factory.user()
    headers = bearer(token_for(client, user))
    for path in ("/api/v1/me", "/api/v1/referrals", "/api/v1/users"):
        assert_security_headers(client.get(path, headers=headers))
    assert_security_headers(client.post("/api/v1/auth/tokens", data="x", content_type="text/plain"))


def test_static_files_may_be_cached_but_keep_the_other_headers(client):
    response = client.get("/static/app.css")
    response.close()  # a file response: close it, as a server would
    assert response.status_code == 200
    assert_security_headers(response, cacheable=True)


def test_production_sends_hsts_and_host_prefixed_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("AUDIT_HMAC_KEY", "y" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("DOCUMENT_ENCRYPTION_KEY", "dGVzdHMtb25seS1kb2N1bWVudC1rZXktMzItYnl0ZXM=")
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_security_headers(response)
    with app.app_context():
        from referral_app.extensions import db

        db.engine.dispose()


def test_session_cookie_is_httponly_and_samesite(client, factory):
    from tests.conftest import csrf_token

    user = factory.user()
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": user.email, "password": user.password},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
