"""A referral's page and what is done from it, in a real Chromium: every
confirmation page walked through (accept, decline, withdraw, close, reopen,
revoke), the note form's errors inside its tab, the printable view, the
access log and the notifications page, each checked by axe at 1280 and 360
px with no sideways scroll; and a double-clicked confirm button that makes
one change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import StatusChange
from tests.browser import assert_good_at_both_widths
from tests.factories import Factory
from tests.referral_helpers import SHARE_REASON, World, advance, create, make_world, share_with


@pytest.fixture
def world(live_app: Flask, factory: Factory) -> World:
    return make_world(live_app.test_client(), factory)


@pytest.fixture
def referral_in(live_app: Flask, world: World) -> Callable[[str], dict]:
    """A referral from the police to the youth justice service, moved to a status."""
    client = live_app.test_client()

    def make(status: str) -> dict:
        referral = create(client, world.officer, world.yjs)
        advance(client, world, referral["id"], status)
        return referral

    return make


def fill_date(scope: Locator, day: date) -> None:
    """Type a date into the date input inside `scope`, as a person would."""
    for part, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
        box = scope.get_by_label(part, exact=True)
        box.fill(str(value))
        assert box.input_value() == str(value), (
            f"typing into the {part} box did nothing: its computed font size is "
            + box.evaluate("e => getComputedStyle(e).fontSize")
        )


def banner(page: Page) -> Locator:
    """The success banner after an action (the design system's notification banner)."""
    return page.locator(".govuk-notification-banner--success")


def changes_of(live_app: Flask, referral_id: str, action: str) -> int:
    with live_app.app_context():
        return (
            db.session.scalar(
                select(func.count(StatusChange.id)).where(
                    StatusChange.referral_id == uuid.UUID(referral_id),
                    StatusChange.action == action,
                )
            )
            or 0
        )


def test_accept_and_decline_through_their_confirmation_pages(person, world, referral_in):
    first = referral_in("submitted")
    second = referral_in("submitted")
    manager = person(world.yjs_manager.user)

    manager.goto(f"/referrals/{first['id']}")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    assert_good_at_both_widths(manager)
    manager.get_by_role("button", name="Accept referral").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Accept this referral?")
    expect(manager.get_by_text(f"{world.police.name} will see on the referral")).to_be_visible()
    assert_good_at_both_widths(manager)
    manager.get_by_role("button", name="Accept referral").click()
    expect(banner(manager)).to_contain_text(f"Referral {first['reference']} accepted")
    expect(manager.locator("#referral-summary")).to_contain_text("Accepted")
    assert_good_at_both_widths(manager)  # the page with its banner and the assign form

    manager.goto(f"/referrals/{second['id']}")
    manager.get_by_role("button", name="Decline referral").click()
    expect(
        manager.get_by_text(
            f"{world.police.name} will be told the referral was declined, with your reason."
        )
    ).to_be_visible()
    manager.get_by_role("button", name="Decline referral").click()  # no reason yet
    summary = manager.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the reason for declining the referral")
    expect(summary).to_be_focused()
    assert_good_at_both_widths(manager)
    summary.get_by_role("link").click()
    expect(manager.get_by_label("Why are you declining the referral?")).to_be_focused()
    manager.get_by_label("Why are you declining the referral?").fill("Outside our area.")
    manager.get_by_role("button", name="Decline referral").click()
    expect(banner(manager)).to_contain_text(f"Declined: {world.police.name} has been told")


def test_withdraw_through_its_confirmation_page(person, world, referral_in):
    referral = referral_in("submitted")
    officer = person(world.officer.user)
    officer.goto(f"/referrals/{referral['id']}")
    assert_good_at_both_widths(officer)
    officer.get_by_role("button", name="Withdraw referral").click()
    expect(officer.get_by_role("heading", level=1)).to_have_text("Withdraw this referral?")
    expect(officer.get_by_text("You cannot undo this.")).to_be_visible()
    assert_good_at_both_widths(officer)
    officer.get_by_label("Why are you withdrawing the referral?").fill("Made in error.")
    officer.get_by_role("button", name="Withdraw referral").click()
    expect(banner(officer)).to_contain_text(f"Referral {referral['reference']} withdrawn")
    expect(officer.locator("#referral-summary")).to_contain_text("Withdrawn")


def test_close_and_reopen_through_their_confirmation_pages(person, world, referral_in):
    referral = referral_in("in_progress")
    caseworker = person(world.caseworker.user)
    caseworker.goto(f"/referrals/{referral['id']}")
    assert_good_at_both_widths(caseworker)
    caseworker.get_by_role("button", name="Close referral").click()
    expect(caseworker.get_by_role("heading", level=1)).to_have_text("Close this referral?")
    assert_good_at_both_widths(caseworker)
    caseworker.get_by_label("Summary of the outcome").fill("Completed six sessions.")
    caseworker.get_by_role("button", name="Close referral").click()
    expect(caseworker.locator(".govuk-error-summary")).to_contain_text("Select the outcome")
    expect(caseworker.get_by_label("Summary of the outcome")).to_have_value(
        "Completed six sessions."
    )
    assert_good_at_both_widths(caseworker)
    caseworker.get_by_label("Engaged and completed").check()
    caseworker.get_by_role("button", name="Close referral").click()
    expect(banner(caseworker)).to_contain_text(
        f"Referral {referral['reference']} closed: {world.police.name} has been told the outcome"
    )

    manager = person(world.yjs_manager.user)
    manager.goto(f"/referrals/{referral['id']}")
    manager.get_by_role("button", name="Reopen referral").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Reopen this referral?")
    assert_good_at_both_widths(manager)
    manager.get_by_label("Why are you reopening the referral?").fill("New concerns from school.")
    manager.get_by_role("button", name="Reopen referral").click()
    expect(banner(manager)).to_contain_text(
        f"Referral {referral['reference']} reopened: {world.police.name} has been told"
    )
    manager.get_by_role("tab", name="History").click()
    expect(manager.locator("#history")).to_contain_text("New concerns from school.")


def test_share_then_revoke_through_its_confirmation_page(live_app, person, world, referral_in):
    referral = referral_in("accepted")
    manager = person(world.yjs_manager.user)
    manager.goto(f"/referrals/{referral['id']}")
    manager.get_by_role("tab", name=re.compile("Shares")).click()
    manager.get_by_label("Agency", exact=True).select_option(label=world.charity.name)
    manager.get_by_label("Purpose").fill("Mentoring place")
    manager.get_by_label("Public task").check()
    manager.get_by_label("Share without an agreement").check()
    manager.get_by_label("Reason for sharing without an agreement").fill(SHARE_REASON)
    fill_date(manager.locator("#shares"), date.today() + timedelta(days=30))
    manager.get_by_role("button", name="Share referral").click()
    expect(banner(manager)).to_contain_text(f"Shared with {world.charity.name}")
    expect(manager.locator("#shares")).to_be_visible()  # back on the Shares tab
    assert_good_at_both_widths(manager)
    manager.locator("#shares").get_by_role("link", name=re.compile("Revoke")).click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(
        f"Revoke the share with {world.charity.name}?"
    )
    expect(manager.get_by_text(f"{world.charity.name} will no longer see")).to_be_visible()
    assert_good_at_both_widths(manager)
    manager.get_by_role("button", name="Revoke share").click()
    expect(banner(manager)).to_contain_text(f"Share with {world.charity.name} revoked")


def test_a_double_clicked_confirm_button_makes_one_change(live_app, person, world, referral_in):
    referral = referral_in("submitted")
    manager = person(world.yjs_manager.user)
    manager.goto(f"/referrals/{referral['id']}/confirm/accept")
    manager.get_by_role("button", name="Accept referral").dblclick()
    expect(banner(manager)).to_contain_text(f"Referral {referral['reference']} accepted")
    assert changes_of(live_app, referral["id"], "accept") == 1


def test_a_refused_note_comes_back_on_its_tab(person, world, referral_in):
    referral = referral_in("in_progress")
    caseworker = person(world.caseworker.user)
    caseworker.goto(f"/referrals/{referral['id']}")
    caseworker.get_by_role("tab", name=re.compile("Notes")).click()
    notes = caseworker.locator("#notes")
    # A long unbroken string (a case number pasted in) must not widen the page.
    notes.get_by_label("Note", exact=True).fill("Phoned his mother. Ref " + "7" * 300)
    fill_date(notes, date.today() + timedelta(days=2))
    caseworker.get_by_role("button", name="Add note").click()
    summary = caseworker.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date of contact must be today or in the past")
    expect(caseworker.locator("#notes")).to_be_visible()  # the Notes tab, not the first
    assert_good_at_both_widths(caseworker)
    summary.get_by_role("link").click()
    expect(caseworker.locator("#occurred_at-day")).to_be_focused()
    fill_date(notes, date.today())
    caseworker.get_by_role("button", name="Add note").click()
    expect(banner(caseworker)).to_contain_text("Note added")
    expect(caseworker.locator("#notes")).to_contain_text("Phoned his mother.")
    assert_good_at_both_widths(caseworker)
    # The filter: a kind with no notes, then all again.
    caseworker.get_by_label("Show notes of this kind").select_option("home_visit")
    caseworker.get_by_role("button", name="Show notes").click()
    expect(caseworker.locator("#notes")).not_to_contain_text("Phoned his mother.")
    assert_good_at_both_widths(caseworker)


def test_the_printable_view_access_log_and_notifications_pages(
    live_app, person, world, referral_in
):
    referral = referral_in("in_progress")
    share_with(live_app.test_client(), world, referral["id"], world.charity)
    manager = person(world.yjs_manager.user)
    manager.goto(f"/referrals/{referral['id']}")
    manager.get_by_role("link", name="Printable view of this referral").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Jayden Miller")
    expect(manager.get_by_text("Accepted by")).to_be_visible()
    assert_good_at_both_widths(manager)
    manager.go_back()
    manager.get_by_role("link", name="Who has seen this referral").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(
        "Who has seen or changed this referral"
    )
    assert_good_at_both_widths(manager)

    charity = person(world.charity_manager.user)
    charity.get_by_role("link", name=re.compile("Notifications")).click()
    expect(charity.locator("main")).to_contain_text(
        f"Referral {referral['reference']} shared with your agency"
    )
    assert_good_at_both_widths(charity)
    charity.get_by_role("button", name=re.compile("Mark as read")).click()
    expect(banner(charity)).to_contain_text("Marked as read")
    charity.get_by_role("link", name=referral["reference"]).click()
    expect(charity.get_by_role("heading", level=1)).to_have_text("Jayden Miller")
    assert_good_at_both_widths(charity)  # a shared agency's view of the referral
