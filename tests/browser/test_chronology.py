"""The child's chronology in Chromium: the page, its filter's refusal, an
empty range, the printable page and the CSV download, each passing the
accessibility checks at both widths."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from referral_app.models import OrganisationKind, Role
from tests.browser import assert_good_at_both_widths
from tests.browser.test_children_reports import refer, signed_in
from tests.factories import bearer, token_for
from tests.referral_helpers import Actor, act


def test_the_chronology_pages(page, base_url, live_app, factory):
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    manager = factory.user(Role.MANAGER, organisation=yjs)
    referral = refer(live_app, officer, yjs, first_name="Jayden", last_name="Miller")
    client = live_app.test_client()
    yjs_manager = Actor(manager, bearer(token_for(client, manager)))
    assert act(client, yjs_manager, referral["id"], "accept").status_code == 200
    visit = client.post(
        f"/api/v1/referrals/{referral['id']}/notes",
        json={
            "kind": "home_visit",
            "body": "Home visit with Jayden. " * 30,
            "visibility": "shared",
        },
        headers=yjs_manager.headers,
    )
    assert visit.status_code == 201
    child = f"{base_url}/children/{referral['child']['id']}"

    signed_in(page, base_url, manager)
    page.goto(child)
    page.get_by_role("link", name=re.compile("See the chronology")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    expect(page.locator("main")).to_contain_text("Home visit")
    assert_good_at_both_widths(page)
    page.get_by_label("Day").first.fill("31")
    page.get_by_label("Month").first.fill("2")
    page.get_by_label("Year").first.fill("2026")
    page.get_by_role("button", name="Show events").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_good_at_both_widths(page)
    page.goto(f"{child}/chronology?from=2001-01-01&to=2001-02-01")
    assert_good_at_both_widths(page)
    page.goto(f"{child}/chronology/print")
    assert_good_at_both_widths(page)
    page.goto(f"{child}/chronology")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Download these events")).click()
    assert info.value.suggested_filename.endswith(".csv")
