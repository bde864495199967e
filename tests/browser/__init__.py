"""Browser tests: the real pages in Debian's Chromium (headless), driven by
Playwright against the app served on 127.0.0.1 by a real HTTP server.

The fixtures (`live_server`, `base_url`, `live_app`, `factory`, `browser`,
`page`) are in conftest.py; the helpers tests import are here.

The live server's commits are real (no per-test rollback): every test makes
its own users and organisations through `factory`, whose emails and codes are
unique for the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Every violation fails a page, whatever its impact.
FAILING_IMPACTS = frozenset({"minor", "moderate", "serious", "critical"})
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}

_AXE = Axe()  # holds the bundled axe-core script, read once


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the real login page and wait for the answer to load
    (the home page, or the login page again with its errors)."""
    page.goto(f"{base_url}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _describe(violation: dict[str, Any]) -> str:
    targets = [
        " ".join(str(part) for part in node.get("target", []))
        for node in violation.get("nodes", [])
    ]
    return (
        f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')}\n"
        f"  {violation.get('helpUrl', '')}\n" + "".join(f"  at {target}\n" for target in targets)
    )


def assert_accessible(page: Page, context: str | dict[str, Any] | None = None) -> None:
    """Run axe-core on the page as it is now and fail on every violation,
    naming its rule, help text and offending elements."""
    results = _AXE.run(page, context=context)
    failing = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in FAILING_IMPACTS
    ]
    if failing:
        pytest.fail(
            f"axe found {len(failing)} problem(s) on {page.url}:\n"
            + "".join(_describe(violation) for violation in failing),
            pytrace=False,
        )


def assert_no_horizontal_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window (a table may scroll
    inside its own region, which does not widen the page)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px window"


def assert_good_at_both_widths(page: Page) -> None:
    """axe finds nothing at desktop width and at 360 px, and at 360 px the
    page does not scroll sideways. Leaves the page at desktop width."""
    size = page.viewport_size or DESKTOP
    try:
        page.set_viewport_size(PHONE)
        assert_no_horizontal_scroll(page)
        assert_accessible(page)
    finally:
        page.set_viewport_size(size)
    assert_accessible(page)
