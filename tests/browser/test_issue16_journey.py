"""Issue 16's "done when" as one journey in a real Chromium, each step on
the pages: the referrer attaches the signed consent form and completes the
exploitation screening tool; the receiving manager sees the level the tool
indicated and records a different judgement with a reason; the family
withdraws consent, recorded by the receiving caseworker; the agency that
shared the referral sees the flag and the action and decides (revokes),
and the shared agency no longer holds it. The steps' own refusals and
accessibility checks are in test_documents, test_screening_journey and
test_consent; this test checks they join up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role
from tests.browser.test_children_reports import refer
from tests.browser.test_consent import _share, withdraw_on_the_page
from tests.browser.test_documents import CONSENT_PDF, choose_file
from tests.browser.test_screening_journey import complete_screening
from tests.factories import Factory, UserInfo

REASON = "He has engaged with his mentor every week since the knife was found. Review in May."


@pytest.fixture
def partnership(live_app: Flask, factory: Factory) -> dict[str, Any]:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    people = {
        "officer": factory.user(Role.REFERRER, organisation=police),
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "caseworker": factory.user(Role.CASEWORKER, organisation=yjs),
        "mentor": factory.user(Role.CASEWORKER, organisation=charity),
    }
    referral = refer(live_app, people["officer"], yjs, first_name="Dion", last_name="Achterberg")
    return {**people, "referral": referral, "charity": charity, "live_app": live_app}


def test_documents_screening_judgement_and_a_withdrawal_acted_on(
    person: Callable[[UserInfo], Page], partnership: dict[str, Any]
) -> None:
    rid = partnership["referral"]["id"]

    # The referrer attaches the consent form...
    officer = person(partnership["officer"])
    officer.goto(f"/referrals/{rid}")
    officer.get_by_role("link", name="Documents", exact=True).click()
    officer.get_by_role("button", name="Upload a document").click()
    choose_file(officer, "signed-consent.pdf", CONSENT_PDF)
    officer.get_by_label("Title").fill("Signed consent form")
    officer.get_by_label("Consent form").check()
    officer.get_by_role("button", name="Upload document").click()
    expect(officer.locator("#documents")).to_contain_text("Signed consent form")
    # ...and completes the screening tool.
    officer.goto(f"/referrals/{rid}")
    officer.get_by_role("link", name="Exploitation screenings").click()
    officer.get_by_role("button", name="Complete a screening").click()
    complete_screening(officer)
    expect(officer.locator(".govuk-summary-list").first).to_contain_text("High")

    # The receiving manager sees the consent form and the indicated level,
    # and records a different judgement with a reason.
    manager = person(partnership["manager"])
    manager.goto(f"/referrals/{rid}/documents")
    expect(manager.locator("#documents")).to_contain_text("Signed consent form")
    manager.goto(f"/referrals/{rid}/screenings")
    manager.locator("main table a").first.click()
    expect(manager.locator(".govuk-summary-list").first).to_contain_text("High")
    manager.get_by_label("Medium", exact=True).check()
    manager.get_by_label("Reason", exact=True).fill(REASON)
    manager.get_by_role("button", name="Save judgement").click()
    judged = manager.locator(".govuk-summary-list").first
    expect(judged).to_contain_text("Medium")
    expect(judged).to_contain_text(REASON)

    # The manager shares the referral with the charity; the family then
    # withdraws consent, recorded by the caseworker.
    _share(partnership["live_app"], partnership["manager"], rid, partnership["charity"].id)
    withdraw_on_the_page(person(partnership["caseworker"]), rid)

    # The charity sees the flag; the sharing agency's manager sees the
    # action and decides to revoke.
    mentor = person(partnership["mentor"])
    mentor.goto(f"/referrals/{rid}")
    mentor.get_by_role("tab", name="Shares (1)").click()
    expect(mentor.locator("main")).to_contain_text("Consent withdrawn: decision needed")
    manager.goto(f"/referrals/{rid}")
    expect(manager.locator("main")).to_contain_text(
        f"Consent withdrawn: decide whether to keep sharing with {partnership['charity'].name}"
    )
    manager.goto(f"/referrals/{rid}/consent")
    manager.get_by_role(
        "link", name=f"Decide about the share with {partnership['charity'].name}"
    ).click()
    manager.get_by_label("Revoke the share now").check()
    manager.get_by_label("Reason for your decision").fill("His mother asked us to stop.")
    manager.get_by_role("button", name="Record the decision").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("revoked")
    mentor.goto(f"/referrals/{rid}")
    expect(mentor.get_by_role("heading", name="Page not found")).to_be_visible()
