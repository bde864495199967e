"""Configuration: production refuses unsafe settings, development and the
database URL get sensible defaults, SQLite connections are set up safely."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from referral_app import create_app
from referral_app.config import (
    ConfigurationError,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
)
from referral_app.extensions import db

REQUIRED_VARIABLES = ("SECRET_KEY", "AUDIT_HMAC_KEY", "DATABASE_URL", "DOCUMENT_ENCRYPTION_KEY")

# Every variable create_app reads, so the developer's shell cannot leak into a test.
READ_VARIABLES = (
    "APP_ENV",
    "SECRET_KEY",
    "AUDIT_HMAC_KEY",
    "AUDIT_CHECKPOINT_KEY",
    "AUDIT_CHECKPOINT_PUBLIC_KEY",
    "AUDIT_CHECKPOINT_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "MAIL_FROM",
    "DOCUMENT_ENCRYPTION_KEY",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in READ_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return "sqlite:///" + str(tmp_path / "config.db")


@pytest.fixture
def production_environment(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> dict[str, str]:
    values = {
        "SECRET_KEY": "a-production-secret-key-from-the-environment",
        "AUDIT_HMAC_KEY": "a-production-audit-key-from-the-secret-store",
        "DATABASE_URL": sqlite_url,
        "DOCUMENT_ENCRYPTION_KEY": "dGVzdHMtb25seS1kb2N1bWVudC1rZXktMzItYnl0ZXM=",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def made_apps() -> Iterator[list[Flask]]:
    """Apps a test builds; their engines are disposed afterwards."""
    apps: list[Flask] = []
    yield apps
    for app in apps:
        dispose(app)


@pytest.mark.parametrize("missing", REQUIRED_VARIABLES)
def test_production_refuses_to_start_without_each_required_variable(
    monkeypatch: pytest.MonkeyPatch, production_environment: dict[str, str], missing: str
) -> None:
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match="refuses to start"):
        create_app(ProductionConfig)


@pytest.mark.parametrize("missing", REQUIRED_VARIABLES)
def test_production_refusal_names_the_missing_environment_variable(
    monkeypatch: pytest.MonkeyPatch, production_environment: dict[str, str], missing: str
) -> None:
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig)
    message = str(refused.value)
    assert missing in message
    assert "SQLALCHEMY_DATABASE_URI" not in message
    for present in set(REQUIRED_VARIABLES) - {missing}:
        assert present not in message


def test_production_with_nothing_set_reports_every_missing_setting_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig)
    message = str(refused.value)
    for name in REQUIRED_VARIABLES:
        assert name in message
    # The operator sets DATABASE_URL; the config key would send them looking
    # for a variable that is never read.
    assert "SQLALCHEMY_DATABASE_URI" not in message


@pytest.mark.parametrize("blank", ["SECRET_KEY", "AUDIT_HMAC_KEY"])
def test_production_treats_an_empty_secret_as_missing(
    monkeypatch: pytest.MonkeyPatch, production_environment: dict[str, str], blank: str
) -> None:
    monkeypatch.setenv(blank, "")
    with pytest.raises(ConfigurationError, match=blank):
        create_app(ProductionConfig)


def test_production_starts_when_every_required_variable_is_set(
    production_environment: dict[str, str], made_apps: list[Flask]
) -> None:
    app = create_app(ProductionConfig)
    made_apps.append(app)
    assert app.config["SECRET_KEY"] == production_environment["SECRET_KEY"]
    assert app.config["AUDIT_HMAC_KEY"] == production_environment["AUDIT_HMAC_KEY"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == production_environment["DATABASE_URL"]
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["MFA_REQUIRED"] is True
    assert not app.testing


def test_app_env_production_selects_the_production_config(
    monkeypatch: pytest.MonkeyPatch, production_environment: dict[str, str], made_apps: list[Flask]
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    app = create_app()
    made_apps.append(app)
    assert app.config["MFA_REQUIRED"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_app_env_production_without_secrets_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError):
        create_app()


def test_unknown_app_env_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigurationError, match="staging"):
        create_app()


def test_development_default_database_is_a_sqlite_file_in_the_instance_folder(
    made_apps: list[Flask],
) -> None:
    app = create_app(DevelopmentConfig)
    made_apps.append(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    assert url.startswith("sqlite:///")
    assert url.endswith("referrals.db")
    assert app.instance_path in url
    assert url == "sqlite:///" + os.path.join(app.instance_path, "referrals.db")


def test_development_is_the_default_when_app_env_is_unset(made_apps: list[Flask]) -> None:
    app = create_app()
    made_apps.append(app)
    assert app.config["SECRET_KEY"] == DevelopmentConfig.SECRET_KEY
    assert app.config["MFA_REQUIRED"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("referrals.db")


def test_development_honours_database_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, made_apps: list[Flask]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    app = create_app(DevelopmentConfig)
    made_apps.append(app)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url


def test_testing_config_ignores_environment_secrets_and_database(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, made_apps: list[Flask]
) -> None:
    monkeypatch.setenv("SECRET_KEY", "leaked-from-the-shell")
    monkeypatch.setenv("DATABASE_URL", "postgresql://prod.example/referrals")
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sqlite_url)
    made_apps.append(app)
    assert app.config["SECRET_KEY"] == TestingConfig.SECRET_KEY
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url


@pytest.mark.parametrize(
    "configured",
    [
        "postgres://referrals:pw@db.internal:5433/referrals",
        "postgresql://referrals:pw@db.internal:5433/referrals",
    ],
)
def test_plain_postgres_url_is_rewritten_to_psycopg3_without_a_ping_per_checkout(
    monkeypatch: pytest.MonkeyPatch,
    production_environment: dict[str, str],
    configured: str,
    made_apps: list[Flask],
) -> None:
    monkeypatch.setenv("DATABASE_URL", configured)
    app = create_app(ProductionConfig)
    made_apps.append(app)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://referrals:pw@db.internal:5433/referrals"
    )
    # No liveness round trip per request: connections are recycled instead,
    # and a dead one is retried once (tests/test_dead_connections.py).
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 1800
    with app.app_context():
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.engine.url.host == "db.internal"


def test_explicit_psycopg_url_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
    production_environment: dict[str, str],
    made_apps: list[Flask],
) -> None:
    url = "postgresql+psycopg://referrals@db.internal/referrals"
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app(ProductionConfig)
    made_apps.append(app)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    # No liveness round trip per request: connections are recycled instead,
    # and a dead one is retried once (tests/test_dead_connections.py).
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 1800


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    sqlite_url: str, made_apps: list[Flask]
) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sqlite_url)
    made_apps.append(app)
    with app.app_context(), db.engine.connect() as connection:
        journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()
        foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
        busy_timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()
    assert str(journal_mode).lower() == "wal"
    assert foreign_keys == 1
    assert busy_timeout is not None
    assert int(busy_timeout) > 0


def test_sqlite_refuses_a_row_that_breaks_a_foreign_key(
    sqlite_url: str, made_apps: list[Flask]
) -> None:
    """foreign_keys=ON is not just reported: the database enforces it."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sqlite_url)
    made_apps.append(app)
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)")
        )
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            connection.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))
        connection.rollback()
