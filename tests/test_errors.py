"""Error answers: the JSON shape {code, status, message[, errors]} under /api,
friendly HTML pages elsewhere, and never a stack trace or an exception's text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.models import Role
from referral_app.policy import Permission, requires
from tests.factories import Factory, bearer, token_for

TOKENS = "/api/v1/auth/tokens"
SECRET_DETAIL = "secret internal detail"


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    """Close the shared app's pooled connections when this module is done: the
    session fixture never disposes its engine, and psycopg warns (an error
    under filterwarnings=error) about connections still open at exit."""
    yield
    with app.app_context():
        db.engine.dispose()


def assert_error_shape(response: TestResponse, status: int, code: str | None = None) -> Any:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert isinstance(body, dict)
    assert set(body) <= {"code", "status", "message", "errors"}
    assert {"code", "status", "message"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["code"], str)
    assert body["code"]
    assert isinstance(body["message"], str)
    assert body["message"]
    if code is not None:
        assert body["code"] == code
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    body = assert_error_shape(client.get("/api/v1/no-such-resource"), 404, "not_found")
    assert "errors" not in body


def test_unknown_api_path_is_404_even_with_a_body_and_no_sign_in(client: FlaskClient) -> None:
    assert_error_shape(client.post("/api/v1/no-such-resource", json={}), 404, "not_found")


def test_wrong_method_is_a_json_405_with_allow_header(client: FlaskClient) -> None:
    response = client.delete("/api/v1/me")
    assert_error_shape(response, 405, "method_not_allowed")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "DELETE" not in allowed


def test_get_on_the_token_endpoint_is_405_allowing_post(client: FlaskClient) -> None:
    response = client.get(TOKENS)
    assert_error_shape(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_body_over_one_mebibyte_is_refused_with_413(client: FlaskClient) -> None:
    payload = json.dumps({"email": "a" * (1024 * 1024 + 1), "password": "x"})
    response = client.post(TOKENS, data=payload, content_type="application/json")
    assert_error_shape(response, 413, "request_entity_too_large")


def test_form_encoded_body_is_refused_with_415(client: FlaskClient) -> None:
    response = client.post(TOKENS, data={"email": "a@example.org", "password": "x"})
    assert_error_shape(response, 415, "unsupported_media_type")


def test_text_plain_json_lookalike_is_refused_with_415(client: FlaskClient) -> None:
    response = client.post(
        TOKENS, data='{"email": "a@example.org", "password": "x"}', content_type="text/plain"
    )
    assert_error_shape(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_400_with_a_message(client: FlaskClient) -> None:
    response = client.post(TOKENS, data='{"email": "a@', content_type="application/json")
    body = assert_error_shape(response, 400, "bad_request")
    assert "JSON" in body["message"]


def test_unknown_field_is_a_422_keyed_by_field_name(client: FlaskClient) -> None:
    response = client.post(
        TOKENS, json={"email": "a@example.org", "password": "x", "is_admin": True}
    )
    body = assert_error_shape(response, 422, "validation_failed")
    assert set(body["errors"]) == {"is_admin"}
    assert isinstance(body["errors"]["is_admin"], list)


def test_missing_required_field_is_a_422_keyed_by_field_name(client: FlaskClient) -> None:
    response = client.post(TOKENS, json={"email": "a@example.org"})
    body = assert_error_shape(response, 422, "validation_failed")
    assert set(body["errors"]) == {"password"}
    assert body["errors"]["password"]


def test_validation_errors_are_not_nested_under_a_location(client: FlaskClient) -> None:
    response = client.post(TOKENS, json={})
    body = assert_error_shape(response, 422, "validation_failed")
    assert "json" not in body["errors"]
    assert {"email", "password"} <= set(body["errors"])


def test_anonymous_api_call_is_a_json_401_with_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert_error_shape(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_permission_is_a_json_403(client: FlaskClient, factory: Factory) -> None:
    referrer = factory.user(Role.REFERRER)
    response = client.get("/api/v1/users", headers=bearer(token_for(client, referrer)))
    assert_error_shape(response, 403, "forbidden")


@pytest.fixture
def boom_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a migrated database of its own (a SQLite file, whatever the
    suite runs on: the error handling does not depend on the database) with a
    route that crashes. Exceptions are handled as in production: not
    propagated to the test client."""
    new_app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'boom.db'}",
        PROPAGATE_EXCEPTIONS=False,
    )

    @requires(Permission.ACCOUNT_SELF)
    def boom() -> str:
        raise RuntimeError(SECRET_DETAIL)

    new_app.add_url_rule("/api/v1/boom", "boom", boom)
    with new_app.app_context():
        flask_migrate.upgrade()
    yield new_app
    with new_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_unhandled_exception_is_a_json_500_without_internal_detail(
    boom_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    user = Factory(boom_app).user(Role.CASEWORKER)
    client = boom_app.test_client()
    token = token_for(client, user)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom", headers=bearer(token))
    body = assert_error_shape(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert SECRET_DETAIL not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text
    assert "errors" not in body
    # "It has been logged": the detail goes to the log, not to the caller.
    assert any(
        record.exc_info and isinstance(record.exc_info[1], RuntimeError)
        for record in caplog.records
    )


def test_crashing_route_still_refuses_anonymous_callers(boom_app: Flask) -> None:
    response = boom_app.test_client().get("/api/v1/boom")
    assert_error_shape(response, 401, "unauthenticated")


def test_unknown_page_is_a_friendly_html_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1" in page
    assert "Page not found" in page
    assert "Traceback" not in page
    assert '"code"' not in page


def test_wrong_method_on_a_page_is_a_friendly_html_405(client: FlaskClient) -> None:
    response = client.delete("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "<h1" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]
