"""The administration, audit and account pages in Chromium: an org admin
adds a user and cannot leave them with no role; an auditor filters the
trail by action and by referral reference; a user sets up an authenticator
app; and every one of these pages (and the page-not-found page) passes axe
at desktop width and at 360 px with no sideways scrolling."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role
from tests.browser import assert_good_at_both_widths, sign_in
from tests.factories import Factory, bearer, token_for
from tests.referral_helpers import Actor, create


def signed_in(page: Page, base_url: str, factory: Factory, *roles: Role, **kwargs) -> None:
    user = factory.user(*roles, **kwargs)
    sign_in(page, base_url, user.email, user.password)
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def error_summary(page: Page):
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    return summary


def test_org_admin_adds_a_user_and_cannot_leave_them_with_no_role(
    page: Page, base_url: str, factory: Factory
) -> None:
    agency = factory.organisation()
    signed_in(page, base_url, factory, Role.ORG_ADMIN, organisation=agency)
    page.get_by_role("link", name="Users").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    assert_good_at_both_widths(page)

    page.get_by_role("button", name="Add a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a user")
    assert_good_at_both_widths(page)
    page.get_by_role("button", name="Add user").click()  # everything left empty
    summary = error_summary(page)
    expect(summary.get_by_role("link", name="Enter the person's full name")).to_be_visible()
    expect(summary.get_by_role("link", name="Select at least one role")).to_be_visible()
    assert_good_at_both_widths(page)

    page.get_by_label("Full name").fill("Grace Adeyemi")
    page.get_by_label("Email address").fill("grace.adeyemi.browser@example.org")
    page.get_by_label("Caseworker").check()
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Adeyemi")
    expect(page.get_by_text("Grace Adeyemi has been added")).to_be_visible()
    assert_good_at_both_widths(page)

    page.get_by_label("Caseworker").uncheck()
    page.get_by_role("button", name="Save changes").click()
    summary = error_summary(page)
    expect(summary.get_by_role("link", name="Select at least one role")).to_be_visible()
    expect(page.get_by_text("Changes saved")).to_have_count(0)
    assert_good_at_both_widths(page)
    # Nothing changed: the page, read again, still shows the role.
    page.goto(page.url)
    expect(page.get_by_label("Caseworker")).to_be_checked()


def test_org_admin_cannot_take_away_their_own_role(
    page: Page, base_url: str, factory: Factory
) -> None:
    agency = factory.organisation()
    admin = factory.user(Role.ORG_ADMIN, organisation=agency)
    sign_in(page, base_url, admin.email, admin.password)
    page.goto(f"{base_url}/admin/users/{admin.id}")
    page.get_by_label("Organisation administrator").uncheck()
    page.get_by_label("Manager").check()
    page.get_by_role("button", name="Save changes").click()
    summary = error_summary(page)
    expect(summary.get_by_role("link", name="You cannot change your own roles")).to_be_visible()


def test_system_admin_pages(page: Page, base_url: str, factory: Factory) -> None:
    signed_in(page, base_url, factory, Role.SYSTEM_ADMIN)
    page.goto(f"{base_url}/admin/organisations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations")
    assert_good_at_both_widths(page)
    page.get_by_role("button", name="Add an organisation").click()
    page.get_by_role("button", name="Add organisation").click()
    error_summary(page)
    assert_good_at_both_widths(page)
    page.goto(f"{base_url}/admin/users/new")
    expect(page.get_by_label("Organisation", exact=True)).to_be_visible()
    assert_good_at_both_widths(page)
    page.goto(f"{base_url}/audit")
    expect(page.get_by_label("Agency")).to_be_visible()
    assert_good_at_both_widths(page)


def test_auditor_filters_the_trail_by_action_and_by_reference(
    page: Page, base_url: str, factory: Factory, live_app: Flask
) -> None:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    api = live_app.test_client()
    made = create(api, Actor(officer, bearer(token_for(api, officer))), yjs)
    signed_in(page, base_url, factory, Role.AUDITOR, organisation=police)
    page.goto(f"{base_url}/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    assert_good_at_both_widths(page)

    page.get_by_label("Action").select_option(label="Referral created")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"action=referral\.create"))
    events = page.get_by_role("table", name="Audit events, newest first")
    expect(events.locator("tbody tr")).to_have_count(1)
    expect(events).to_contain_text(f"Referral {made['reference']}")
    assert_good_at_both_widths(page)

    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(f"{base_url}/audit")
    page.get_by_label("Referral reference").fill(made["reference"].lower())
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"reference=r-"))
    expect(events.locator("tbody tr")).to_have_count(1)
    expect(events).to_contain_text("Referral created")

    page.get_by_label("Referral reference").fill("R-26-1")
    page.get_by_role("group", name="Date from").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Date from").get_by_label("Month").fill("2")
    page.get_by_role("group", name="Date from").get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"since-day=31"))
    summary = error_summary(page)
    expect(
        summary.get_by_role(
            "link", name="Enter a referral reference in the correct format, like R-2026-000123"
        )
    ).to_be_visible()
    expect(summary.get_by_role("link", name="Date from must be a real date")).to_be_visible()
    expect(page.get_by_label("Referral reference")).to_have_value("R-26-1")
    assert_good_at_both_widths(page)

    page.goto(f"{base_url}/audit")
    page.get_by_role("button", name="Verify the whole chain").click()
    expect(
        page.get_by_text(re.compile(r"The audit trail is intact: [\d,]+ events checked"))
    ).to_be_visible()
    assert_good_at_both_widths(page)


def test_a_user_sets_up_an_authenticator_app(page: Page, base_url: str, factory: Factory) -> None:
    signed_in(page, base_url, factory, Role.CASEWORKER)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert_good_at_both_widths(page)
    page.get_by_role("link", name="Set up your authenticator app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_good_at_both_widths(page)

    page.get_by_role("button", name="Turn on").click()
    summary = error_summary(page)
    expect(
        summary.get_by_role("link", name="Enter the 6-digit code from your authenticator app")
    ).to_be_visible()
    assert_good_at_both_widths(page)

    secret = page.locator("#totp-key").inner_text().replace(" ", "")
    page.get_by_label("Current password", exact=True).fill("a long test passphrase for the suite")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text("Your authenticator app is set up")).to_be_visible()
    expect(page.get_by_text("Set up: you sign in with a code from the app")).to_be_visible()


def test_the_page_not_found_page(page: Page, base_url: str, factory: Factory) -> None:
    signed_in(page, base_url, factory, Role.CASEWORKER)
    response = page.goto(f"{base_url}/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    assert_good_at_both_widths(page)
