"""Issue 16's sharing agreements in a real Chromium: a manager shares a
referral choosing the agreement that covers it on the referral page; a
share with neither an agreement nor a reason is refused with the error
summary. The agreement pages pass the accessibility checks at both widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.agreements.conftest import make_agreement
from tests.browser import assert_good_at_both_widths
from tests.browser.test_referral_detail import banner, fill_date
from tests.factories import Factory, UserInfo
from tests.referral_helpers import World, advance, create, make_world

NEITHER = (
    "Choose the information sharing agreement that covers this share, "
    "or say why you are sharing without one"
)


@pytest.fixture
def world(live_app: Flask, factory: Factory) -> World:
    return make_world(live_app.test_client(), factory)


def test_a_manager_shares_citing_the_agreement_and_neither_is_refused(
    live_app: Flask, person: Callable[[UserInfo], Page], world: World
) -> None:
    client = live_app.test_client()
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "accepted")
    agreement = make_agreement(
        client, world.yjs_manager, world.yjs, world.charity, title="Mentoring partnership"
    ).json

    manager = person(world.yjs_manager.user)
    manager.goto("/agreements")
    expect(manager.get_by_role("heading", name="Mentoring partnership")).to_be_visible()
    assert_good_at_both_widths(manager)
    manager.get_by_role("link", name=re.compile("View")).click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Mentoring partnership")
    assert_good_at_both_widths(manager)

    manager.goto(f"/referrals/{referral['id']}")
    manager.get_by_role("tab", name=re.compile("Shares")).click()
    shares = manager.locator("#shares")
    manager.get_by_label("Agency", exact=True).select_option(label=world.charity.name)
    manager.get_by_label("Purpose").fill("Mentoring place")
    manager.get_by_label("Public task").check()
    fill_date(shares, date.today() + timedelta(days=30))
    # Neither an agreement nor a reason: refused, with the summary, nothing shared.
    manager.get_by_role("button", name="Share referral").click()
    summary = manager.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(NEITHER)
    expect(manager.locator("#shares")).to_contain_text("Not shared with any further agency")
    assert_good_at_both_widths(manager)
    # Now choosing the agreement that covers the share.
    manager.get_by_role("tab", name=re.compile("Shares")).click()
    manager.get_by_label(re.compile("Mentoring partnership")).check()
    manager.get_by_role("button", name="Share referral").click()
    expect(banner(manager)).to_contain_text(f"Shared with {world.charity.name}")
    shared = client.get(
        f"/api/v1/referrals/{referral['id']}/shares", headers=world.yjs_manager.headers
    ).json
    assert [grant["agreement_id"] for grant in shared] == [agreement["id"]]
