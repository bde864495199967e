"""Test set-up: one migrated database per run (SQLite by default, PostgreSQL
when TEST_DATABASE_URL says so), and each test inside a transaction that is
rolled back, so tests never see each other's rows."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from tests.factories import Factory


def pytest_report_header() -> str:
    return f"database: {os.environ.get('TEST_DATABASE_URL') or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    )


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction_per_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Bind every session of the test to one connection inside a transaction
    that is rolled back afterwards; the app's own commits become savepoints."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            engines[None] = engine
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`, as a browser would read it."""
    page = client.get(path)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@contextmanager
def database_like(database_url: str, folder: Path, label: str) -> Iterator[str]:
    """An empty database of the suite's kind: a SQLite file in `folder`, or a
    new PostgreSQL database next to the suite's, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(folder / f"{label}.db")
        return
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = f"{url.database}_{label}_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's, for tests that need
    real commits seen by other connections (concurrency, migrations)."""
    with database_like(database_url, tmp_path, "fresh") as url:
        yield url


@pytest.fixture
def live_app(fresh_database_url: str) -> Iterator[Flask]:
    """An app over a fresh, migrated database whose commits are real."""
    live = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=fresh_database_url)
    with live.app_context():
        flask_migrate.upgrade()
    yield live
    with live.app_context():
        db.session.remove()
        db.engine.dispose()


def _postgres_admin_url() -> str:
    return os.environ.get(
        "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards. Skipped when the
    server is unreachable, except under CI=true, where that is a failure."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin = _postgres_admin_url()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            name = f"referral_pg_{uuid.uuid4().hex[:10]}"
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is needed and unreachable under CI: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for tests that need PostgreSQL itself,
    whatever database the rest of the suite runs on."""
    with fresh_postgres_database() as url:
        yield url


def migrated_app(url: str, **overrides: object) -> Flask:
    live = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, **overrides)
    with live.app_context():
        flask_migrate.upgrade()
    return live
