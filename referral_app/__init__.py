"""The referral service. `create_app()` builds it; `flask --app referral_app` finds it."""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from referral_app import templating
from referral_app.config import Config, ConfigurationError, config_from_environment
from referral_app.json_provider import OrjsonProvider


def _database_url(app: Flask, configured: str | None) -> str:
    if not configured:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        return "sqlite:///" + os.path.join(app.instance_path, "referrals.db")
    # Accept plain postgres URLs and use psycopg 3 for them.
    for prefix in ("postgres://", "postgresql://"):
        if configured.startswith(prefix):
            return "postgresql+psycopg://" + configured[len(prefix) :]
    return configured


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # The connection events below finish the SQLite set-up.
        return {"connect_args": {"timeout": 15}}
    return {
        # No liveness ping on every checkout (a round trip per request):
        # connections are replaced after half an hour, before a server or
        # proxy drops them as idle, and a request whose first statement
        # finds its connection dead is retried once on a fresh one
        # (auth_guard.load_user_from_request).
        "pool_pre_ping": False,
        "pool_recycle": 1800,
        "pool_size": 5,
        "max_overflow": 10,
        # Requests are short and many run at once: a parallel plan for one of
        # them takes the cores from the others (measured in bench/: a common
        # name search went from 32 ms to 12 ms at 100k referrals without it).
        "connect_args": {"options": "-c max_parallel_workers_per_gather=0"},
    }


def _apply_environment(app: Flask, config_class: type[Config]) -> None:
    for name in config_class.ENVIRONMENT_OVERRIDES:
        value = os.environ.get(name)
        if value:
            key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
            app.config[key] = value


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application from a config class (APP_ENV picks one when none
    is given), environment variables, then explicit `overrides`."""
    config_class = config or config_from_environment()
    app = Flask(__name__, instance_relative_config=True)
    app.json = OrjsonProvider(app)
    app.config.from_object(config_class)
    _apply_environment(app, config_class)
    app.config.update(overrides)
    # flask-smorest writes into these options: each app gets its own copy.
    app.config["API_SPEC_OPTIONS"] = copy.deepcopy(app.config["API_SPEC_OPTIONS"])
    config_class.check(app.config)
    url = _database_url(app, app.config.get("SQLALCHEMY_DATABASE_URI"))
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **_engine_options(url),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }

    _trust_proxies(app)
    _configure_logging(app)
    _init_extensions(app)
    templating.init_app(app)
    _register_blueprints(app)

    from referral_app import cli, throttling

    throttling.init_app(app)  # wraps the sign-in views, so after the blueprints
    cli.register(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind N proxies, the client is the address N hops back in
    X-Forwarded-For (and the scheme and host are the ones it asked for), so
    the per-address sign-in limit is per client, not one limit for everyone
    behind the proxy. With no proxy configured the headers are ignored: a
    client could write anything there."""
    setting = app.config.get("TRUSTED_PROXY_HOPS") or 0
    if not str(setting).isdigit():
        raise ConfigurationError(f"TRUSTED_PROXY_HOPS must be a whole number, not {setting!r}")
    hops = int(setting)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def _configure_logging(app: Flask) -> None:
    """Request logs as JSON lines on stderr (gunicorn collects them); the
    test suite leaves logging to pytest."""
    request_log = logging.getLogger("referral_app.requests")
    if app.testing or request_log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)


def _init_extensions(app: Flask) -> None:
    # Order matters: the database first, then what uses it, then the API,
    # whose error handler ours must replace, then the guard.
    from referral_app import (  # noqa: F401 (models registers the tables)
        auth_guard,
        boundary,
        errors,
        models,
        security,
    )
    from referral_app.extensions import ReferralApi, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    app.extensions["referral_api"] = ReferralApi(app)
    errors.register_error_handlers(app)
    security.init_app(app)
    boundary.init_app(app)
    auth_guard.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from blueprints import register_blueprints

    register_blueprints(app)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL, foreign keys and a busy timeout for every SQLite connection; and
    transactions begun by SQLAlchemy, not by the driver (pysqlite's own
    transaction handling breaks SAVEPOINT)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """SQLite transactions take the write lock at once (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes fails with "database is
    locked" when another writer committed in between (its snapshot is stale),
    and reading a counter or chain head there races. Taking the lock first
    makes SQLite's writers queue; PostgreSQL is the choice for concurrency."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
