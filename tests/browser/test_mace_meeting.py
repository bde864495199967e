"""Issue 15's "done when", in a real Chromium: a council manager convenes a
MACE meeting with the police, youth justice and a charity; the police and
youth justice put their referrals on the agenda; the meeting records
attendance, decisions and actions for three agencies; each owner sees and
completes their action; the next meeting carries forward what is still
open; the printable minutes show each agency only what it may see. Every
page on the way passes the accessibility checks at both widths."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from referral_app.extensions import db
from referral_app.models import UK, OrganisationKind, Role, User
from tests.browser import assert_good_at_both_widths
from tests.browser.test_children_reports import refer
from tests.factories import Factory, bearer, token_for
from tests.referral_helpers import Actor, act


@pytest.fixture
def partnership(live_app: Flask, factory: Factory) -> dict[str, Any]:
    """Four agencies and their people; three referrals of the police to the
    youth justice service (accepted there), about three children."""
    council = factory.organisation(OrganisationKind.COUNCIL)
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    people = {
        "chair": factory.user(Role.MANAGER, organisation=council),
        "officer": factory.user(Role.REFERRER, organisation=police),
        "inspector": factory.user(Role.MANAGER, organisation=police),
        "yjs": factory.user(Role.MANAGER, organisation=yjs),
        "caseworker": factory.user(Role.CASEWORKER, organisation=yjs),
        "charity": factory.user(Role.MANAGER, organisation=charity),
    }
    client = live_app.test_client()
    yjs_manager = Actor(people["yjs"], bearer(token_for(client, people["yjs"])))
    referrals = {}
    for first, last in (("Jayden", "Quartermain"), ("Leah", "Okonkwo"), ("Kai", "Brightwater")):
        referral = refer(live_app, people["officer"], yjs, first_name=first, last_name=last)
        assert act(client, yjs_manager, referral["id"], "accept").status_code == 200
        referrals[first] = referral
    with live_app.app_context():
        names = {key: db.session.get(User, info.id).full_name for key, info in people.items()}
    return {
        **people,
        "names": names,
        "orgs": {"council": council, "police": police, "yjs": yjs, "charity": charity},
        "referrals": referrals,
    }


def option(referral: dict[str, Any]) -> str:
    """How the agenda form offers a referral."""
    child = referral["child"]
    return f"{referral['reference']}: {child['first_name']} {child['last_name']}"


def line(page: Page, child: str) -> Locator:
    """An agenda line the viewer holds, found by the child's name."""
    return page.locator("section[id^='item-']", has_text=child)


def fill_date(scope: Page | Locator, day: date) -> None:
    scope.get_by_label("Day", exact=True).fill(str(day.day))
    scope.get_by_label("Month", exact=True).fill(str(day.month))
    scope.get_by_label("Year", exact=True).fill(str(day.year))


def banner(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner")


def agree(page: Page, child: str, what: str, agency: str, owner: str, due: date) -> None:
    section = line(page, child)
    section.get_by_text("Agree an action").click()  # a details element, closed
    section.get_by_label("What needs doing").fill(what)
    section.get_by_label("Agency that will do it").select_option(label=agency)
    section.get_by_label("Named owner (optional)").select_option(label=f"{owner}, {agency}")
    fill_date(section.locator("fieldset", has_text="Due date"), due)
    section.get_by_role("button", name="Agree action").click()
    expect(banner(page)).to_contain_text("Action agreed")


def decide(page: Page, child: str, decision: str, risk: str, discussion: str) -> None:
    section = line(page, child)
    section.get_by_label(decision).check()
    section.get_by_label(risk, exact=True).check()
    section.get_by_label("Summary of the discussion").fill(discussion)
    section.get_by_role("button", name="Record decision").click()
    expect(banner(page)).to_contain_text("Decision recorded")


def open_meeting(page: Page, title: str) -> None:
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def complete_my_action(page: Page, what: str) -> None:
    page.get_by_role("link", name="Actions", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("actions")
    page.get_by_role("link", name=what).click()
    assert_good_at_both_widths(page)
    page.get_by_label("Done", exact=True).check()
    page.get_by_label("Note").fill("Done as agreed at the meeting.")
    page.get_by_role("button", name="Save").click()
    expect(banner(page)).to_contain_text("done")


def test_a_mace_meeting_and_the_next_through_the_pages(person, partnership):
    orgs, referrals = partnership["orgs"], partnership["referrals"]
    title = "Southend MACE panel"
    today = datetime.now(UK).date()

    # The council manager convenes it, today, online, with three agencies.
    chair = person(partnership["chair"])
    chair.get_by_role("link", name="Meetings", exact=True).click()
    assert_good_at_both_widths(chair)
    chair.get_by_role("button", name="Convene a meeting").click()
    chair.get_by_label("Title").fill(title)
    fill_date(chair.locator("fieldset", has_text="Date"), today)
    chair.get_by_label("Start time").fill("00:00")
    chair.get_by_label("Online").check()
    for name in ("police", "yjs", "charity"):
        chair.get_by_label(orgs[name].name).check()
    assert_good_at_both_widths(chair)
    chair.get_by_role("button", name="Convene meeting").click()
    expect(chair.get_by_role("heading", level=1)).to_have_text(title)
    meeting_url = chair.url

    # The police put Jayden and Kai on the agenda and share Jayden's referral
    # with the council for the meeting; youth justice puts Leah on it.
    inspector = person(partnership["inspector"])
    open_meeting(inspector, title)
    for first in ("Jayden", "Kai"):
        reference = referrals[first]["reference"]
        inspector.get_by_label("Referral", exact=True).select_option(label=option(referrals[first]))
        inspector.get_by_role("button", name="Add to the agenda").click()
        expect(banner(inspector)).to_contain_text(reference)
    jayden = line(inspector, "Jayden")
    jayden.get_by_text("Share with an agency for this meeting").click()
    jayden.get_by_label("Agency", exact=True).select_option(label=orgs["council"].name)
    jayden.get_by_role("button", name="Share for this meeting").click()
    expect(banner(inspector)).to_contain_text(orgs["council"].name)
    yjs = person(partnership["yjs"])
    open_meeting(yjs, title)
    yjs.get_by_label("Referral", exact=True).select_option(label=option(referrals["Leah"]))
    yjs.get_by_role("button", name="Add to the agenda").click()
    expect(banner(yjs)).to_contain_text(referrals["Leah"]["reference"])

    # The chair records attendance, and for Jayden (shared with the council)
    # the decision and actions for the council and the police.
    chair.goto(meeting_url)
    for name in ("council", "police", "yjs"):
        chair.locator("fieldset", has_text=orgs[name].name).get_by_label("Attended").check()
    chair.locator("fieldset", has_text=orgs["charity"].name).get_by_label("Sent apologies").check()
    chair.get_by_role("button", name="Record attendance").click()
    expect(banner(chair)).to_contain_text("Attendance recorded")
    decide(chair, "Jayden", "Continue: keep on review", "High", "Seen at Southend Central again.")
    due = today + timedelta(days=7)
    names = partnership["names"]
    agree(
        chair,
        "Jayden",
        "Strategy discussion with the family",
        orgs["council"].name,
        names["chair"],
        due,
    )
    assert_good_at_both_widths(chair)

    # The police record Kai's decision (close) and agree their action on Jayden.
    inspector.goto(meeting_url)
    decide(inspector, "Kai", "Close: take off review", "Medium", "Engaging well; no new concerns.")
    agree(
        inspector,
        "Jayden",
        "Disruption visit to the address",
        orgs["police"].name,
        names["inspector"],
        due,
    )
    # Youth justice: Leah's decision and an action for its caseworker.
    yjs.goto(meeting_url)
    decide(yjs, "Leah", "Escalate to children's social care", "High", "Older males collect her.")
    agree(yjs, "Leah", "Weekly mentoring session", orgs["yjs"].name, names["caseworker"], due)

    # Each agency sees only what it may: the charity holds nothing.
    charity = person(partnership["charity"])
    open_meeting(charity, title)
    expect(charity.get_by_text("A referral held by other agencies")).to_have_count(3)
    for first in ("Jayden", "Leah", "Kai"):
        expect(charity.locator("main")).not_to_contain_text(first)
        expect(charity.locator("main")).not_to_contain_text(referrals[first]["reference"])
    assert_good_at_both_widths(charity)

    # The police and council owners complete theirs; youth justice's stays open.
    complete_my_action(chair, "Strategy discussion with the family")
    complete_my_action(inspector, "Disruption visit to the address")

    # The next meeting: Jayden and Leah carried forward (Kai was closed), with
    # youth justice's open action; the chair sees Jayden's line, not Leah's.
    chair.goto(meeting_url)
    chair.get_by_role("link", name="Convene the next meeting").click()
    fill_date(chair.locator("fieldset", has_text="Date"), today + timedelta(days=28))
    chair.get_by_label("Start time").fill("10:00")
    chair.get_by_label("Online").check()
    assert_good_at_both_widths(chair)
    chair.get_by_role("button", name="Convene meeting").click()
    expect(chair.get_by_role("heading", level=1)).to_have_text(title)
    next_url = chair.url
    assert next_url != meeting_url
    expect(line(chair, "Jayden")).to_contain_text("Carried forward")
    expect(chair.get_by_text("A referral held by other agencies")).to_have_count(1)
    expect(chair.locator("main")).not_to_contain_text("Kai")
    yjs.goto(next_url)
    expect(line(yjs, "Leah")).to_contain_text("Weekly mentoring session")
    expect(line(yjs, "Jayden")).not_to_contain_text("Strategy discussion")  # done
    expect(line(yjs, "Kai")).to_have_count(0)  # still offered to add, not carried
    assert_good_at_both_widths(yjs)

    # The caseworker sees and completes theirs.
    caseworker = person(partnership["caseworker"])
    complete_my_action(caseworker, "Weekly mentoring session")

    # The printable minutes of the first meeting, per agency.
    minutes = meeting_url + "/minutes"
    for page, held, hidden in (
        (chair, ("Jayden",), ("Leah", "Kai")),
        (inspector, ("Jayden", "Kai", "Leah"), ()),
        (yjs, ("Jayden", "Kai", "Leah"), ()),
        (charity, (), ("Jayden", "Leah", "Kai")),
    ):
        page.goto(minutes)
        main = page.locator("main")
        for first in held:
            expect(main).to_contain_text(first)
        for first in hidden:
            expect(main).not_to_contain_text(first)
            expect(main).not_to_contain_text(referrals[first]["reference"])
        expect(page.get_by_text("A referral held by other agencies")).to_have_count(len(hidden))
        assert_good_at_both_widths(page)
