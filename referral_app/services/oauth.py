"""The OAuth 2.0 token endpoint for system accounts: the client credentials
grant (RFC 6749 section 4.4), with authlib's Flask AuthorizationServer and
ClientCredentialsGrant. authlib asks us only for a client (an adapter over
SystemAccount: no authlib mixin on our models) and to save the token, which
becomes an API token session of the system's user (services.system_accounts),
so the guard accepts it like any bearer token.

Failed client authentication is throttled like sign-in: per client id and
per address, counting failures only, in the limiter's storage."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from limits import parse_many

from referral_app.models import SystemAccount
from referral_app.services import audit, system_accounts
from referral_app.throttling import client_address

EXTENSION = "referral_oauth_server"
# Compared against when the client id is unknown, so an unknown client costs
# the same as a wrong secret.
_DUMMY_HASH = system_accounts.digest("no such client")


class SystemClient(ClientMixin):
    """authlib's view of a system account (or of an unknown client id)."""

    def __init__(self, client_id: str, system: SystemAccount | None) -> None:
        self.client_id = client_id
        self.system = system

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # Checked by ClientCredentials.validate_requested_scope; none asked: "".
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if self.system is None:
            hmac.compare_digest(_DUMMY_HASH, system_accounts.digest(client_secret))
            return False
        return system_accounts.secret_matches(self.system, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ClientCredentials.TOKEN_ENDPOINT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def validate_requested_scope(self) -> None:
        """A scope names permissions the system holds; none asked: all of them."""
        scope = self.request.payload.scope
        system = self.request.client.system
        if scope and system_accounts.allowed_scope(system, scope_to_list(scope)) is None:
            raise InvalidScopeError(
                description="Ask only for permissions the system account was given."
            )


def _lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config["SYSTEM_TOKEN_MINUTES"]))


def _access_token(*_args: Any, **_kwargs: Any) -> str:
    return system_accounts.TOKEN_PREFIX + generate_token(43)


def _query_client(client_id: str) -> SystemClient:
    return SystemClient(client_id, system_accounts.find_by_client_id(client_id))


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    client: SystemClient = oauth_request.client
    assert client.system is not None  # authenticated
    scope = scope_to_list(token.get("scope")) if token.get("scope") else None
    token["expires_in"] = int(_lifetime().total_seconds())
    system_accounts.issue_token(client.system, token["access_token"], scope, _lifetime())


def server_for(app: Flask) -> AuthorizationServer:
    """The app's authorization server, made on first use."""
    if EXTENSION in app.extensions:
        found: AuthorizationServer = app.extensions[EXTENSION]
        return found
    server = AuthorizationServer()
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.register_token_generator(
        "default",
        server.create_bearer_token_generator(
            {
                "OAUTH2_ACCESS_TOKEN_GENERATOR": _access_token,
                "OAUTH2_TOKEN_EXPIRES_IN": {
                    "client_credentials": int(app.config["SYSTEM_TOKEN_MINUTES"]) * 60
                },
            }
        ),
    )
    server.register_grant(ClientCredentials)
    app.extensions[EXTENSION] = server
    return server


# --- Throttling ---------------------------------------------------------------


def _offered_client_id() -> str:
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return str(auth.username)
    return str(request.form.get("client_id") or "")


def _limits() -> list[tuple[Any, str, str]]:
    config = current_app.config
    items = []
    for item in parse_many(str(config["SIGN_IN_LIMIT_PER_ACCOUNT"])):
        items.append((item, "oauth-client", _offered_client_id()[:64]))
    for item in parse_many(str(config["SIGN_IN_LIMIT_PER_ADDRESS"])):
        items.append((item, "oauth-address", client_address()))
    return items


def _throttled() -> bool:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    limiter: Limiter = current_app.extensions["referral_limiter"]
    return any(not limiter.limiter.test(item, *keys) for item, *keys in _limits())


def _count_failure() -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    limiter: Limiter = current_app.extensions["referral_limiter"]
    for item, *keys in _limits():
        limiter.limiter.hit(item, *keys)


def token_response() -> Response:
    """Answer a token request: a token, or an RFC 6749 error (throttled with
    429 after too many failed client authentications)."""
    if _throttled():
        audit.record_denial("auth.throttled", None, reason=f"POST {request.path}")
        refusal = Response(
            '{"error": "slow_down", "error_description": '
            '"Too many failed attempts: try again later."}',
            status=429,
            mimetype="application/json",
        )
        refusal.headers["Retry-After"] = "60"
        return refusal
    server = server_for(current_app._get_current_object())  # type: ignore[attr-defined]
    response: Response = server.create_token_response()
    if response.status_code == 401:
        _count_failure()
        audit.record_denial(
            "system.token_refused",
            None,
            record_type="system_account",
            reason="client authentication failed",
        )
    elif response.status_code >= 400:
        audit.record_denial(
            "system.token_refused", None, record_type="system_account", reason="bad token request"
        )
    return response
