"""Making and completing a referral in Chromium: a draft saved with some
answers, completed on its edit page and submitted (what is missing shown
first, each message leading to its field); "Submit referral" clicked twice
or three times makes one referral, with the design system's guard and, with
scripts off, with the one-time form token alone. Every page checked with axe
at desktop and phone widths."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Referral, ReferralStatus, Role
from tests.browser import assert_good_at_both_widths, sign_in
from tests.factories import Factory, OrgInfo, UserInfo

REFERRAL_PAGE = re.compile(r"/referrals/([0-9a-f-]{36})$")
_names = itertools.count(1)


def a_child_name() -> str:
    """A last name no other test's child has (the live database is shared
    by the run): no likely-match step unless a test wants one."""
    return f"Millerson{next(_names)}x{uuid.uuid4().hex[:6]}"


def referrals_made_by(app: Flask, agency: OrgInfo) -> list[Referral]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Referral).where(Referral.referring_organisation_id == agency.id)
            )
        )


def count_made_by(app: Flask, agency: OrgInfo) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.referring_organisation_id == agency.id)
        )


class Agencies:
    def __init__(self, factory: Factory) -> None:
        self.police = factory.organisation(OrganisationKind.POLICE)
        self.yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
        self.officer: UserInfo = factory.user(Role.REFERRER, organisation=self.police)


@pytest.fixture
def agencies(factory: Factory) -> Agencies:
    return Agencies(factory)


def fill_the_child(page: Page, last_name: str) -> None:
    page.get_by_label("First name").fill("Jayden")
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2011")
    page.get_by_label("Postcode (optional)").fill("ss1 2aa")


def fill_the_rest(page: Page) -> None:
    page.get_by_label("Reason for referral").fill(
        "Stopped at Southend Central with £400 and two phones; believed to be running a line."
    )
    page.get_by_label("High").check()
    page.get_by_label("County lines").check()
    page.get_by_label("Obtained from parent").check()
    page.get_by_label("Public task").check()


def test_a_draft_is_saved_completed_on_its_edit_page_and_submitted(
    page: Page, base_url: str, agencies: Agencies, live_app: Flask
) -> None:
    sign_in(page, base_url, agencies.officer.email, agencies.officer.password)
    page.goto(f"{base_url}/referrals/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Make a referral")
    assert_good_at_both_widths(page)

    # Sent empty: every missing answer at once, each linking to its field.
    page.get_by_role("button", name="Save as draft").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Enter the child's first name",
            "Enter the child's last name",
            "Enter the child's date of birth",
            "Select the agency to refer to",
        ]
    )
    expect(page).to_have_title(re.compile(r"^Error: Make a referral"))
    assert_good_at_both_widths(page)
    summary.get_by_role("link", name="Enter the child's date of birth").click()
    expect(page.get_by_label("Day")).to_be_focused()

    # A draft with only some answers.
    fill_the_child(page, a_child_name())
    page.get_by_label("Refer to").select_option(label=agencies.yjs.name)
    page.get_by_label("Medium", exact=True).check()
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved as a draft")
    found = REFERRAL_PAGE.search(page.url)
    assert found, page.url
    path = f"/referrals/{found.group(1)}"

    # Its edit page: the answers so far, and no field for the child's details.
    page.goto(f"{base_url}{path}/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit draft referral")
    expect(page.get_by_label("Medium", exact=True)).to_be_checked()
    expect(page.get_by_label("Refer to")).to_have_value(str(agencies.yjs.id))
    expect(page.get_by_label("First name")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"Jayden .*'s page"))).to_be_visible()
    assert_good_at_both_widths(page)

    # Submitting it incomplete: what is missing, each leading to its field.
    page.get_by_role("button", name="Submit referral").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Enter the reason for referral",
            "Select whether consent was obtained",
            "Select the lawful basis for sharing",
        ]
    )
    assert_good_at_both_widths(page)
    summary.get_by_role("link", name="Enter the reason for referral").click()
    expect(page.get_by_label("Reason for referral")).to_be_focused()
    summary.get_by_role("link", name="Select the lawful basis for sharing").click()
    # The first basis a police referrer is offered: law enforcement (Part 3).
    expect(page.locator("#lawful_basis")).to_be_focused()
    expect(page.locator("#lawful_basis")).to_have_value("law_enforcement")

    # "Not sought" needs the reason why.
    page.get_by_label("Not sought").check()
    page.get_by_label("Reason for referral").fill("Seen again with the same group on Friday.")
    page.get_by_label("Public task").check()
    page.get_by_role("button", name="Submit referral").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(["Say why consent was not sought"])
    summary.get_by_role("link").click()
    notes = page.get_by_label("Consent notes")
    expect(notes).to_be_focused()
    notes.fill("Seeking it would put him at risk from the line's holders.")
    page.get_by_role("button", name="Submit referral").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted")
    expect(page).to_have_url(f"{base_url}{path}")

    (referral,) = referrals_made_by(live_app, agencies.police)
    assert referral.status is ReferralStatus.SUBMITTED
    assert str(referral.risk_level) == "medium"
    assert referral.consent_notes == "Seeking it would put him at risk from the line's holders."


def test_submitting_an_incomplete_draft_from_elsewhere_leads_to_its_edit_page(
    page: Page, base_url: str, agencies: Agencies, live_app: Flask
) -> None:
    """POST /referrals/<id>/submit, the button the draft's own page offers:
    the edit page with what is missing, its links leading to the fields."""
    sign_in(page, base_url, agencies.officer.email, agencies.officer.password)
    page.goto(f"{base_url}/referrals/new")
    fill_the_child(page, a_child_name())
    page.get_by_label("Refer to").select_option(label=agencies.yjs.name)
    page.get_by_role("button", name="Save as draft").click()
    found = REFERRAL_PAGE.search(page.url)
    assert found, page.url
    edit = f"/referrals/{found.group(1)}/edit"

    # The draft's page (another module) will carry this form; here the edit
    # form is pointed at the submit route to send it from a real page.
    page.goto(f"{base_url}{edit}")
    page.locator(f'form[action="{edit}"]').evaluate(
        "form => { form.action = form.action.replace(/edit$/, 'submit') }"
    )
    page.get_by_role("button", name="Submit referral").click()
    expect(page).to_have_url(re.compile(r"/submit$"))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Enter the reason for referral",
            "Select a risk level",
            "Select whether consent was obtained",
            "Select the lawful basis for sharing",
        ]
    )
    link = summary.get_by_role("link", name="Select a risk level")
    expect(link).to_have_attribute("href", f"{edit}#risk_level")
    assert_good_at_both_widths(page)
    link.click()
    expect(page.get_by_label("Low", exact=True)).to_be_focused()
    # Completed here, it is sent to the edit page's own address.
    fill_the_rest(page)
    page.get_by_role("button", name="Submit referral").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted")
    (referral,) = referrals_made_by(live_app, agencies.police)
    assert referral.status is ReferralStatus.SUBMITTED


@pytest.fixture
def page_without_scripts(browser: Browser, base_url: str) -> Iterator[Page]:
    """A browser with JavaScript off: no design-system guard on the button,
    only the one-time form token stands between two clicks and two referrals."""
    context = browser.new_context(base_url=base_url, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("scripts", ["on", "off"])
@pytest.mark.parametrize("clicks", [2, 3])
def test_clicking_submit_again_and_again_makes_one_referral(
    request: pytest.FixtureRequest,
    base_url: str,
    agencies: Agencies,
    live_app: Flask,
    scripts: str,
    clicks: int,
) -> None:
    page: Page = request.getfixturevalue("page" if scripts == "on" else "page_without_scripts")
    sign_in(page, base_url, agencies.officer.email, agencies.officer.password)
    page.goto(f"{base_url}/referrals/new")
    fill_the_child(page, a_child_name())
    page.get_by_label("Refer to").select_option(label=agencies.yjs.name)
    fill_the_rest(page)
    page.get_by_role("button", name="Submit referral").click(click_count=clicks, delay=30)
    expect(page).to_have_url(REFERRAL_PAGE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jayden")
    assert count_made_by(live_app, agencies.police) == 1
