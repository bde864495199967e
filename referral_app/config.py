"""Configuration classes. The environment supplies secrets and the database;
the class chooses defaults fit for development, tests or production."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from typing import Any, ClassVar


class ConfigurationError(RuntimeError):
    """Raised when the application cannot start safely with the given settings."""


# Settings the environment supplies under another name.
ENVIRONMENT_NAMES = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}


class Config:
    NAME: ClassVar[str] = "base"

    SECRET_KEY: str | None = None
    AUDIT_HMAC_KEY: str | None = None
    # None means: a SQLite file in the instance folder (see create_app).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}
    REDIS_URL: str | None = None
    # The name in the header and in every page title.
    SERVICE_NAME = "Referrals"

    # Signed checkpoints of the audit chain's head (services/checkpoints.py):
    # the base64 of a 32-byte Ed25519 seed (never in the database), the
    # public half for verifiers without it, and where the checkpoints go
    # (default: instance/audit-checkpoints; in production, storage the
    # database's administrators cannot write).
    AUDIT_CHECKPOINT_KEY: str | None = None
    AUDIT_CHECKPOINT_PUBLIC_KEY: str | None = None
    AUDIT_CHECKPOINT_DIR: str | None = None
    # An audit event is written unsealed and sealed into the chain by the
    # sequencer (`flask audit seal --watch`); verify fails on one that has
    # waited longer than this. With AUDIT_SEAL_AFTER_REQUEST each request
    # also seals at once, after its commit (the test suite's choice: tests
    # read the chain right after a request).
    AUDIT_SEAL_BOUND = timedelta(seconds=5)
    AUDIT_SEAL_AFTER_REQUEST = False

    # Reverse proxies in front of the app that add X-Forwarded-For (and
    # -Proto, -Host): the client address is the one this many hops back.
    # 0 (the default) ignores those headers, which anyone can send.
    TRUSTED_PROXY_HOPS = 0

    # Request bodies larger than this are refused with 413.
    MAX_CONTENT_LENGTH = 1024 * 1024

    # Documents on a referral (referral_app/document_storage.py): where the
    # encrypted bytes go ("database", the default, or "directory" with
    # DOCUMENT_DIRECTORY), the AES-256-GCM key (url-safe base64 of 32 bytes,
    # never in the database; outside production one is generated once into
    # the instance folder), the largest file (the upload routes alone accept
    # a body this large), and the clamd scanner (a Unix socket, or host and
    # port) when one is configured: uploads are refused while it is unreachable.
    DOCUMENT_STORAGE = "database"
    DOCUMENT_DIRECTORY: str | None = None
    DOCUMENT_ENCRYPTION_KEY: str | None = None
    DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    CLAMD_SOCKET: str | None = None
    CLAMD_HOST: str | None = None
    CLAMD_PORT = 3310
    CLAMD_TIMEOUT = 30

    # Browser sessions live server-side (see services/auth.py); the cookie only
    # carries a random session key.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A browser session ends after this long without a request, and in any
    # case this long after sign-in.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_LIFETIME = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    HSTS_SECONDS = 0

    API_TOKEN_LIFETIME = timedelta(hours=8)
    # System accounts (services.system_accounts, services.oauth): how long a
    # client credentials token lasts, and how long a replaced client secret
    # keeps working after a rotation (unless retired sooner).
    SYSTEM_TOKEN_MINUTES = 15
    SYSTEM_SECRET_GRACE = timedelta(days=7)

    # Failed sign-ins allowed per account and per client address (Flask-Limiter
    # notation), on the login page and the token endpoint together.
    SIGN_IN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    SIGN_IN_LIMIT_PER_ADDRESS = "100 per 15 minutes"
    # Searches for likely records of a child per user (API, new-referral form
    # and child page together): enough for casework, too few to step through
    # dates of birth asking whether another agency holds a child.
    MATCH_LIMIT_PER_USER = "60 per hour; 200 per day"
    # CSV exports of an agency's referrals per user (API and reports page together).
    CSV_EXPORT_LIMIT = "10 per hour"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "referrals"

    # E-mail: links in e-mails point here; the outbox sender uses these.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    MAIL_FROM = "referrals@localhost"
    OUTBOX_MAX_ATTEMPTS = 10

    # Event delivery (services/event_delivery.py): a webhook call's timeout
    # in seconds; the back-off between attempts (doubling from the first,
    # at most the second, in seconds); a subscription is disabled after this
    # many failed attempts in a row, or when it has failed for this long.
    EVENT_DELIVERY_TIMEOUT = 5.0
    EVENT_BACKOFF_FIRST = 30
    EVENT_BACKOFF_MAX = 3600
    EVENT_MAX_FAILURES = 10
    EVENT_FAILING_FOR = timedelta(hours=24)
    # Plain http to a loopback address (a receiver in the tests); never in
    # production, where every endpoint is https to a public address.
    ALLOW_HTTP_LOOPBACK_WEBHOOKS = False

    # Single sign-on (services/sso.py): the timeout in seconds of each call
    # to an agency's OpenID provider (discovery, token, keys); plain http to
    # a loopback provider only when allowed (the tests' provider), never in
    # production, where the provider is https.
    SSO_HTTP_TIMEOUT = 10.0
    SSO_ALLOW_HTTP_LOOPBACK = False

    # Children's details and case text are anonymised this many days after
    # their last referral ended (closed, declined or withdrawn).
    RETENTION_DAYS = 6 * 365

    # Days a submitted referral may wait for triage, by risk level.
    TRIAGE_DEADLINE_DAYS: ClassVar[dict[str, float]] = {"high": 1, "medium": 3, "low": 7}

    # After this many failed sign-ins in a row an account pauses for
    # LOGIN_LOCKOUT, twice as long after each further round of failures
    # (services/auth.lockout_for); a successful sign-in starts the count again.
    LOGIN_MAX_FAILURES = 10
    LOGIN_LOCKOUT = timedelta(minutes=15)

    # argon2id parameters (RFC 9106 second recommended option, OWASP minimum).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 2

    # When False, users without a TOTP secret may sign in with a password alone.
    MFA_REQUIRED = False
    # When True, setting up a first authenticator (or one after an admin's
    # reset) needs a one-time enrolment code from an admin as well as the
    # password: a stolen password alone cannot enrol the thief's phone.
    TOTP_ENROLMENT_NEEDS_CODE = False
    ENROLMENT_CODE_LIFETIME = timedelta(hours=24)

    WTF_CSRF_TIME_LIMIT: int | None = None

    # flask-smorest / OpenAPI
    API_TITLE = "Referral case management API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS: ClassVar[dict[str, Any]] = {
        "info": {
            "description": (
                "Shared referral backend for agencies that keep children out of crime. "
                "Authenticate with POST /api/v1/auth/tokens and send "
                "`Authorization: Bearer <token>`. Errors are JSON "
                "`{code, status, message, errors}`."
            )
        },
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/v1/auth/tokens, sent as "
                    "`Authorization: Bearer <token>`; it lasts 8 hours or until revoked.",
                },
                "oauth2ClientCredentials": {
                    "type": "oauth2",
                    "description": "For system accounts: exchange the client id and secret an "
                    "org admin registered for a short-lived bearer token (15 minutes), sent "
                    "as `Authorization: Bearer <token>`. Scopes are permission names.",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/api/v1/oauth/token",
                            "scopes": {
                                "referrals:read": "Read the agency's referrals",
                                "referrals:create": "Create referrals",
                                "referrals:update": "Change draft referrals",
                                "referrals:transition": "Submit or withdraw referrals",
                                "notes:create": "Add notes",
                                "actions:work": "Work actions",
                            },
                        }
                    },
                },
            }
        },
    }

    REQUIRED_SETTINGS: ClassVar[tuple[str, ...]] = ()
    # Settings read from environment variables when the app is created:
    # config key -> variable name.
    ENVIRONMENT_OVERRIDES: ClassVar[tuple[str, ...]] = (
        "SECRET_KEY",
        "AUDIT_HMAC_KEY",
        "AUDIT_CHECKPOINT_KEY",
        "AUDIT_CHECKPOINT_PUBLIC_KEY",
        "AUDIT_CHECKPOINT_DIR",
        "AUDIT_SEAL_BOUND",  # in seconds
        "DATABASE_URL",
        "REDIS_URL",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "MAIL_FROM",
        "PUBLIC_BASE_URL",
        "QUERY_COUNT_HEADER",
        "TRUSTED_PROXY_HOPS",
        "DOCUMENT_STORAGE",
        "DOCUMENT_DIRECTORY",
        "DOCUMENT_ENCRYPTION_KEY",
        "DOCUMENT_MAX_BYTES",
        "CLAMD_SOCKET",
        "CLAMD_HOST",
        "CLAMD_PORT",
    )

    @classmethod
    def check(cls, settings: dict[str, Any]) -> None:
        """Refuse to start when a required setting is missing, naming each one."""
        missing = [
            ENVIRONMENT_NAMES.get(name, name)
            for name in cls.REQUIRED_SETTINGS
            if not settings.get(name)
        ]
        if missing:
            raise ConfigurationError(
                f"{cls.NAME} configuration refuses to start: missing " + ", ".join(missing)
            )


class DevelopmentConfig(Config):
    """Demo-friendly: a SQLite file in the instance folder, fixed dev keys."""

    NAME = "development"
    SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105 - development only
    AUDIT_HMAC_KEY = "dev-only-audit-key-not-for-production"
    AUDIT_CHECKPOINT_KEY = "hnpKx58iOKWIuCiYag//PUt1TuhxtjodG7Pa1WZOGIw="  # development only


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True
    # Tests see the 500 answer users would get (the error is still logged).
    PROPAGATE_EXCEPTIONS = False
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - tests only
    AUDIT_HMAC_KEY = "testing-audit-key"
    AUDIT_CHECKPOINT_KEY = "8BvN9muv2k9NKyeAH2eKxCT3THSTpG2XP7IY0Br6Kdo="  # tests only
    # A store of the test run's own, never the development one in instance/.
    AUDIT_CHECKPOINT_DIR = os.path.join(
        tempfile.gettempdir(), f"referral-test-checkpoints-{os.getpid()}"
    )
    AUDIT_SEAL_AFTER_REQUEST = True
    DOCUMENT_ENCRYPTION_KEY = "dGVzdHMtb25seS1kb2N1bWVudC1rZXktMzItYnl0ZXM="  # tests only
    # The suite points this at a database of its own (TEST_DATABASE_URL).
    SQLALCHEMY_DATABASE_URI = None
    ENVIRONMENT_OVERRIDES: ClassVar[tuple[str, ...]] = ()
    # Cheap hashes keep the suite fast; the parameters are still argon2id.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    WTF_CSRF_ENABLED = True
    # The event tests' receivers listen on 127.0.0.1 over plain http.
    ALLOW_HTTP_LOOPBACK_WEBHOOKS = True
    SSO_ALLOW_HTTP_LOOPBACK = True
    # The suite signs in hundreds of times from one address; the throttling
    # tests switch it back on in apps of their own.
    RATELIMIT_ENABLED = False


class ProductionConfig(Config):
    NAME = "production"
    REQUIRED_SETTINGS = (
        "SECRET_KEY",
        "AUDIT_HMAC_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "DOCUMENT_ENCRYPTION_KEY",
    )
    # __Host- cookies are only accepted over HTTPS, for this host, path "/".
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    HSTS_SECONDS = 63072000
    MFA_REQUIRED = True
    TOTP_ENROLMENT_NEEDS_CODE = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The class named by APP_ENV (development, testing, production); development by default."""
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(
            f"APP_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None
