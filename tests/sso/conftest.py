"""Single sign-on tests: a real OpenID provider on loopback (tests/sso/provider.py),
an agency whose org admin set it up through the API, and a helper that
signs in as a browser would: the app's start redirects to the provider, the
provider's sign-in form is filled in over HTTP, and its redirect comes back
to the app's callback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from referral_app.models import Role
from tests.factories import Factory, OrgInfo, UserInfo, bearer, token_for
from tests.sso import provider as loopback
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET, LoopbackProvider


@pytest.fixture(scope="session")
def _serving() -> Iterator[LoopbackProvider]:
    with loopback.serving() as provider:
        yield provider


@pytest.fixture
def provider(_serving: LoopbackProvider) -> Iterator[LoopbackProvider]:
    """The loopback provider, its people and overrides fresh for each test."""
    _serving.people.clear()
    _serving.overrides.clear()
    yield _serving
    _serving.overrides.clear()
    _serving.impostor_key = None


@dataclass(frozen=True)
class Agency:
    org: OrgInfo
    admin: UserInfo
    admin_headers: dict[str, str]

    @property
    def settings_path(self) -> str:
        return f"/api/v1/organisations/{self.org.id}/identity-provider"


def settings_body(provider: LoopbackProvider, **changes: Any) -> dict[str, Any]:
    return {
        "display_name": "North Police accounts",
        "issuer": provider.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **changes,
    }


@pytest.fixture
def agency(client: FlaskClient, factory: Factory, provider: LoopbackProvider) -> Agency:
    """An agency whose org admin set up the loopback provider (sub identifies users)."""
    org = factory.organisation(code="north-police")
    admin = factory.user(Role.ORG_ADMIN, organisation=org)
    headers = bearer(token_for(client, admin))
    made = Agency(org, admin, headers)
    response = client.put(made.settings_path, json=settings_body(provider), headers=headers)
    assert response.status_code == 200, response.json
    return made


def configure(client: FlaskClient, agency: Agency, **changes: Any) -> dict[str, Any]:
    response = client.put(agency.settings_path, json=changes, headers=agency.admin_headers)
    assert response.status_code == 200, response.json
    return dict(response.json or {})


def start(client: FlaskClient, code: str = "north-police", next_url: str = "/") -> str:
    """Begin at the app: the provider's authorization URL it redirects to."""
    response = client.get(f"/sign-in/sso/{code}", query_string={"next": next_url})
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.location)


def at_provider(authorization_url: str, username: str, password: str = loopback.PASSWORD) -> str:
    """The person at the provider's sign-in form: the callback URL it sends them back to."""
    page = httpx.get(authorization_url)
    assert page.status_code == 200
    assert "Sign in to the loopback" in page.text
    params = dict(parse_qsl(urlsplit(authorization_url).query))
    answer = httpx.post(
        authorization_url.split("?")[0],
        data={**params, "username": username, "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def back_at_app(client: FlaskClient, callback_url: str) -> TestResponse:
    parts = urlsplit(callback_url)
    assert parts.path == "/sign-in/sso/callback", callback_url
    return client.get(f"{parts.path}?{parts.query}")


def sso_sign_in(client: FlaskClient, username: str, next_url: str = "/") -> TestResponse:
    """The whole round trip: the app's answer to the callback."""
    return back_at_app(client, at_provider(start(client, next_url=next_url), username))


def signed_in(client: FlaskClient) -> bool:
    home = client.get("/")
    return home.status_code == 200 and "Sign out" in home.get_data(as_text=True)
