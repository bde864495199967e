"""Liveness (/healthz) never touches the database; readiness (/readyz) does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    """Close the shared app's pooled connections when this module is done: the
    session fixture never disposes its engine, and psycopg warns (an error
    under filterwarnings=error) about connections still open at exit."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def unreachable_app() -> Iterator[Flask]:
    """An app whose database cannot be reached at all."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def counted_app(tmp_path: Path) -> Iterator[tuple[Flask, list[str]]]:
    """A fresh app on its own SQLite file, recording every connection checkout."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'h.db'}")
    checkouts: list[str] = []

    def record(*_: Any) -> None:
        checkouts.append("checkout")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", record)
    yield app, checkouts
    event.remove(engine, "checkout", record)
    engine.dispose()


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.json == {"status": "ok"}


def test_healthz_needs_no_sign_in_and_sets_no_cookie(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_readyz_answers_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.is_json
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_healthz_stays_up_when_the_database_is_unreachable(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_503_json_when_the_database_is_unreachable(
    unreachable_app: Flask,
) -> None:
    response = unreachable_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.is_json
    assert response.json["status"] != "ok"
    assert response.json["database"] == "unreachable"


def test_readyz_failure_does_not_leak_connection_details(unreachable_app: Flask) -> None:
    body = unreachable_app.test_client().get("/readyz").get_data(as_text=True)
    for detail in ("nowhere", "127.0.0.1", "postgres", "refused", "Traceback"):
        assert detail not in body


def test_healthz_checks_out_no_database_connection(
    counted_app: tuple[Flask, list[str]],
) -> None:
    app, checkouts = counted_app
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert checkouts == []
    # The counter does count: readiness does use a connection.
    assert client.get("/readyz").status_code == 200
    assert checkouts
