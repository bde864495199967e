"""Issue 16's screening in a real Chromium: the referrer completes the
exploitation screening tool from the referral page (a weapon found, the
rest no); the receiving manager opens it, sees the level the tool
indicated and records a different judgement with a reason, which every
holder then reads beside the indicated level. Every page on the way passes
the accessibility checks at both widths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app import screening_tools
from referral_app.models import OrganisationKind, Role
from tests.browser import assert_good_at_both_widths
from tests.browser.test_children_reports import refer
from tests.factories import Factory, UserInfo

REASON = "The knife was found in a shared hallway; nothing ties it to him. Review in a month."


@pytest.fixture
def screened_referral(live_app: Flask, factory: Factory) -> dict[str, Any]:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    manager = factory.user(Role.MANAGER, organisation=yjs)
    referral = refer(live_app, officer, yjs, first_name="Tyrese", last_name="Okafor")
    return {"officer": officer, "manager": manager, "referral": referral}


def complete_screening(page: Page) -> None:
    for indicator in screening_tools.current().indicators:
        group = page.locator(f"#answer-{indicator.id}").locator("xpath=ancestor::fieldset")
        if indicator.id == "weapon_found":
            group.get_by_label("Yes", exact=True).check()
            page.locator(f"#evidence-{indicator.id}").fill(
                "A lock knife found in the hallway outside his flat on 12 November."
            )
        else:
            group.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Complete screening").click()


def test_a_screening_and_a_different_judgement(
    person: Callable[[UserInfo], Page], screened_referral: dict[str, Any]
) -> None:
    referral = screened_referral["referral"]
    officer = person(screened_referral["officer"])
    officer.goto(f"/referrals/{referral['id']}")
    officer.get_by_role("link", name="Exploitation screenings").click()
    assert_good_at_both_widths(officer)
    officer.get_by_role("button", name="Complete a screening").click()
    expect(officer.get_by_role("heading", name="Complete a screening")).to_be_visible()
    assert_good_at_both_widths(officer)
    # Nothing answered: the error summary names the questions, nothing is saved.
    officer.get_by_role("button", name="Complete screening").click()
    expect(officer.locator(".govuk-error-summary")).to_be_visible()
    assert_good_at_both_widths(officer)
    complete_screening(officer)
    expect(officer.get_by_role("heading", name="Screening result")).to_be_visible()
    result = officer.locator(".govuk-summary-list").first
    expect(result).to_contain_text("High")
    assert_good_at_both_widths(officer)

    manager = person(screened_referral["manager"])
    manager.goto(f"/referrals/{referral['id']}/screenings")
    expect(manager.locator("main")).to_contain_text("High")
    manager.locator("main table a").first.click()
    expect(manager.get_by_role("heading", name="Your judgement")).to_be_visible()
    # A different level without a reason is refused, with our words.
    manager.get_by_label("Medium", exact=True).check()
    manager.get_by_role("button", name="Save judgement").click()
    expect(manager.locator(".govuk-error-summary")).to_be_visible()
    assert_good_at_both_widths(manager)
    manager.get_by_label("Medium", exact=True).check()
    manager.get_by_label("Reason", exact=True).fill(REASON)
    manager.get_by_role("button", name="Save judgement").click()
    summary = manager.locator(".govuk-summary-list").first
    expect(summary).to_contain_text("Medium")
    expect(summary).to_contain_text(REASON)
    expect(summary).to_contain_text("High")  # the indicated level stays beside it
    assert_good_at_both_widths(manager)

    # The referrer reads the judgement beside the level the tool indicated.
    officer.goto(f"/referrals/{referral['id']}/screenings")
    expect(officer.locator("main")).to_contain_text("Medium")
    officer.locator("main table a").first.click()
    expect(officer.locator(".govuk-summary-list").first).to_contain_text(REASON)
