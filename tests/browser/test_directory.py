"""Issue 17's service directory in a real Chromium: a police referrer
opens "Find a service" from the navigation, is refused an impossible age
with the error summary, finds a mentoring service for a 14-year-old in
Southend by type, age and postcode (the address keeps only the district),
then makes a referral naming it, which the youth justice manager reads on
the referral page. Every page on the way passes the accessibility checks
at both widths."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from referral_app.services import directory_import
from tests.browser import assert_good_at_both_widths
from tests.browser.test_referral_forms import a_child_name, fill_the_child, fill_the_rest
from tests.factories import Factory, UserInfo

FEED = Path(__file__).parents[1] / "directory" / "oruk_services.json"


@pytest.fixture(scope="module")
def directory_loaded(live_app: Flask) -> None:
    """The hand-written feed, under ids of its own (the live database is the run's)."""
    records = json.loads(FEED.read_text(encoding="utf-8"))
    for record in records:
        record["id"] = f"browser-{record['id']}"
    with live_app.app_context():
        directory_import.import_services(records, feed="browser tests", full=False)
        db.session.commit()


@pytest.fixture
def people(factory: Factory, directory_loaded: None) -> dict[str, Any]:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    return {
        "officer": factory.user(Role.REFERRER, organisation=police),
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "yjs": yjs,
    }


def test_find_a_service_and_name_it_on_a_referral(
    person: Callable[[UserInfo], Page], people: dict[str, Any]
) -> None:
    officer = person(people["officer"])
    officer.get_by_role("link", name="Find a service").click()
    expect(officer.get_by_role("heading", level=1)).to_have_text("Find a service")
    assert_good_at_both_widths(officer)

    # An age no service takes: the error summary, in our words, and the field.
    officer.get_by_label("Age of the child").fill("30")
    officer.get_by_role("button", name="Search").click()
    summary = officer.get_by_role("alert")
    expect(summary).to_contain_text("Enter the child's age in years, from 0 to 25")
    assert_good_at_both_widths(officer)

    officer.get_by_label("Type of service").select_option("mentoring")
    officer.get_by_label("Age of the child").fill("14")
    officer.get_by_label("Postcode or postcode district").fill("ss1 2aa")
    officer.get_by_role("button", name="Search").click()
    expect(officer).to_have_url(re.compile(r"postcode=SS1(&|$)"))
    card = officer.locator(".govuk-summary-card", has_text="Southend Youth Mentoring")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Southend Mentoring Trust")
    expect(card).to_contain_text("10 to 17")
    # Not sport, nor for Chelmsford (the run's demo services may also match).
    boxing = officer.locator(".govuk-summary-card", has_text="Chelmsford Boxing Diversion")
    expect(boxing).to_have_count(0)
    assert_good_at_both_widths(officer)

    # A referral naming it.
    officer.get_by_role("link", name="Make a referral").click()
    fill_the_child(officer, a_child_name())
    officer.get_by_label("Refer to").select_option(label=people["yjs"].name)
    officer.get_by_label("Service (optional)").select_option(
        label="Southend Youth Mentoring (Southend Mentoring Trust)"
    )
    fill_the_rest(officer)
    officer.get_by_role("button", name="Submit referral").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("submitted")
    path = re.search(r"/referrals/[0-9a-f-]{36}", officer.url)
    assert path, officer.url

    manager = person(people["manager"])
    manager.goto(path.group(0))
    summary_list = manager.locator("#referral-summary")
    expect(summary_list).to_contain_text(
        "Southend Youth Mentoring, run by Southend Mentoring Trust"
    )
    assert_good_at_both_widths(manager)
