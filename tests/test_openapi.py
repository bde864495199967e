"""The OpenAPI document describes every API route, its methods, its error
answers (in the shared Error shape) and its request bodies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral_app import create_app
from referral_app.config import Config, TestingConfig
from referral_app.extensions import db

SPEC_PATH = "/api/v1/openapi.json"
PUBLIC_OPERATIONS = {("/api/v1/auth/tokens", "post")}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    """Close the shared app's pooled connections when this module is done: the
    session fixture never disposes its engine, and psycopg warns (an error
    under filterwarnings=error) about connections still open at exit."""
    yield
    with app.app_context():
        db.engine.dispose()


def openapi_path(rule: str) -> str:
    """Flask's /users/<uuid:user_id> as OpenAPI's /users/{user_id}."""
    return CONVERTER.sub(r"{\1}", rule)


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get(SPEC_PATH)
    assert response.status_code == 200
    return response.json


def api_routes(app: Flask) -> dict[str, set[str]]:
    """OpenAPI path -> lower-case methods, for every /api/v1 route but the spec itself."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule == SPEC_PATH:
            continue
        methods = {method.lower() for method in (rule.methods or set()) - IGNORED_METHODS}
        routes.setdefault(openapi_path(rule.rule), set()).update(methods)
    return routes


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), pointer
        target: Any = spec
        for part in pointer[2:].split("/"):
            assert part in target, f"dangling $ref {pointer}"
            target = target[part]
        node = target
    return node


def test_openapi_document_is_public_json(client: FlaskClient) -> None:
    response = client.get(SPEC_PATH)
    assert response.status_code == 200
    assert response.is_json
    assert response.json["openapi"].startswith("3.")
    assert response.json["paths"]


def test_the_route_converter_helper_translates_flask_rules() -> None:
    assert openapi_path("/api/v1/users/<uuid:user_id>") == "/api/v1/users/{user_id}"
    assert openapi_path("/api/v1/a/<x>/b/<int:y>") == "/api/v1/a/{x}/b/{y}"


def test_every_api_route_and_method_is_documented(app: Flask, spec: dict[str, Any]) -> None:
    routes = api_routes(app)
    assert "/api/v1/users/{user_id}" in routes  # the helper found the routes
    for path, methods in routes.items():
        assert path in spec["paths"], f"{path} is not documented"
        documented = set(spec["paths"][path]) & HTTP_METHODS
        assert methods <= documented, f"{path}: undocumented {sorted(methods - documented)}"


def test_no_documented_operation_lacks_a_route(app: Flask, spec: dict[str, Any]) -> None:
    routes = api_routes(app)
    for path, method, _ in operations(spec):
        assert method in routes.get(path, set()), f"{method.upper()} {path} has no route"


def test_every_operation_documents_a_client_error(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        statuses = [str(status) for status in operation["responses"]]
        assert any(status.startswith("4") for status in statuses), f"{method} {path}"


def test_every_operation_but_sign_in_documents_401(spec: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in operations(spec):
        if (path, method) in PUBLIC_OPERATIONS:
            continue
        assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"
        checked += 1
    assert checked >= 5


def test_every_operation_but_sign_in_requires_the_bearer_scheme(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"bearerAuth": []}]
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for path, method, operation in operations(spec):
        security = operation.get("security", spec["security"])
        if (path, method) in PUBLIC_OPERATIONS:
            assert security == [], f"{method.upper()} {path} should be public"
        else:
            assert {"bearerAuth": []} in security, f"{method.upper()} {path}"


def test_documented_401s_really_refuse_anonymous_callers(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    """The document and the guard agree: what says 401 is refused without a token."""
    for path, method, operation in operations(spec):
        if "401" not in operation["responses"] or (path, method) in PUBLIC_OPERATIONS:
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        body = {"json": {}} if method in {"post", "put", "patch"} else {}
        response = client.open(url, method=method.upper(), **body)
        assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"


def test_every_request_body_references_a_schema_component(spec: dict[str, Any]) -> None:
    bodies = 0
    for path, method, operation in operations(spec):
        if "requestBody" not in operation:
            continue
        bodies += 1
        content = resolve(spec, operation["requestBody"])["content"]
        assert "application/json" in content, f"{method.upper()} {path}"
        reference = content["application/json"]["schema"].get("$ref", "")
        assert reference.startswith("#/components/schemas/"), f"{method.upper()} {path}"
        resolve(spec, {"$ref": reference})  # the component exists
    assert bodies >= 4  # sign-in, create organisation, create user, update user


def test_error_responses_use_the_error_schema(spec: dict[str, Any]) -> None:
    error_responses = 0
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if not (str(status).startswith(("4", "5")) or status == "default"):
                continue
            error_responses += 1
            resolved = resolve(spec, response)
            schema = resolved["content"]["application/json"]["schema"]
            where = f"{method.upper()} {path} {status}"
            assert schema == {"$ref": "#/components/schemas/Error"}, where
    assert error_responses > 0


def test_error_schema_has_code_status_message_and_errors(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "status", "message", "errors"}
    assert error["properties"]["status"]["type"] == "integer"
    assert error["properties"]["code"]["type"] == "string"
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["errors"]["type"] == "object"
    assert set(error["required"]) == {"code", "status", "message"}


@pytest.fixture
def made_apps() -> Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for made in apps:
        with made.app_context():
            db.engine.dispose()


def test_serving_the_document_leaves_the_config_class_untouched(client: FlaskClient) -> None:
    """apispec writes into the spec options it is given; they must be a copy,
    never the class-level API_SPEC_OPTIONS every later app starts from."""
    assert client.get(SPEC_PATH).status_code == 200
    assert set(Config.API_SPEC_OPTIONS["info"]) == {"description"}
    assert set(Config.API_SPEC_OPTIONS["components"]) == {"securitySchemes"}


def test_an_app_documents_its_own_api_title_and_version(
    client: FlaskClient, tmp_path: Path, made_apps: list[Flask]
) -> None:
    assert client.get(SPEC_PATH).status_code == 200  # some app has served its document
    custom = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'custom.db'}",
        API_TITLE="Custom title",
        API_VERSION="v9",
    )
    made_apps.append(custom)
    info = custom.test_client().get(SPEC_PATH).json["info"]
    assert info["title"] == "Custom title"
    assert info["version"] == "v9"


def test_each_app_serves_its_own_openapi_document(tmp_path: Path, made_apps: list[Flask]) -> None:
    """One Api per app: building a second app does not change the first's document."""
    first = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}", API_TITLE="First"
    )
    made_apps.append(first)
    assert first.test_client().get(SPEC_PATH).json["info"]["title"] == "First"
    second = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'b.db'}", API_TITLE="Second"
    )
    made_apps.append(second)
    assert second.test_client().get(SPEC_PATH).json["info"]["title"] == "Second"
    assert first.test_client().get(SPEC_PATH).json["info"]["title"] == "First"


def test_the_shared_app_still_serves_its_own_document_after_others_were_built(
    client: FlaskClient, tmp_path: Path, made_apps: list[Flask]
) -> None:
    other = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'o.db'}", API_TITLE="Other"
    )
    made_apps.append(other)
    assert client.get(SPEC_PATH).json["info"]["title"] == Config.API_TITLE
