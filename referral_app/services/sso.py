"""Single sign-on with OpenID Connect: an agency's staff sign in through its
own identity provider (Microsoft Entra ID, say).

The flow (authlib's OAuth 2.0 client over requests, joserfc for the ID token):

1. `begin`: the provider's metadata from issuer/.well-known/openid-configuration
   (its `issuer` must be ours exactly), and the authorization URL of the
   code flow with PKCE (S256), a random `state` and `nonce`. What the
   callback needs (state, nonce, code verifier, agency, where to go next)
   stays in the signed session cookie, for ten minutes and one use.
2. `finish`: the callback's `state` must be the one we sent; the code is
   exchanged (with the verifier and the client secret) at the token
   endpoint; the ID token's signature is checked against the provider's
   JWKS (asymmetric algorithms only, never "none" or a shared secret), and
   its iss, aud (and azp), exp, iat and nonce claims.
3. The user: the agency's `user_claim` picks them. `email` or
   `preferred_username`: the user of that agency with that e-mail address.
   Otherwise (`sub`, `oid`): the user linked to that subject; an unlinked
   subject is linked on its first sign-in to the agency's user whose e-mail
   is the token's `email`, only when the provider says it is verified
   (`email_verified`). Nobody is created here: users are still set up by
   their admins. Unknown, inactive or system accounts are refused.
4. MFA: when the agency trusts its provider's MFA and the token's `amr`
   names an accepted method, that is the second factor (the session is
   marked `mfa_by_provider`); otherwise a user with an authenticator gives
   its code next (as with a password), and under MFA_REQUIRED one without
   must set one up.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Organisation, User, utcnow
from referral_app.models.sso import IdentityProvider, SsoIdentity
from referral_app.services import audit
from referral_app.services.identity_providers import allowed_provider_url, client_secret
from referral_app.services.users import normalise_email

# Asymmetric signatures only: "none" and HS256 (keyed with the client
# secret, which the admin pages handle) are refused.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
PENDING_SECONDS = 10 * 60
CLOCK_LEEWAY = 60
EMAIL_CLAIMS = frozenset({"email", "preferred_username", "upn"})

DID_NOT_FINISH = (
    "Signing in with your organisation's account did not finish. Start again: it must be "
    "completed within 10 minutes, in the same browser."
)
PROVIDER_FAILED = (
    "Your organisation's sign-in service did not answer as expected, so you have not been "
    "signed in. Try again; if it keeps happening, tell your administrator."
)


class SsoRefused(Exception):
    """A sign-in refused: `message` for the person, `reason` for the audit trail."""

    def __init__(self, message: str, reason: str, organisation: Organisation | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.organisation = organisation


@dataclass(frozen=True)
class Started:
    url: str
    pending: dict[str, Any]  # kept in the session until the callback


@dataclass(frozen=True)
class SignedIn:
    user: User
    provider: IdentityProvider
    mfa_by_provider: bool


def sign_in_providers() -> list[IdentityProvider]:
    """The enabled providers of active agencies, by agency name (the sign-in page's list)."""
    return list(
        db.session.scalars(
            select(IdentityProvider)
            .join(IdentityProvider.organisation)
            .where(IdentityProvider.enabled.is_(True), Organisation.active.is_(True))
            .order_by(Organisation.name)
        )
    )


def provider_for_code(code: str) -> IdentityProvider | None:
    """The enabled provider of the active agency with this code, or None."""
    return db.session.scalar(
        select(IdentityProvider)
        .join(IdentityProvider.organisation)
        .where(
            Organisation.code == code,
            IdentityProvider.enabled.is_(True),
            Organisation.active.is_(True),
        )
    )


def _get_json(url: str) -> dict[str, Any]:
    if not allowed_provider_url(url):
        raise SsoRefused(PROVIDER_FAILED, f"refused a non-https provider address {url}")
    try:
        response = requests.get(
            url, timeout=current_app.config["SSO_HTTP_TIMEOUT"], allow_redirects=False
        )
        response.raise_for_status()
        found = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SsoRefused(PROVIDER_FAILED, f"provider unreachable: {type(error).__name__}") from None
    if not isinstance(found, dict):
        raise SsoRefused(PROVIDER_FAILED, "provider answered something other than an object")
    return found


def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery), its issuer checked."""
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise SsoRefused(PROVIDER_FAILED, "the discovery document names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(name), str) or not allowed_provider_url(metadata[name]):
            raise SsoRefused(PROVIDER_FAILED, f"the discovery document lacks a usable {name}")
    return metadata


def _client(provider: IdentityProvider, metadata: dict[str, Any], redirect_uri: str) -> Any:
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
    )


def begin(provider: IdentityProvider, redirect_uri: str, next_url: str) -> Started:
    """The provider's authorization URL, and what the callback will check."""
    metadata = discover(provider.issuer)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    with _client(provider, metadata, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    pending = {
        "organisation_id": str(provider.organisation_id),
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "started": int(time.time()),
    }
    return Started(url=url, pending=pending)


def _provider_of(pending: dict[str, Any] | None, state: str | None) -> IdentityProvider:
    if not isinstance(pending, dict) or not state:
        raise SsoRefused(DID_NOT_FINISH, "no sign-in was started in this browser")
    if not secrets.compare_digest(str(pending.get("state", "")), state):
        raise SsoRefused(DID_NOT_FINISH, "state mismatch")
    if int(pending.get("started", 0)) + PENDING_SECONDS < time.time():
        raise SsoRefused(DID_NOT_FINISH, "the sign-in was started too long ago")
    provider = db.session.scalar(
        select(IdentityProvider).where(
            IdentityProvider.organisation_id == uuid.UUID(str(pending["organisation_id"]))
        )
    )
    if provider is None or not provider.enabled or not provider.organisation.active:
        raise SsoRefused(DID_NOT_FINISH, "the agency's single sign-on was turned off")
    return provider


def validate_id_token(
    id_token: str, *, keys: dict[str, Any], issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims, once its signature (a key of the provider's
    JWKS, an asymmetric algorithm), iss, aud, azp, exp, iat and nonce are
    right; SsoRefused otherwise (the reason says which)."""
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError, TypeError) as error:
        raise SsoRefused(PROVIDER_FAILED, f"ID token signature: {error}") from None
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise SsoRefused(PROVIDER_FAILED, f"ID token claims: {error}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SsoRefused(PROVIDER_FAILED, "ID token claims: azp is not our client")
    return claims


def _fetch_claims(
    provider: IdentityProvider, pending: dict[str, Any], code: str, redirect_uri: str
) -> dict[str, Any]:
    metadata = discover(provider.issuer)
    try:
        with _client(provider, metadata, redirect_uri) as client:
            token = client.fetch_token(
                metadata["token_endpoint"],
                code=code,
                code_verifier=pending["verifier"],
                timeout=current_app.config["SSO_HTTP_TIMEOUT"],
                allow_redirects=False,
            )
    except Exception as error:  # authlib raises many kinds: each means "refused"
        raise SsoRefused(
            PROVIDER_FAILED, f"token exchange failed: {type(error).__name__}"
        ) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoRefused(PROVIDER_FAILED, "the token endpoint sent no ID token")
    return validate_id_token(
        id_token,
        keys=_get_json(metadata["jwks_uri"]),
        issuer=provider.issuer,
        client_id=provider.client_id,
        nonce=str(pending["nonce"]),
    )


def _not_set_up(provider: IdentityProvider, reason: str) -> SsoRefused:
    name = provider.organisation.name
    return SsoRefused(
        f"Your account at {name} is not set up here: ask your administrator.",
        reason,
        provider.organisation,
    )


def _user_of(provider: IdentityProvider, claims: dict[str, Any]) -> User:
    """The agency's user the claims name (linking a verified e-mail's first sign-in)."""
    value = claims.get(provider.user_claim)
    if not isinstance(value, str) or not value.strip():
        raise _not_set_up(provider, f"the ID token has no {provider.user_claim} claim")
    in_agency = select(User).where(User.organisation_id == provider.organisation_id)
    if provider.user_claim in EMAIL_CLAIMS:
        user = db.session.scalar(in_agency.where(User.email == normalise_email(value)))
        if user is None:
            raise _not_set_up(provider, "no user of the agency has that e-mail address")
        return user
    identity = db.session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.organisation_id == provider.organisation_id,
            SsoIdentity.issuer == provider.issuer,
            SsoIdentity.subject == value,
        )
    )
    if identity is not None:
        identity.last_used_at = utcnow()
        return identity.user
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str):
        raise _not_set_up(provider, "unknown subject without a verified e-mail")
    user = db.session.scalar(in_agency.where(User.email == normalise_email(email)))
    if user is None:
        raise _not_set_up(provider, "unknown subject; no user of the agency has its e-mail")
    already = db.session.scalar(
        select(SsoIdentity.id).where(
            SsoIdentity.user_id == user.id, SsoIdentity.issuer == provider.issuer
        )
    )
    if already is not None:
        raise _not_set_up(provider, "the user is linked to another subject of this provider")
    identity = SsoIdentity(
        user=user,
        organisation_id=provider.organisation_id,
        issuer=provider.issuer,
        subject=value,
        last_used_at=utcnow(),
    )
    db.session.add(identity)
    db.session.flush()
    audit.record("sso.linked", user, record_type="user", record_id=user.id, reason=provider.issuer)
    return user


def provider_mfa(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    """True when the agency trusts its provider's MFA and `amr` names an accepted method."""
    amr = claims.get("amr")
    methods = {amr} if isinstance(amr, str) else set(amr) if isinstance(amr, list) else set()
    return provider.trust_provider_mfa and bool(methods & set(provider.mfa_values))


def finish(pending: dict[str, Any] | None, args: dict[str, str], redirect_uri: str) -> SignedIn:
    """The callback: the user the provider signed in, or SsoRefused."""
    provider = _provider_of(pending, args.get("state"))
    assert pending is not None  # checked by _provider_of
    if args.get("error"):
        raise SsoRefused(
            "Your organisation's sign-in service did not sign you in. Start again, or ask "
            "your administrator.",
            f"the provider answered {args['error'][:100]}",
            provider.organisation,
        )
    code = args.get("code")
    if not code:
        raise SsoRefused(DID_NOT_FINISH, "no authorization code", provider.organisation)
    try:
        claims = _fetch_claims(provider, pending, code, redirect_uri)
    except SsoRefused as refused:
        refused.organisation = provider.organisation
        raise
    user = _user_of(provider, claims)
    if not user.is_active or user.is_system:
        raise SsoRefused(
            f"Your account at {provider.organisation.name} is switched off here: ask your "
            "administrator.",
            "account or organisation disabled",
            provider.organisation,
        )
    return SignedIn(user=user, provider=provider, mfa_by_provider=provider_mfa(provider, claims))


def awaiting_code(user_id: uuid.UUID) -> User | None:
    """The user a provider signed in who still owes our security code (None
    when gone or switched off since)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active and not user.is_system else None


def refusal_recorded(refused: SsoRefused) -> None:
    """Audit a refused sign-in (kept although the request rolls back)."""
    audit.record_denial(
        "auth.login_failed",
        None,
        record_type="organisation",
        record_id=refused.organisation.id if refused.organisation else None,
        reason=f"single sign-on: {refused.reason}"[:500],
    )
