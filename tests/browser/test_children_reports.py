"""A child's page, its forms (correcting the details, merging another record
of the same child and undoing it, each after a page that says what will
happen), the printable subject access export, and the reports page, in a
real Chromium: errors first, then put right; axe and a 360 px screen on
every page and every page of errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role
from tests.browser import assert_good_at_both_widths, sign_in
from tests.factories import Factory, OrgInfo, UserInfo, bearer, token_for
from tests.referral_helpers import Actor, act, create


def refer(live_app: Flask, officer: UserInfo, receiving: OrgInfo, **child: Any) -> dict:
    """A referral about a new child, made and submitted through the API."""
    client = live_app.test_client()
    actor = Actor(officer, bearer(token_for(client, officer)))
    details = {"date_of_birth": "2011-03-14", "postcode": "ss1 2aa", **child}
    referral = create(client, actor, receiving, child=details)
    assert act(client, actor, referral["id"], "submit").status_code == 200
    return referral


@pytest.fixture
def two_records(live_app: Flask, factory: Factory) -> dict[str, Any]:
    """Two records of the same child, each the subject of a police referral
    to the youth justice service, whose manager looks at them."""
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    return {
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "first": refer(live_app, officer, yjs, first_name="Jayden", last_name="Miller"),
        "second": refer(live_app, officer, yjs, first_name="Jaydn", last_name="Miller"),
    }


def signed_in(page: Page, base_url: str, user: UserInfo) -> Page:
    sign_in(page, base_url, user.email, user.password)
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()
    return page


def expect_errors(page: Page, *messages: str) -> None:
    """The error summary lists these messages, each shown again by its field."""
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(list(messages))
    expect(page).to_have_title(re.compile(r"^Error: "))
    for message in messages:
        expect(page.locator(".govuk-error-message", has_text=message)).to_have_count(1)


def test_correct_a_childs_details_after_an_error(page, base_url, two_records):
    signed_in(page, base_url, two_records["manager"])
    child_url = f"{base_url}/children/{two_records['first']['child']['id']}"
    page.goto(child_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    details = page.locator(".govuk-summary-list").first
    expect(details).to_contain_text(re.compile(r"14 March 2011 \(age \d+\)"))
    referrals = page.get_by_role("table")
    expect(referrals.get_by_role("link", name=two_records["first"]["reference"])).to_have_attribute(
        "href", f"/referrals/{two_records['first']['id']}"
    )
    assert_good_at_both_widths(page)

    # The "Change" link beside a detail goes to its field in the form.
    details.get_by_role("link", name="Change date of birth").click()
    expect(page.get_by_label("Day")).to_be_focused()

    # Wrong first: the name taken out, a date that does not exist.
    page.get_by_label("First name").fill("")
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_role("button", name="Save corrections").click()
    expect_errors(page, "Enter the child's first name", "Date of birth must be a real date")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.get_by_label("Day")).to_have_value("31")  # what was typed is kept
    assert_good_at_both_widths(page)
    page.locator(".govuk-error-summary").get_by_role(
        "link", name="Enter the child's first name"
    ).click()
    expect(page.get_by_label("First name")).to_be_focused()

    # Then put right.
    page.get_by_label("First name").fill("Jayden")
    page.get_by_label("Day").fill("15")
    page.get_by_label("Month").fill("3")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Details corrected: date of birth."
    )
    expect(page.locator(".govuk-summary-list").first).to_contain_text("15 March 2011")
    assert page.url == child_url
    assert_good_at_both_widths(page)


def test_merge_and_undo_through_the_pages_that_say_what_will_happen(page, base_url, two_records):
    signed_in(page, base_url, two_records["manager"])
    first, second = two_records["first"], two_records["second"]
    child_url = f"{base_url}/children/{first['child']['id']}"
    page.goto(child_url)
    expect(page.locator(".govuk-warning-text")).to_contain_text("Merging moves every referral")

    # No record chosen: asked to choose one.
    page.get_by_role("button", name="Continue to merge").click()
    expect_errors(page, "Select the record to merge into this one")
    assert_good_at_both_widths(page)

    # Chosen: a page says which record stays and which referral moves.
    page.get_by_label(re.compile(r"Jaydn Miller, born 14 March 2011")).check()
    page.get_by_role("button", name="Continue to merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge these records?")
    expect(page.get_by_text("The record of Jayden Miller stays.")).to_be_visible()
    expect(page.get_by_text(second["reference"])).to_be_visible()
    assert_good_at_both_widths(page)
    page.get_by_role("button", name="Merge the records").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Records merged: 1 referral moved to this record."
    )
    assert page.url == child_url
    expect(page.get_by_role("table").get_by_role("link")).to_have_text(
        [first["reference"], second["reference"]]
    )

    # Undoing it, too.
    page.get_by_role("link", name=re.compile("^Undo this merge")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Undo this merge?")
    expect(page.get_by_text(re.compile(r"1 referral moves back to it"))).to_be_visible()
    assert_good_at_both_widths(page)
    page.get_by_role("button", name="Undo the merge").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Merge undone")
    expect(page.get_by_role("table").get_by_role("link")).to_have_text([first["reference"]])


def test_the_subject_access_export(page, base_url, live_app, two_records):
    # A screening and a document too, so that every section of the export
    # is shown (and measured at 360 px).
    from tests.documents.conftest import upload
    from tests.screenings.conftest import answers, screen

    client = live_app.test_client()
    manager = Actor(two_records["manager"], bearer(token_for(client, two_records["manager"])))
    rid = two_records["first"]["id"]
    screen(client, manager, rid, answers=answers(("weapon_found", "older_associates")))
    upload(client, manager, rid, title="Signed consent form from the mother, 12 November")
    signed_in(page, base_url, two_records["manager"])
    page.goto(f"{base_url}/children/{two_records['first']['child']['id']}")
    page.get_by_role("button", name=re.compile("subject access export")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    expect(page.get_by_text("Subject access export", exact=True)).to_be_visible()
    reference = two_records["first"]["reference"]
    expect(page.get_by_role("heading", name=f"Referral {reference}")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Reads and changes"))).to_contain_text(
        "Referral: create"
    )
    expect(page.locator("main")).to_contain_text("Indicators answered yes")
    expect(page.locator("main")).to_contain_text("Signed consent form from the mother")
    assert_good_at_both_widths(page)
    # On paper: no back link, no navigation of the service.
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Back to Jayden Miller")).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Back to Jayden Miller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jayden Miller")


def test_the_reports_page_after_a_bad_period(page, base_url, live_app, factory):
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    refer(
        live_app,
        factory.user(Role.REFERRER, organisation=police),
        yjs,
        first_name="Amara",
        last_name="Okafor",
    )
    signed_in(page, base_url, factory.user(Role.MANAGER, organisation=yjs))
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    assert_good_at_both_widths(page)

    start = page.get_by_role("group", name="Start of the period")
    end = page.get_by_role("group", name="End of the period")
    for group, (day, month, year) in ((start, ("1", "6", "2026")), (end, ("1", "1", "2026"))):
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    page.get_by_role("button", name="Show the report").click()
    expect_errors(page, "The end of the period must be the same as or after the start")
    expect(page.locator("svg.chart")).to_have_count(0)
    assert_good_at_both_widths(page)
    page.get_by_role(
        "link", name="The end of the period must be the same as or after the start"
    ).click()
    expect(end.get_by_label("Day")).to_be_focused()

    start.get_by_label("Month").fill("1")
    end.get_by_label("Day").fill("31")
    end.get_by_label("Month").fill("12")
    page.get_by_role("button", name="Show the report").click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.get_by_text("from 1 January 2026 to 31 December 2026")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(5)
    glance = page.get_by_role("table", name="Referrals, overdue triage and times taken")
    expect(glance.get_by_role("row", name=re.compile("^Referrals "))).to_contain_text("1")
    assert_good_at_both_widths(page)

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download these referrals (CSV)").click()
    download = downloading.value
    assert re.fullmatch(r"referrals-.+-2026-01-01-to-2026-12-31\.csv", download.suggested_filename)
