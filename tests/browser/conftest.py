"""Browser-test harness: a real server over a fresh database for the whole
run, Debian's Chromium driven by Playwright, a fresh browser context per test,
and a screenshot of every test that fails.

Never `playwright install`: the browser is /usr/bin/chromium (apt's chromium).
Without it the browser tests are skipped, except under CI=true, where that is
a failure.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from tests.conftest import database_like
from tests.factories import Factory, UserInfo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

BROWSER_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_DIR.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's waits and assertions give up after this long (milliseconds).
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser is marked `browser` (`-m "not browser"`
    leaves them out)."""
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- The live server ---------------------------------------------------------


@pytest.fixture(scope="session")
def live_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of the suite's kind for the whole run: a SQLite file,
    or a new PostgreSQL database (dropped at the end) next to the suite's."""
    with database_like(database_url, tmp_path_factory.mktemp("browser-db"), "browser") as url:
        yield url


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@dataclass(frozen=True)
class LiveServer:
    app: Flask
    url: str  # http://127.0.0.1:<port>, no trailing slash


@pytest.fixture(scope="session")
def live_server(live_database_url: str) -> Iterator[LiveServer]:
    """The app over a fresh, migrated database, served by werkzeug's threaded
    server on a free port of 127.0.0.1 in a background thread."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=live_database_url)
    with app.app_context():
        flask_migrate.upgrade()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name="live-server",
        daemon=True,  # never keeps an interrupted run alive
    )
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def live_app(live_server: LiveServer) -> Flask:
    """The served app (replaces the per-test `live_app` of tests/conftest.py)."""
    return live_server.app


@pytest.fixture
def factory(live_app: Flask) -> Factory:
    """Rows committed to the live server's database (the shared `factory`
    would write to the rolled-back test database the server never sees)."""
    return Factory(live_app)


# --- The browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need Chromium under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    """A fresh browser context (cookies, storage) for every test."""
    context = browser.new_context(
        base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    try:
        yield page
    finally:
        page.close()


def _screenshot_name(test_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_") + ".png"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A full-page screenshot of a test that failed in its call phase, in
    test-artifacts/screenshots/<test name>.png (the page is still open here:
    fixtures are torn down after this report)."""
    report = yield
    if report.when == "call" and report.failed:
        page = getattr(item, "funcargs", {}).get("page")
        if page is not None and not page.is_closed():
            path = SCREENSHOT_DIR / _screenshot_name(item.name)
            try:
                SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), full_page=True, timeout=TIMEOUT_MS)
            except Exception as error:  # a failed screenshot must not hide the failure
                report.sections.append(("screenshot", f"no screenshot: {error}"))
            else:
                report.sections.append(("screenshot", str(path)))
    return report


@pytest.fixture
def person(browser: Browser, base_url: str) -> Iterator[Callable[[UserInfo], Page]]:
    """A signed-in browser of its own for each person (their own cookies)."""
    from tests.browser import sign_in

    contexts = []

    def open_as(user: UserInfo) -> Page:
        context = browser.new_context(
            base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, base_url, user.email, user.password)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()
