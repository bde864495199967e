"""Migrations are the only way the schema is made: on a fresh database they
build exactly what the models describe, and they go down and up again."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from psycopg import sql
from sqlalchemy import func, inspect, make_url, select, text

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.models import Organisation, OrganisationKind, Role, User
from tests.factories import Factory


def _admin_connection(url: str) -> psycopg.Connection:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        autocommit=True,
    )


@pytest.fixture
def migration_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own: a SQLite file, or when the suite
    runs on PostgreSQL a new database on the same server, dropped afterwards."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured or not make_url(configured).get_backend_name().startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migrations.db")
        return
    base = make_url(configured)
    name = f"{base.database}_mig_{uuid.uuid4().hex[:10]}"
    with _admin_connection(configured) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connection(configured) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def fresh_app(migration_database_url: str) -> Iterator[Flask]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=migration_database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def database_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def leftover_objects() -> list[str]:
    """Anything in the database besides Alembic's own version table: tables,
    indexes, triggers, sequences, functions, enum and domain types."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.execute(
                text(
                    "SELECT type || ' ' || name FROM sqlite_master "
                    "WHERE name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT 'relation ' || c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relname NOT LIKE 'alembic_version%' "
                    "UNION ALL SELECT 'function ' || p.proname FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                    "UNION ALL SELECT 'type ' || t.typname FROM pg_type t "
                    "JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')"
                )
            )
        return sorted(row[0] for row in rows)


def test_fresh_database_starts_empty(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        assert not database_tables() & model_tables()


def test_migrated_schema_matches_the_models(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            # The trigram indexes are expressions that Alembic cannot compare
            # (SQLite cannot reflect them; PostgreSQL renders them its own way):
            # checked by name below instead.
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _not_trigram}
            )
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="autogenerate skipping metadata-specified expression"
                )
                differences = compare_metadata(context, db.metadata)
            indexes = {index["name"] for index in inspect(connection).get_indexes("child")}
            head = context.get_current_revision()
    assert differences == []
    assert head is not None
    trigram = {"ix_child_full_name_trgm"}
    if fresh_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert trigram <= indexes
    else:
        assert not trigram & indexes


def _not_trigram(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))


def test_models_define_the_tables_the_migrations_make(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        flask_migrate.upgrade()
        tables = database_tables()
    assert {"organisation", "user_account", "user_role", "auth_session"} <= model_tables()
    assert model_tables() <= tables
    assert tables - model_tables() == {"alembic_version"}


def test_downgrade_to_base_with_data_and_upgrade_again(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        flask_migrate.upgrade()
    # Rows made through the services and committed, as the app would.
    factory = Factory(fresh_app)
    organisation = factory.organisation(OrganisationKind.COUNCIL, code="round-trip")
    factory.user(Role.ORG_ADMIN, organisation=organisation, email="round.trip@example.org")

    with fresh_app.app_context():
        assert db.session.scalar(select(func.count(Organisation.id))) == 1
        assert db.session.scalar(select(func.count(User.id))) == 1
        # A session holding a read transaction would block DROP TABLE on PostgreSQL.
        db.session.remove()
        # The probe used after the downgrade does see the schema's objects.
        assert any(item.endswith(" organisation") for item in leftover_objects())

        flask_migrate.downgrade(revision="base")
        assert not database_tables() & model_tables()
        assert database_tables() <= {"alembic_version"}
        assert leftover_objects() == []

        flask_migrate.upgrade()
        assert model_tables() <= database_tables()
        # The tables are new and empty.
        assert db.session.scalar(select(func.count(Organisation.id))) == 0
        assert db.session.scalar(select(func.count(User.id))) == 0
        db.session.remove()

    # ... and usable again.
    again = Factory(fresh_app).organisation(OrganisationKind.COUNCIL, code="round-trip")
    with fresh_app.app_context():
        assert db.session.scalar(select(Organisation.code)) == again.code
        db.session.remove()


def test_migrations_have_a_single_head(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        config = fresh_app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
