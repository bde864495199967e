"""The OpenAPI document describes every API route, its methods, its error
answers (in the shared Error shape) and its request bodies."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from referral_app import create_app
from referral_app.config import Config, DevelopmentConfig, ProductionConfig, TestingConfig
from referral_app.extensions import db

SPEC_PATH = "/api/v1/openapi.json"
# The OAuth 2.0 token endpoint speaks RFC 6749, not our API's dialect: a
# form body (section 4.4.2) and {error, error_description} errors (section
# 5.2) for 400, 401 and 429; it is public (the client authenticates in it).
OAUTH_TOKEN = ("/api/v1/oauth/token", "post")
OAUTH_ERRORS = {"400", "401", "429"}
PUBLIC_OPERATIONS = {("/api/v1/auth/tokens", "post"), OAUTH_TOKEN}
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


# A request body is JSON, or a multipart form for an upload (documents).
BODY_MEDIA_TYPES = ("application/json", "multipart/form-data")


def request_content(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The request body's one media type and its content object."""
    content = resolve(spec, operation["requestBody"])["content"]
    assert len(content) == 1, sorted(content)
    ((media, described),) = content.items()
    return media, described


def test_every_request_body_references_a_schema_component(spec: dict[str, Any]) -> None:
    bodies = 0
    for path, method, operation in operations(spec):
        if "requestBody" not in operation:
            continue
        bodies += 1
        media, content = request_content(spec, operation)
        allowed = ("application/x-www-form-urlencoded",) if (path, method) == OAUTH_TOKEN else ()
        assert media in (*BODY_MEDIA_TYPES, *allowed), f"{method.upper()} {path}: {media}"
        reference = content["schema"].get("$ref", "")
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
            oauth = (path, method) == OAUTH_TOKEN and str(status) in OAUTH_ERRORS
            expected = "OAuthError" if oauth else "Error"
            assert schema == {"$ref": f"#/components/schemas/{expected}"}, where
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


# --- the document is valid OpenAPI, whatever the configuration --------------------------

# Every setting that changes what the app wires up around its routes: the
# configuration classes, MFA (the guard's sign-in rules) and the sign-in
# throttling (it wraps the sign-in view). Each must serve a valid document,
# and the same one: the committed snapshot (openapi.json) stands for them all.
ROUTE_CONFIGURATIONS: dict[str, tuple[type[Config], dict[str, Any]]] = {
    "testing": (TestingConfig, {}),
    "development": (DevelopmentConfig, {}),
    "production": (
        ProductionConfig,
        {
            "SECRET_KEY": "openapi-test-secret",
            "AUDIT_HMAC_KEY": "openapi-test-audit-key",
            "DOCUMENT_ENCRYPTION_KEY": "dGVzdHMtb25seS1kb2N1bWVudC1rZXktMzItYnl0ZXM=",
        },
    ),
    "mfa required": (TestingConfig, {"MFA_REQUIRED": True}),
    "sign-in throttled": (TestingConfig, {"RATELIMIT_ENABLED": True}),
    "query counts": (TestingConfig, {"QUERY_COUNT_HEADER": True}),
}


def validation_errors(document: dict[str, Any]) -> list[str]:
    """Every complaint openapi-spec-validator has, with where it is."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in OpenAPIV30SpecValidator(document).iter_errors()
    ]


def test_the_served_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.0.3"
    errors = validation_errors(spec)
    assert not errors, f"{len(errors)} OpenAPI errors:\n" + "\n".join(errors)


def test_the_validator_finds_what_the_issue_found(spec: dict[str, Any]) -> None:
    """The check can fail: a paginated list response without its description
    (the six errors of issue 18) is reported, path and all."""
    broken = copy.deepcopy(spec)
    del broken["paths"]["/api/v1/referrals"]["get"]["responses"]["200"]["description"]
    errors = validation_errors(broken)
    assert errors
    assert any("paths//api/v1/referrals/get/responses/200" in error for error in errors), errors


@pytest.mark.parametrize("name", sorted(ROUTE_CONFIGURATIONS))
def test_every_configuration_serves_the_same_valid_document(
    name: str, spec: dict[str, Any], tmp_path: Path, made_apps: list[Flask]
) -> None:
    config_class, overrides = ROUTE_CONFIGURATIONS[name]
    made = create_app(
        config_class, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.db'}", **overrides
    )
    made_apps.append(made)
    document = made.test_client().get(SPEC_PATH).json
    errors = validation_errors(document)
    assert not errors, f"{name}: {len(errors)} OpenAPI errors:\n" + "\n".join(errors)
    assert document == spec, f"{name} serves another document than the tests' app"


def test_paginated_lists_document_their_answer_and_the_json_header(
    spec: dict[str, Any],
) -> None:
    paginated = 0
    for path, method, operation in operations(spec):
        ok = operation["responses"].get("200", {})
        if "X-Pagination" not in ok.get("headers", {}):
            continue
        paginated += 1
        where = f"{method.upper()} {path}"
        assert ok["description"], where
        assert ok["content"]["application/json"]["schema"]["type"] == "array", where
        header = ok["headers"]["X-Pagination"]
        assert header["description"], where
        metadata = resolve(spec, header["content"]["application/json"]["schema"])
        assert {"total", "page", "total_exact"} <= set(metadata["properties"]), where
    assert paginated >= 8


# --- every operation is documented well enough to build on -------------------------------


def parameters_of(spec: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    item = spec["paths"][path]
    found = [*item.get("parameters", []), *item[method].get("parameters", [])]
    return [resolve(spec, parameter) for parameter in found]


def request_body_example_offenders(spec: dict[str, Any]) -> list[str]:
    offenders = []
    for path, method, operation in operations(spec):
        if "requestBody" not in operation:
            continue
        _, content = request_content(spec, operation)
        if "example" not in content and "examples" not in content:
            offenders.append(f"{method.upper()} {path}")
    return offenders


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    offenders = request_body_example_offenders(spec)
    assert not offenders, (
        "request bodies without an example (add `example={...}` to @blp.arguments):\n"
        + "\n".join(offenders)
    )


def test_every_example_is_accepted_by_its_own_schema(spec: dict[str, Any]) -> None:
    """An example the schema refuses would mislead whoever tries it."""
    offenders = []
    for path, method, operation in operations(spec):
        if "requestBody" not in operation:
            continue
        _, content = request_content(spec, operation)
        if "example" not in content:
            continue
        schema = {"$ref": content["schema"]["$ref"], "components": spec["components"]}
        validator = OAS30Validator(schema)
        for error in validator.iter_errors(content["example"]):
            offenders.append(f"{method.upper()} {path}: {error.message}")
    assert not offenders, "examples their schemas refuse:\n" + "\n".join(offenders)


def test_every_operation_has_a_summary(spec: dict[str, Any]) -> None:
    offenders = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(spec)
        if not operation.get("summary", "").strip()
    ]
    assert not offenders, "operations without a summary (a docstring):\n" + "\n".join(offenders)


def missing_errors(spec: dict[str, Any], path: str, method: str) -> list[str]:
    """The error answers an operation can give but does not document: 401 and
    403 behind the sign-in; 400, 413, 415 and 422 for a body (malformed, too
    large, of another media type, invalid); 404 for an id in the path; 422
    for a query string; 412 and 428 for an If-Match precondition."""
    operation = spec["paths"][path][method]
    statuses = {str(status) for status in operation["responses"]}
    parameters = parameters_of(spec, path, method)
    expected = set()
    if (path, method) not in PUBLIC_OPERATIONS:
        expected |= {"401", "403"}
    if "requestBody" in operation:
        # 415: a body of another media type is refused (the fuzzer sends
        # JSON to the multipart upload and gets one). The token endpoint
        # answers an invalid request with RFC 6749's 400, never 422.
        expected |= {"400", "413", "415", "422"}
        if (path, method) == OAUTH_TOKEN:
            expected -= {"422"}
    if any(parameter["in"] == "path" for parameter in parameters) or "{" in path:
        expected.add("404")
    if any(parameter["in"] == "query" for parameter in parameters):
        expected.add("422")
    if any(parameter["name"] == "If-Match" for parameter in parameters):
        expected |= {"412", "428"}
    return sorted(expected - statuses)


def test_every_operation_documents_the_errors_it_can_give(spec: dict[str, Any]) -> None:
    offenders = []
    for path, method, _ in operations(spec):
        missing = missing_errors(spec, path, method)
        if missing:
            offenders.append(f"{method.upper()} {path}: {', '.join(missing)}")
    assert not offenders, (
        "operations that do not document errors they give "
        "(add them with documents_errors(blp, ...)):\n" + "\n".join(offenders)
    )


def test_the_error_walk_can_fail(spec: dict[str, Any]) -> None:
    broken = copy.deepcopy(spec)
    del broken["paths"]["/api/v1/referrals/{referral_id}"]["patch"]["responses"]["428"]
    assert missing_errors(broken, "/api/v1/referrals/{referral_id}", "patch") == ["428"]
    assert "PATCH /api/v1/referrals" not in " ".join(request_body_example_offenders(spec))


def test_every_error_response_is_described(spec: dict[str, Any]) -> None:
    for name, response in spec["components"]["responses"].items():
        assert response["description"], name
        if name == "NOT_MODIFIED":  # a 304 has no body
            continue
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }, name


def test_every_security_requirement_names_a_declared_scheme(spec: dict[str, Any]) -> None:
    schemes = set(spec["components"]["securitySchemes"])
    for scheme in spec["components"]["securitySchemes"].values():
        assert scheme.get("description"), scheme
    requirements = [spec["security"]]
    requirements += [
        operation["security"] for *_, operation in operations(spec) if "security" in operation
    ]
    for requirement in requirements:
        for alternative in requirement:
            assert set(alternative) <= schemes, alternative
