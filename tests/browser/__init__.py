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

# The impacts that fail a page; "moderate" and "minor" are left to review.
FAILING_IMPACTS = frozenset({"serious", "critical"})

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
    """Run axe-core on the page as it is now and fail on every serious or
    critical violation, naming its rule, help text and offending elements."""
    results = _AXE.run(page, context=context)
    failing = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in FAILING_IMPACTS
    ]
    if failing:
        pytest.fail(
            f"axe found {len(failing)} serious or critical problem(s) on {page.url}:\n"
            + "".join(_describe(violation) for violation in failing),
            pytrace=False,
        )
