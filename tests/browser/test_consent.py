"""Issue 16's withdrawal of consent in a real Chromium: the family withdraws
consent, recorded by the receiving agency's caseworker on the consent page;
the manager of the agency that shared the referral sees the flag on the
share and the action on the referral page, and decides: revoke in one test,
keep sharing on another lawful basis in the other. The shared agency sees
the flag until then. Every page on the way passes the accessibility checks
at both widths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role, uk_today
from tests.browser import assert_good_at_both_widths
from tests.browser.test_children_reports import refer
from tests.factories import Factory, UserInfo, bearer, token_for
from tests.referral_helpers import SHARE_REASON


def _share(live_app: Flask, manager: UserInfo, referral_id: str, organisation_id: Any) -> None:
    client = live_app.test_client()
    response = client.post(
        f"/api/v1/referrals/{referral_id}/shares",
        json={
            "organisation_id": str(organisation_id),
            "purpose": "Mentoring programme place",
            "lawful_basis": "consent",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        },
        headers=bearer(token_for(client, manager)),
    )
    assert response.status_code == 201, response.json


@pytest.fixture
def shared_referral(live_app: Flask, factory: Factory) -> dict[str, Any]:
    """A police referral to youth justice (consent from a parent), shared by
    the youth justice manager with a youth charity."""
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    people = {
        "officer": factory.user(Role.REFERRER, organisation=police),
        "police_manager": factory.user(Role.MANAGER, organisation=police),
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "caseworker": factory.user(Role.CASEWORKER, organisation=yjs),
        "mentor": factory.user(Role.CASEWORKER, organisation=charity),
    }
    referral = refer(live_app, people["officer"], yjs, first_name="Callum", last_name="Reid")
    return {**people, "referral": referral, "charity": charity, "live_app": live_app}


def withdraw_on_the_page(page: Page, referral_id: str) -> None:
    page.goto(f"/referrals/{referral_id}")
    page.get_by_role("link", name="Consent", exact=True).click()
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    assert_good_at_both_widths(page)
    # Nothing chosen: the error summary, nothing recorded.
    page.get_by_role("button", name="Record the change").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_good_at_both_widths(page)
    page.get_by_label("Consent withdrawn", exact=True).check()
    page.get_by_label("A parent or carer", exact=True).check()
    page.get_by_label("By phone", exact=True).check()
    today = uk_today()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Note (optional)").fill(
        "His mother rang: she wants the charity told nothing."
    )
    page.get_by_role("button", name="Record the change").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "1 share now needs a decision"
    )
    expect(page.locator("#consent-history")).to_contain_text("Consent withdrawn")
    assert_good_at_both_widths(page)


def test_the_family_withdraws_consent_and_the_sharing_agency_revokes(
    person: Callable[[UserInfo], Page], shared_referral: dict[str, Any]
) -> None:
    setup = shared_referral
    rid = setup["referral"]["id"]
    _share(setup["live_app"], setup["manager"], rid, setup["charity"].id)
    withdraw_on_the_page(person(setup["caseworker"]), rid)

    mentor = person(setup["mentor"])
    mentor.goto(f"/referrals/{rid}")
    mentor.get_by_role("tab", name="Shares (1)").click()
    expect(mentor.locator("main")).to_contain_text("Consent withdrawn: decision needed")

    manager = person(setup["manager"])
    manager.goto(f"/referrals/{rid}")
    expect(manager.locator("main")).to_contain_text(
        f"Consent withdrawn: decide whether to keep sharing with {setup['charity'].name}"
    )
    manager.get_by_role("tab", name="Shares (1)").click()
    expect(manager.locator("main")).to_contain_text("Consent withdrawn: decision needed")
    assert_good_at_both_widths(manager)
    manager.get_by_role("link", name="See consent and who decides").click()
    manager.get_by_role("link", name=f"Decide about the share with {setup['charity'].name}").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("keep sharing")
    assert_good_at_both_widths(manager)
    manager.get_by_label("Revoke the share now").check()
    manager.get_by_label("Reason for your decision").fill("The mother asked us to stop.")
    manager.get_by_role("button", name="Record the decision").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("revoked")
    assert_good_at_both_widths(manager)

    # The charity no longer holds the referral.
    mentor.goto(f"/referrals/{rid}")
    expect(mentor.get_by_role("heading", name="Page not found")).to_be_visible()


def test_the_sharing_agency_keeps_sharing_on_another_basis(
    person: Callable[[UserInfo], Page], shared_referral: dict[str, Any]
) -> None:
    setup = shared_referral
    rid = setup["referral"]["id"]
    # Shared by the referring agency this time: its manager decides.
    _share(setup["live_app"], setup["police_manager"], rid, setup["charity"].id)
    withdraw_on_the_page(person(setup["caseworker"]), rid)

    police = person(setup["police_manager"])
    police.goto(f"/referrals/{rid}/consent")
    police.get_by_role("link", name=f"Decide about the share with {setup['charity'].name}").click()
    # Without a basis, continuing is refused in our words.
    police.get_by_label("Keep sharing without consent").check()
    police.get_by_label("Reason for your decision").fill("He went missing again on Friday.")
    police.get_by_role("button", name="Record the decision").click()
    expect(police.locator(".govuk-error-summary")).to_contain_text(
        "Select the lawful basis for sharing without consent"
    )
    assert_good_at_both_widths(police)
    police.get_by_label("Keep sharing without consent").check()
    police.get_by_label("Law enforcement purposes", exact=False).check()
    police.get_by_role("button", name="Record the decision").click()
    expect(police.locator(".govuk-notification-banner")).to_contain_text("continues")
    police.get_by_role("tab", name="Shares (1)").click()
    expect(police.locator("main")).to_contain_text("kept sharing without consent")
    expect(police.locator("main")).not_to_contain_text("decision needed")
