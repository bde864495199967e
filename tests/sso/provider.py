"""A real OpenID provider on loopback for the single sign-on tests: authlib's
AuthorizationServer with the authorization code grant, PKCE (S256 required)
and OpenID Connect (OpenIDCode), in a small Flask app served by werkzeug in a
thread. It publishes discovery and a JWKS, shows a sign-in page (a form a
person or a browser fills in), and issues ID tokens signed RS256 with its
own key.

A test may make it misbehave for the next tokens through `overrides` (any
claim replaced: amr, aud, iss, exp, nonce...), to check that the app
refuses what a broken or hostile provider sends.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, render_template_string, request
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

CLIENT_ID = "referrals-app"
CLIENT_SECRET = "loopback provider client secret"
PASSWORD = "provider password"

SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><title>Loopback identity provider</title></head>
<body><main><h1>Sign in to the loopback identity provider</h1>
{% if problem %}<p role="alert">{{ problem }}</p>{% endif %}
<form method="post" action="/authorize">
{% for name, value in params.items() %}
<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<label for="username">Username</label> <input id="username" name="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in</button>
</form></main></body></html>"""


@dataclass
class Person:
    """Somebody the provider knows: the claims of their ID token."""

    username: str
    claims: dict[str, Any]


@dataclass
class Client:
    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(word for word in scope.split() if word in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # The app under test runs on loopback at a port of the moment.
        return urlsplit(redirect_uri).hostname in ("127.0.0.1", "localhost")

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None  # in the person's claims (or the overrides)


@dataclass
class LoopbackProvider:
    """The provider's state: its key, client, people, codes and the claims
    the tests override."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    clients: dict[str, Client] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    # Signs ID tokens with this key instead (under the published key's kid).
    impostor_key: RSAKey | None = None
    url: str = ""  # the issuer, once serving

    def person(self, username: str, **claims: Any) -> Person:
        """Someone who can sign in here (`sub` defaults to a random id)."""
        claims.setdefault("sub", secrets.token_hex(8))
        self.people[username] = Person(username, claims)
        return self.people[username]

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False, kid=self.kid, use="sig", alg="RS256")]}

    @property
    def kid(self) -> str:
        return str(self.key.thumbprint())


def _app(provider: LoopbackProvider) -> Flask:
    app = Flask("loopback_oidc_provider")
    app.config["SECRET_KEY"] = secrets.token_hex(16)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
            "client_secret_basic",
            "client_secret_post",
        ]

        def save_authorization_code(self, code: str, req: Any) -> None:
            payload = req.payload.data
            provider.codes[code] = Code(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=payload.get("redirect_uri", ""),
                scope=req.scope,
                person=req.user,
                nonce=payload.get("nonce"),
                code_challenge=payload.get("code_challenge"),
                code_challenge_method=payload.get("code_challenge_method"),
                auth_time=int(time.time()),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> Person:
            return authorization_code.person

    class OpenID(OpenIDCode):
        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return provider.impostor_key or provider.key

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            return {"iss": provider.url, "aud": [client.client_id], "exp": int(time.time()) + 300}

        def get_encode_header(self, client: Client) -> dict[str, Any]:
            return {"alg": "RS256", "kid": provider.kid}

        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return False

        def generate_user_info(self, user: Person, scope: str) -> UserInfo:
            # The person's claims, then whatever the test wants changed.
            return UserInfo({**user.claims, **provider.overrides})

    server = AuthorizationServer(
        app,
        query_client=lambda client_id: provider.clients.get(client_id),
        save_token=lambda token, req: None,
    )
    server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(require_nonce=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=provider.url,
            authorization_endpoint=provider.url + "/authorize",
            token_endpoint=provider.url + "/token",
            jwks_uri=provider.url + "/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(provider.public_jwks())

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.method == "GET":
            return render_template_string(SIGN_IN_PAGE, params=request.args, problem=None)
        person = provider.people.get(request.form.get("username", ""))
        if person is None or request.form.get("password") != PASSWORD:
            params = {k: v for k, v in request.form.items() if k not in ("username", "password")}
            problem = "Wrong username or password."
            return render_template_string(SIGN_IN_PAGE, params=params, problem=problem), 401
        grant = server.get_consent_grant(end_user=person)
        return server.create_authorization_response(grant=grant, grant_user=person)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    return app


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@contextmanager
def serving() -> Iterator[LoopbackProvider]:
    """A provider on a free port of 127.0.0.1, with the app's client registered."""
    provider = LoopbackProvider()
    provider.clients[CLIENT_ID] = Client(CLIENT_ID, CLIENT_SECRET)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, _app(provider), threaded=True, request_handler=_Quiet
    )
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
