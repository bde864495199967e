"""Every page each demo user reaches by following links from their home
page, in Chromium, at desktop width and at 360 px: axe finds nothing, the
page never scrolls sideways on a phone, and no page is an error.

The demo data (`flask seed-demo`) is loaded into the live server's database
first, so the pages are full: worklists, referrals at every stage, notes,
shares, notifications, the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from referral_app.services.demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser import assert_good_at_both_widths, sign_in

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Leaving the pages, downloads, and ending the session are not followed.
NOT_FOLLOWED = ("/logout", "/api/", "/static/", "/healthz", "/readyz")
NOT_PAGES = re.compile(r"\.(csv|json)$")
PAGES_PER_USER = 14


@pytest.fixture(scope="module")
def demo_loaded(live_app: Flask) -> None:
    with live_app.app_context():
        result = live_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def demo_page(browser: Browser, base_url: str, demo_loaded: None) -> Iterator[Page]:
    context = browser.new_context(
        base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shape(path: str) -> str:
    return UUID.sub("{id}", urlsplit(path).path)


def same_site_links(page: Page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    found = []
    for href in hrefs:
        if not href.startswith(base_url):
            continue
        parts = urlsplit(href)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith(NOT_FOLLOWED) or NOT_PAGES.search(parts.path):
            continue
        found.append(path)
    return found


@pytest.mark.parametrize("demo_user", DEMO_USERS, ids=lambda user: user.email.split("@")[0])
def test_every_page_a_demo_user_reaches_is_good_at_both_widths(demo_page, base_url, demo_user):
    page = demo_page
    sign_in(page, base_url, demo_user.email, DEMO_PASSWORD)
    assert urlsplit(page.url).path == "/", f"{demo_user.email} could not sign in: {page.url}"
    queue, shapes_seen, visited = ["/"], set(), []
    while queue and len(visited) < PAGES_PER_USER:
        path = queue.pop(0)
        if shape(path) in shapes_seen:
            continue
        shapes_seen.add(shape(path))
        response = page.goto(base_url + path)
        assert response is not None
        assert response.status < 400, f"{demo_user.email}: {path} answered {response.status}"
        visited.append(path)
        assert_good_at_both_widths(page)
        queue.extend(same_site_links(page, base_url))
    assert len(visited) >= 3, f"{demo_user.email} reached only {visited}"
