"""Signing in with a real browser, and the first pages' accessibility."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from referral_app.models import Role
from tests.browser import assert_accessible, sign_in
from tests.factories import Factory


def test_a_user_signs_in_and_sees_the_home_page(
    page: Page, base_url: str, factory: Factory
) -> None:
    user = factory.user(Role.CASEWORKER)
    sign_in(page, base_url, user.email, user.password)
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Welcome, User \d+$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_password_shows_the_problem_and_keeps_the_email(
    page: Page, base_url: str, factory: Factory
) -> None:
    user = factory.user()
    sign_in(page, base_url, user.email, "not the password at all")
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Email address")).to_have_value(user.email)
    expect(page.get_by_label("Password")).to_have_value("")
    assert_accessible(page)
    # Still signed out.
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_the_login_page_is_accessible(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)


def test_the_home_and_account_pages_are_accessible(
    page: Page, base_url: str, factory: Factory
) -> None:
    user = factory.user(Role.MANAGER)
    sign_in(page, base_url, user.email, user.password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert_accessible(page)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert_accessible(page)


def open_api_docs(page: Page, base_url: str) -> list[str]:
    """Open /api/docs, wait for Swagger UI to draw the API; the URLs it requested."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Referral case management API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert errors == []
    return requests


def test_the_api_docs_page_renders_the_spec_and_is_accessible(page: Page, base_url: str) -> None:
    requests = open_api_docs(page, base_url)
    assert f"{base_url}/api/v1/openapi.json" in requests
    assert [url for url in requests if not url.startswith(base_url)] == []
    assert_accessible(page)
    # Swagger UI's deeper states too: an operation opened, tried and run,
    # and the "Authorize" dialog (swagger-init.js repairs their names and colours).
    operation = page.locator("#operations-referrals-get_api_v1_referrals")
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table")).to_contain_text("401")
    assert_accessible(page)
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_accessible(page)


STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_api_docs_page_works_under_a_strict_content_security_policy(
    page: Page, base_url: str
) -> None:
    """The app sets no CSP yet: serve the page with the strict one it will get."""

    def with_csp(route: Route) -> None:
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": STRICT_CSP},
        )

    page.route(f"{base_url}/api/docs", with_csp)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    open_api_docs(page, base_url)
    assert page.evaluate("window.cspViolations") == []
    # swagger-init.js's colour fixes (a constructed stylesheet) apply too.
    expect(page.locator(".opblock-get .opblock-summary-method").first).to_have_css(
        "background-color", "rgb(29, 112, 184)"
    )
    # The policy really applies: an inline script is refused.
    assert page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
          return window.inlineRan === undefined;
        }"""
    )
    page.wait_for_function("window.cspViolations.some((v) => v.startsWith('script-src'))")
