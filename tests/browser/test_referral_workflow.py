"""The whole referral loop in a real Chromium, by people of three agencies,
with an accessibility check of every page they see."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role
from tests.browser import assert_good_at_both_widths
from tests.factories import Factory, UserInfo
from tests.referral_helpers import SHARE_REASON


@pytest.fixture
def agencies(factory: Factory) -> dict[str, UserInfo]:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    council = factory.organisation(OrganisationKind.COUNCIL)
    return {
        "officer": factory.user(Role.REFERRER, organisation=police),
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "caseworker": factory.user(Role.CASEWORKER, organisation=yjs),
        "charity": factory.user(Role.MANAGER, organisation=charity),
        "stranger": factory.user(Role.MANAGER, organisation=council),
        "yjs_name": yjs.name,  # type: ignore[dict-item]
        "charity_name": charity.name,  # type: ignore[dict-item]
    }


def fill_new_referral(page: Page, agency_name: str, *, first_name: str = "Jayden") -> None:
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill("Miller")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2011")
    page.get_by_label("Postcode (optional)").fill("ss1 2aa")
    page.get_by_label("Refer to").select_option(label=agency_name)
    page.get_by_label("Reason for referral").fill(
        "Stopped at Southend Central with £400 and two phones; believed to be running a line."
    )
    page.get_by_label("High").check()
    page.get_by_label("County lines").check()
    page.get_by_label("Criminal exploitation").check()
    page.get_by_label("Obtained from parent").check()
    page.get_by_label("Public task").check()


def banner(page: Page):
    """The notification banner that says what just happened."""
    return page.locator(".govuk-notification-banner")


def fill_date(scope, day: date) -> None:
    scope.get_by_label("Day", exact=True).fill(str(day.day))
    scope.get_by_label("Month", exact=True).fill(str(day.month))
    scope.get_by_label("Year", exact=True).fill(str(day.year))


def test_the_closed_loop_through_the_pages(person, agencies, base_url):
    officer = person(agencies["officer"])
    assert_good_at_both_widths(officer)  # home, as a referrer

    # Police: a form submitted with errors, then corrected.
    officer.get_by_role("link", name="Make a referral").first.click()
    assert_good_at_both_widths(officer)
    officer.get_by_label("Last name").fill("Miller")
    officer.get_by_label("Day").fill("31")
    officer.get_by_label("Month").fill("2")
    officer.get_by_label("Year").fill("2011")
    officer.get_by_role("button", name="Submit referral").click()
    summary = officer.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Date of birth must be a real date")
    expect(summary).to_be_focused()  # the design system moves focus to it
    expect(officer).to_have_title(re.compile(r"^Error: "))
    expect(officer.get_by_label("Last name")).to_have_value("Miller")  # kept
    assert_good_at_both_widths(officer)
    summary.get_by_role("link", name=re.compile("first name")).click()
    expect(officer.get_by_label("First name")).to_be_focused()
    fill_new_referral(officer, agencies["yjs_name"])
    officer.get_by_role("button", name="Submit referral").click()
    expect(banner(officer)).to_contain_text("submitted")
    expect(officer.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    referral_url = officer.url
    assert re.search(r"/referrals/[0-9a-f-]{36}$", referral_url)
    assert_good_at_both_widths(officer)

    # Youth justice: triage from the worklist, accept (after confirming), assign.
    manager = person(agencies["manager"])
    triage = manager.get_by_role("region", name=re.compile("Awaiting triage"))
    triage.get_by_role("link", name=re.compile(r"R-\d{4}-\d{6}")).first.click()
    assert_good_at_both_widths(manager)
    manager.get_by_role("button", name="Accept referral").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Accept this referral?")
    manager.get_by_role("button", name="Accept referral").click()
    expect(banner(manager)).to_contain_text("accepted")
    manager.get_by_label("Assign to").select_option(str(agencies["caseworker"].id))
    manager.get_by_role("button", name="Assign").click()
    expect(banner(manager)).to_contain_text("Assigned to")

    # ...and shares it with the charity for a mentoring place.
    manager.get_by_role("tab", name=re.compile("Shares")).click()
    shares = manager.locator("#shares")
    shares.get_by_label("Agency", exact=True).select_option(label=agencies["charity_name"])
    shares.get_by_label("Purpose").fill("Mentoring place")
    shares.get_by_label("Public task").check()
    shares.get_by_label("Share without an agreement").check()
    shares.get_by_label("Reason for sharing without an agreement").fill(SHARE_REASON)
    fill_date(shares, date.today() + timedelta(days=30))
    shares.get_by_role("button", name="Share referral").click()
    expect(banner(manager)).to_contain_text("Shared")
    assert_good_at_both_widths(manager)
    manager.get_by_role("link", name="Who has seen this referral").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Who has seen")
    assert_good_at_both_widths(manager)

    # The caseworker records a home visit and closes the referral.
    caseworker = person(agencies["caseworker"])
    assigned = caseworker.get_by_role("region", name=re.compile("Assigned to me"))
    assigned.get_by_role("link", name=re.compile(r"R-\d{4}-\d{6}")).first.click()
    caseworker.get_by_role("tab", name=re.compile("Notes")).click()
    caseworker.get_by_label("Kind of note").select_option("home_visit")
    caseworker.get_by_label("Note", exact=True).fill("Home visit: met Jayden and his mother.")
    caseworker.get_by_label("Every agency that holds this referral").check()
    caseworker.get_by_role("button", name="Add note").click()
    expect(banner(caseworker)).to_contain_text("Note added")
    caseworker.get_by_role("button", name="Close referral").click()
    expect(caseworker.get_by_role("heading", level=1)).to_have_text("Close this referral?")
    assert_good_at_both_widths(caseworker)
    caseworker.get_by_label("Engaged and completed").check()
    caseworker.get_by_label("Summary of the outcome").fill("Completed six mentoring sessions.")
    caseworker.get_by_role("button", name="Close referral").click()
    expect(banner(caseworker)).to_contain_text("closed")
    assert_good_at_both_widths(caseworker)

    # The loop closes: the police officer sees the outcome and the shared note.
    officer.goto(referral_url)
    expect(officer.get_by_text("Engaged and completed").first).to_be_visible()
    expect(officer.get_by_text("Completed six mentoring sessions.").first).to_be_visible()
    expect(
        officer.locator("#timeline").get_by_text("Home visit: met Jayden and his mother.")
    ).to_be_visible()

    # The charity holds it through the share; an unrelated agency does not.
    charity = person(agencies["charity"])
    charity.goto(referral_url)
    expect(charity.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    stranger = person(agencies["stranger"])
    response = stranger.goto(referral_url)
    assert response is not None
    assert response.status == 404
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(stranger.get_by_text("Jayden")).to_have_count(0)
    assert_good_at_both_widths(stranger)
    stranger.goto(f"{base_url}/referrals")
    stranger.get_by_label("Child's name or reference").fill("Jayden")
    stranger.get_by_role("button", name="Search").click()
    expect(stranger.get_by_text("0 referrals").first).to_be_visible()
    assert "Jayden" not in stranger.url
    assert_good_at_both_widths(stranger)


def test_admin_audit_and_list_pages_are_accessible(person, factory, base_url):
    org = factory.organisation()
    pages = {
        Role.ORG_ADMIN: ["/", "/admin/users", "/account"],
        Role.SYSTEM_ADMIN: ["/", "/admin/organisations", "/admin/users", "/audit"],
        Role.AUDITOR: ["/audit"],
        Role.MANAGER: ["/referrals", "/referrals?status=sleeping"],
    }
    for role, paths in pages.items():
        page = person(factory.user(role, organisation=org))
        for path in paths:
            page.goto(f"{base_url}{path}")
            assert_good_at_both_widths(page)
    auditor = person(factory.user(Role.AUDITOR, organisation=org))
    auditor.goto(f"{base_url}/audit")
    auditor.get_by_role("button", name="Verify the whole chain").click()
    expect(
        auditor.get_by_text(re.compile(r"The audit trail is intact: [\d,]+ events? checked"))
    ).to_be_visible()
    assert_good_at_both_widths(auditor)
