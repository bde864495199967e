"""A referral's own page and what is done from it, through the pages: the
summary and tabs, the confirmation page of each action (what it says, what
sending it does, what bad input gets), assigning, the notes filter and the
note form's date of contact, sharing, and the printable view."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from blueprints.web.forms import is_framework_message
from referral_app.extensions import db
from referral_app.models import AuditEvent, Referral, StatusChange, utcnow
from referral_app.templating import UK, age_in_years
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.referral_helpers import SHARE_REASON, World, advance, create, make_world, share_with

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def sign_in(app, user):
    browser = app.test_client()
    response = browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    return browser


@pytest.fixture
def world(client, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def pages(app, world):
    """A signed-in browser for each person of the world."""
    names = ("officer", "yjs_manager", "caseworker", "charity_manager", "stranger_manager")
    return {name: sign_in(app, getattr(world, name).user) for name in names}


def referral_in(client, world, status: str) -> dict:
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], status)
    return referral


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def error_messages(html: str) -> list[str]:
    """The error summary's messages, as a person reads them."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return (
        [text_of(item) for item in re.findall(r"<a [^>]*>(.*?)</a>", found.group(1), re.S)]
        if (found)
        else []
    )


def panel(html: str, tab: str) -> str:
    """One tab's panel of the referral's page."""
    found = re.search(rf'<div class="govuk-tabs__panel[^"]*" id="{tab}">(.*?)\n</div>', html, re.S)
    assert found, f"no {tab} panel"
    return found.group(1)


def send(browser, page_path: str, to: str, **fields):
    """Send the form of `page_path` that posts to `to`, with its own tokens
    and hidden fields, as the browser would (`fields` fill in the rest)."""
    html = browser.get(page_path).get_data(as_text=True)
    forms = re.findall(
        rf'<form method="post" action="{re.escape(to)}[^"]*"(.*?)</form>', html, re.S
    )
    assert forms, f"no form for {to} on {page_path}"
    hidden = [
        dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        for form in forms
    ]
    # Several forms may post to one place (submit, assign): the one whose
    # hidden action is the one sent.
    chosen = next(
        (data for data in hidden if data.get("action") == fields.get("action")), hidden[0]
    )
    return browser.post(to, data={**chosen, **fields})


def flash_after(browser, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = browser.get(response.location).get_data(as_text=True)
    found = re.search(r'<p class="govuk-notification-banner__heading">(.*?)</p>', page, re.S)
    assert found, "no success banner"
    return text_of(found.group(1))


def status_of(app, referral_id: str) -> str:
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(referral_id))
        assert referral is not None
        return str(referral.status)


# --- the page ---------------------------------------------------------------------


def test_the_page_has_the_summary_a_link_to_the_child_and_the_tabs(client, world, pages):
    referral = referral_in(client, world, "submitted")
    html = pages["yjs_manager"].get(f"/referrals/{referral['id']}").get_data(as_text=True)
    summary = text_of(html.split('id="referral-summary"')[1].split("</dl>")[0])
    for shown in (
        f"Reference {referral['reference']}",
        "Status Submitted",
        "Risk level High",
        "Risk factors County lines, Criminal exploitation",
        f"From {world.police.name}",
        f"To {world.yjs.name}",
        "Assigned to Nobody yet",
        "Consent Obtained from parent",
        "Lawful basis Public task",
    ):
        assert shown in summary
    assert re.search(r"Triage deadline \d+ \w+ 20\d\d, \d+:\d\d[ap]m (GMT|BST)", summary)
    child_age = age_in_years(date(2011, 3, 14))
    assert f'href="/children/{referral["child"]["id"]}">Jayden Miller, aged {child_age}</a>' in html
    for tab in ("timeline", "notes", "shares", "history"):
        assert f'href="#{tab}"' in html
    assert "Overdue" not in summary
    assert re.search(
        r"Submitted by User \d+, " + world.police.name, text_of(panel(html, "history"))
    )


def test_the_page_offers_only_the_actions_the_viewer_may_take(client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"].get(path).get_data(as_text=True)
    offered = set(re.findall(rf"{path}/confirm/(\w+)", manager))
    assert offered == {"accept", "decline"}
    officer = pages["officer"].get(path).get_data(as_text=True)
    assert set(re.findall(rf"{path}/confirm/(\w+)", officer)) == {"withdraw"}
    charity = pages["charity_manager"]
    share_with(client, world, referral["id"], world.charity)
    assert re.findall(rf"{path}/confirm/", charity.get(path).get_data(as_text=True)) == []


def test_an_overdue_referral_says_so(app, client, world, pages):
    referral = referral_in(client, world, "submitted")
    with app.app_context():
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(referral["id"]))
            .values(triage_deadline=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    html = pages["yjs_manager"].get(f"/referrals/{referral['id']}").get_data(as_text=True)
    assert re.search(r'<strong class="govuk-tag govuk-tag--red">\s*Overdue\s*</strong>', html)


def test_another_agency_gets_not_found_for_every_page_of_the_referral(client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    stranger = pages["stranger_manager"]
    for page in ("", "/print", "/confirm/accept", "/confirm/decline", "/access-log"):
        response = stranger.get(path + page)
        assert response.status_code == 404, page
        assert "Jayden" not in response.get_data(as_text=True)


def test_a_drafts_page_offers_submit_and_change(client, world, pages):
    draft = create(client, world.officer, world.yjs, reason=None, risk_level=None)
    path = f"/referrals/{draft['id']}"
    html = pages["officer"].get(path).get_data(as_text=True)
    assert f'<form method="post" action="{path}/submit"' in html
    assert f'href="{path}/edit"' in html
    assert "Change the draft" in html
    # Submitted the old way (the transitions route), what is missing is said
    # on the page, in words, with the way to the answers.
    missing = send(pages["officer"], path, f"{path}/submit", action="submit")
    assert missing.status_code == 422
    legacy = pages["officer"].post(
        f"{path}/transitions",
        data={"csrf_token": csrf_token(pages["officer"], path), "action": "submit"},
    )
    assert legacy.status_code == 422
    assert error_messages(legacy.get_data(as_text=True)) == [
        "Add the reason for referral before you submit the referral",
        "Add the risk level before you submit the referral",
    ]


# --- confirmation pages ----------------------------------------------------------


def test_accept_confirmation_says_what_happens_and_accepts(app, client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    page = manager.get(f"{path}/confirm/accept")
    assert page.status_code == 200
    words = text_of(page.get_data(as_text=True))
    assert "Accept this referral?" in words
    assert f"{world.police.name} will see on the referral that it was accepted." in words
    done = send(manager, f"{path}/confirm/accept", f"{path}/transitions")
    assert flash_after(manager, done) == f"Referral {referral['reference']} accepted"
    assert status_of(app, referral["id"]) == "accepted"


def test_decline_confirmation_needs_a_reason_and_tells_the_referrer(app, client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    words = text_of(manager.get(f"{path}/confirm/decline").get_data(as_text=True))
    assert f"{world.police.name} will be told the referral was declined, with your reason." in words
    assert "You cannot undo this." in words
    empty = send(manager, f"{path}/confirm/decline", f"{path}/transitions")
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert "Decline this referral?" in html  # the confirmation page again, not a dead end
    assert error_messages(html) == ["Enter the reason for declining the referral"]
    too_long = send(manager, f"{path}/confirm/decline", f"{path}/transitions", reason="x" * 2001)
    assert too_long.status_code == 422
    assert error_messages(too_long.get_data(as_text=True)) == [
        "Reason must be 2,000 characters or less"
    ]
    assert status_of(app, referral["id"]) == "submitted"
    done = send(manager, f"{path}/confirm/decline", f"{path}/transitions", reason="Out of area.")
    assert flash_after(manager, done) == f"Declined: {world.police.name} has been told"
    assert status_of(app, referral["id"]) == "declined"
    officer_view = pages["officer"].get(path).get_data(as_text=True)
    assert "Declined because" in officer_view
    assert "Out of area." in officer_view


def test_withdraw_confirmation_for_a_draft_and_for_a_sent_referral(app, client, world, pages):
    officer = pages["officer"]
    draft = referral_in(client, world, "draft")
    words = text_of(officer.get(f"/referrals/{draft['id']}/confirm/withdraw").get_data(True))
    assert f"It was never sent, so {world.yjs.name} has not seen it and will not." in words
    sent = referral_in(client, world, "submitted")
    path = f"/referrals/{sent['id']}"
    words = text_of(officer.get(f"{path}/confirm/withdraw").get_data(as_text=True))
    assert f"{world.yjs.name} will see on the referral that it was withdrawn" in words
    empty = send(officer, f"{path}/confirm/withdraw", f"{path}/transitions")
    assert empty.status_code == 422
    assert error_messages(empty.get_data(as_text=True)) == [
        "Enter the reason for withdrawing the referral"
    ]
    done = send(officer, f"{path}/confirm/withdraw", f"{path}/transitions", reason="In error.")
    assert flash_after(officer, done) == f"Referral {sent['reference']} withdrawn"
    assert status_of(app, sent["id"]) == "withdrawn"


def test_close_confirmation_needs_an_outcome_and_a_summary(app, client, world, pages):
    referral = referral_in(client, world, "in_progress")
    path = f"/referrals/{referral['id']}"
    caseworker = pages["caseworker"]
    words = text_of(caseworker.get(f"{path}/confirm/close").get_data(as_text=True))
    assert (
        f"{world.police.name} will be told the referral was closed, with the outcome and your "
        "summary." in words
    )
    empty = send(caseworker, f"{path}/confirm/close", f"{path}/transitions")
    assert empty.status_code == 422
    assert error_messages(empty.get_data(as_text=True)) == [
        "Select the outcome",
        "Enter a summary of the outcome",
    ]
    bad = send(
        caseworker,
        f"{path}/confirm/close",
        f"{path}/transitions",
        outcome="sailed_away",
        outcome_summary="Kept",
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert error_messages(html) == ["Select the outcome"]
    assert ">Kept</textarea>" in html  # what was typed is kept
    done = send(
        caseworker,
        f"{path}/confirm/close",
        f"{path}/transitions",
        outcome="engaged_and_completed",
        outcome_summary="Completed six sessions.",
    )
    assert flash_after(caseworker, done) == (
        f"Referral {referral['reference']} closed: {world.police.name} has been told the outcome"
    )
    summary = text_of(pages["officer"].get(path).get_data(as_text=True))
    assert "Outcome Engaged and completed" in summary
    assert "Summary of the outcome Completed six sessions." in summary


def test_reopen_confirmation_reopens_with_a_reason(app, client, world, pages):
    referral = referral_in(client, world, "closed")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    words = text_of(manager.get(f"{path}/confirm/reopen").get_data(as_text=True))
    assert f"{world.police.name} will be told the referral was reopened, with your reason." in words
    empty = send(manager, f"{path}/confirm/reopen", f"{path}/transitions")
    assert empty.status_code == 422
    assert error_messages(empty.get_data(as_text=True)) == [
        "Enter the reason for reopening the referral"
    ]
    done = send(manager, f"{path}/confirm/reopen", f"{path}/transitions", reason="New concerns.")
    assert flash_after(manager, done) == (
        f"Referral {referral['reference']} reopened: {world.police.name} has been told"
    )
    assert status_of(app, referral["id"]) == "in_progress"


def test_revoke_confirmation_says_who_loses_sight_and_revokes(app, client, world, pages):
    referral = referral_in(client, world, "accepted")
    grant = share_with(client, world, referral["id"], world.charity)
    path = f"/referrals/{referral['id']}"
    revoke = f"{path}/shares/{grant['id']}/revoke"
    manager = pages["yjs_manager"]
    assert revoke in manager.get(path).get_data(as_text=True)  # the share's "Revoke" link
    words = text_of(manager.get(revoke).get_data(as_text=True))
    assert f"Revoke the share with {world.charity.name}?" in words
    assert f"{world.charity.name} will no longer see this referral or its shared notes" in words
    assert pages["charity_manager"].get(path).status_code == 200
    done = send(manager, revoke, revoke)
    assert flash_after(manager, done) == f"Share with {world.charity.name} revoked"
    assert pages["charity_manager"].get(path).status_code == 404
    again = manager.get(revoke)
    assert again.status_code == 409
    assert error_messages(again.get_data(as_text=True)) == [
        f"The share with {world.charity.name} is already revoked"
    ]
    # Only the referring and receiving agencies' managers revoke.
    assert pages["officer"].get(revoke).status_code == 403


def test_a_confirmation_the_referral_has_moved_past_says_so_with_a_way_back(
    app, client, world, pages
):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    stale = manager.get(f"{path}/confirm/decline").get_data(as_text=True)  # opened first...
    advance_accept = send(manager, f"{path}/confirm/accept", f"{path}/transitions")
    assert advance_accept.status_code == 302  # ...accepted meanwhile
    form_token = FORM_TOKEN.search(stale)
    assert form_token
    refused = manager.post(
        f"{path}/transitions",
        data={
            "csrf_token": csrf_token(manager, path),
            "form_token": form_token.group(1),
            "action": "decline",
            "reason": "Out of area.",
        },
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert error_messages(html) == ["This referral is now accepted, so it cannot be declined"]
    assert f'<a class="govuk-link" href="{path}">Go back to referral' in html
    assert manager.get(f"{path}/confirm/decline").status_code == 409
    assert status_of(app, referral["id"]) == "accepted"


def test_the_same_confirmation_sent_twice_makes_one_change(app, client, world, pages):
    """A double click that beat the button's own guard: the second sending
    of the form (the same one-time token) goes where the first went."""
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    page = manager.get(f"{path}/confirm/accept").get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    first = manager.post(f"{path}/transitions", data=form)
    second = manager.post(f"{path}/transitions", data=form)
    assert first.status_code == 302
    assert second.status_code == 302
    assert second.location == first.location
    with app.app_context():
        changes = db.session.scalar(
            select(func.count(StatusChange.id)).where(
                StatusChange.referral_id == uuid.UUID(referral["id"]),
                StatusChange.action == "accept",
            )
        )
    assert changes == 1
    assert "You already sent this form" in manager.get(second.location).get_data(as_text=True)


def test_confirmation_pages_refuse_who_may_not_and_what_is_not_an_action(client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    assert pages["officer"].get(f"{path}/confirm/accept").status_code == 403
    assert pages["caseworker"].get(f"{path}/confirm/decline").status_code == 403
    for action in ("submit", "assign", "explode"):
        assert pages["yjs_manager"].get(f"{path}/confirm/{action}").status_code == 404


def test_assign_from_the_page_says_who_and_refuses_nobody(app, client, world, pages):
    referral = referral_in(client, world, "accepted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    nobody = send(manager, path, f"{path}/transitions", action="assign", assignee_id="")
    assert nobody.status_code == 422
    assert error_messages(nobody.get_data(as_text=True)) == ["Select who to assign the referral to"]
    wrong = send(manager, path, f"{path}/transitions", action="assign", assignee_id="not-an-id")
    assert wrong.status_code == 422
    assert error_messages(wrong.get_data(as_text=True)) == ["Select who to assign the referral to"]
    outsider = send(
        manager,
        path,
        f"{path}/transitions",
        action="assign",
        assignee_id=str(world.officer.user.id),
    )
    assert outsider.status_code == 422
    assert error_messages(outsider.get_data(as_text=True)) == [
        "Select an active caseworker or manager of your agency"
    ]
    with app.app_context():
        from referral_app.models import User

        name = db.session.get(User, world.caseworker.user.id).full_name
    done = send(
        manager,
        path,
        f"{path}/transitions",
        action="assign",
        assignee_id=str(world.caseworker.user.id),
    )
    assert flash_after(manager, done) == f"Assigned to {name}"


def test_no_action_is_an_error_on_the_page_not_a_crash(client, world, pages):
    referral = referral_in(client, world, "accepted")
    path = f"/referrals/{referral['id']}"
    for action in ("", "explode"):
        response = send(pages["yjs_manager"], path, f"{path}/transitions", action=action)
        assert response.status_code == 422
        messages = error_messages(response.get_data(as_text=True))
        assert messages == ["Choose what to do with the referral from its page"]


# --- notes -----------------------------------------------------------------------


def add_note(client, actor, referral_id, kind, body, visibility="shared"):
    response = client.post(
        f"/api/v1/referrals/{referral_id}/notes",
        json={"kind": kind, "body": body, "visibility": visibility},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json


def test_notes_filter_by_kind_and_a_bad_kind_is_an_error(client, world, pages):
    referral = referral_in(client, world, "in_progress")
    add_note(client, world.caseworker, referral["id"], "home_visit", "Visited at home.")
    add_note(client, world.caseworker, referral["id"], "contact", "Phoned his mother.")
    path = f"/referrals/{referral['id']}"
    caseworker = pages["caseworker"]
    every = panel(caseworker.get(path).get_data(as_text=True), "notes")
    assert "Visited at home." in every
    assert "Phoned his mother." in every
    visits = caseworker.get(f"{path}?kind=home_visit")
    assert visits.status_code == 200
    notes = panel(visits.get_data(as_text=True), "notes")
    assert "Visited at home." in notes
    assert "Phoned his mother." not in notes
    assert "1 of 2 notes is home visit notes" in text_of(notes)
    # The timeline still has every note.
    assert "Phoned his mother." in panel(visits.get_data(as_text=True), "timeline")
    bad = caseworker.get(f"{path}?kind=<script>alert(1)</script>")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert error_messages(html) == ["Select a kind of note from the list"]
    assert "<script>alert(1)" not in html
    assert "Visited at home." in panel(html, "notes")  # the notes are still there


def test_a_note_shows_its_kind_author_agency_visibility_and_date_of_contact(
    app, client, world, pages
):
    referral = referral_in(client, world, "in_progress")
    path = f"/referrals/{referral['id']}"
    caseworker = pages["caseworker"]
    contact_day = date.today() - timedelta(days=3)
    done = send(
        caseworker,
        path,
        f"{path}/notes",
        kind="home_visit",
        body="Met Jayden and his mother.\nAgreed a plan.",
        visibility="internal",
        **{
            "occurred_at-day": str(contact_day.day),
            "occurred_at-month": str(contact_day.month),
            "occurred_at-year": str(contact_day.year),
        },
    )
    assert done.status_code == 302
    assert done.location.endswith("#notes")
    notes = text_of(panel(caseworker.get(path).get_data(as_text=True), "notes"))
    with app.app_context():
        from referral_app.models import User

        name = db.session.get(User, world.caseworker.user.id).full_name
    day = f"{contact_day.day} {contact_day.strftime('%B %Y')}"
    assert "Home visit" in notes
    assert f"Date of contact {day}" in notes
    assert f"Written by {name}, {world.yjs.name}" in notes
    assert f"Who can see it {world.yjs.name} only" in notes
    assert "Met Jayden and his mother. Agreed a plan." in notes
    api = client.get(f"/api/v1/referrals/{referral['id']}/notes", headers=world.caseworker.headers)
    occurred = api.json[-1]["occurred_at"]
    assert occurred.startswith(contact_day.isoformat())  # midday UK time: the same day in UTC
    # An internal note is the writer's agency's alone.
    assert "Met Jayden" not in pages["officer"].get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (("31", "2", "2024"), "Date of contact must be a real date"),
        (("1", "1", "24"), "Date of contact must be a real date"),
        (("", "3", "2024"), "Date of contact must include a day"),
        ("tomorrow", "Date of contact must be today or in the past"),
    ],
)
def test_the_date_of_contact_must_be_a_real_day_not_in_the_future(
    client, world, pages, typed, message
):
    referral = referral_in(client, world, "in_progress")
    path = f"/referrals/{referral['id']}"
    if typed == "tomorrow":
        tomorrow = (utcnow().astimezone(UK) + timedelta(days=1)).date()
        typed = (str(tomorrow.day), str(tomorrow.month), str(tomorrow.year))
    day, month, year = typed
    response = send(
        pages["caseworker"],
        path,
        f"{path}/notes",
        kind="contact",
        body="Phoned.",
        visibility="shared",
        **{"occurred_at-day": day, "occurred_at-month": month, "occurred_at-year": year},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_messages(html) == [message]
    assert 'href="#occurred_at-day"' in html
    assert ">Phoned.</textarea>" in html


def test_the_note_form_refuses_empty_and_too_long_notes_in_plain_words(client, world, pages):
    referral = referral_in(client, world, "in_progress")
    path = f"/referrals/{referral['id']}"
    caseworker = pages["caseworker"]
    empty = send(caseworker, path, f"{path}/notes", kind="", body="", visibility="")
    assert empty.status_code == 422
    assert error_messages(empty.get_data(as_text=True)) == ["Enter the note"]
    bad = send(caseworker, path, f"{path}/notes", kind="gossip", body="Met.", visibility="all")
    assert bad.status_code == 422
    messages = error_messages(bad.get_data(as_text=True))
    assert messages == ["Select the kind of note", "Select who can see the note"]
    long = send(caseworker, path, f"{path}/notes", kind="note", body="x" * 10_001)
    assert long.status_code == 422
    messages += error_messages(long.get_data(as_text=True))
    assert messages[2:] == ["Note must be 10,000 characters or less"]
    assert not any(is_framework_message(message) for message in messages)


# --- sharing ---------------------------------------------------------------------


def test_share_from_the_page_with_an_end_date(client, world, pages):
    referral = referral_in(client, world, "accepted")
    path = f"/referrals/{referral['id']}"
    manager = pages["yjs_manager"]
    end = date.today() + timedelta(days=30)
    fields = {
        "organisation_id": str(world.charity.id),
        "purpose": "Mentoring place",
        "lawful_basis": "public_task",
        "no_agreement_reason": SHARE_REASON,
    }
    bad = send(
        manager,
        path,
        f"{path}/shares",
        **fields,
        **{"expires_on-day": "30", "expires_on-month": "2", "expires_on-year": str(end.year)},
    )
    assert bad.status_code == 422
    assert error_messages(bad.get_data(as_text=True)) == ["End date must be a real date"]
    far = end + timedelta(days=400)
    too_far = send(
        manager,
        path,
        f"{path}/shares",
        **fields,
        **{
            "expires_on-day": str(far.day),
            "expires_on-month": str(far.month),
            "expires_on-year": str(far.year),
        },
    )
    assert too_far.status_code == 422
    assert error_messages(too_far.get_data(as_text=True)) == [
        "End date must be no more than a year from today"
    ]
    done = send(
        manager,
        path,
        f"{path}/shares",
        **fields,
        **{
            "expires_on-day": str(end.day),
            "expires_on-month": str(end.month),
            "expires_on-year": str(end.year),
        },
    )
    day = f"{end.day} {end.strftime('%B %Y')}"
    assert flash_after(manager, done) == f"Shared with {world.charity.name} until {day}"
    shares = text_of(panel(manager.get(path).get_data(as_text=True), "shares"))
    assert f"{world.charity.name}" in shares
    assert "Purpose Mentoring place" in shares
    assert f"End date {day}" in shares
    # The charity sees its own share: the purpose and the end date.
    charity = text_of(panel(pages["charity_manager"].get(path).get_data(as_text=True), "shares"))
    assert "Purpose Mentoring place" in charity
    assert f"End date {day}" in charity
    assert "Revoke" not in charity


# --- the printable view -------------------------------------------------------------


def reads_of(app, referral_id: str) -> int:
    with app.app_context():
        return (
            db.session.scalar(
                select(func.count(AuditEvent.seq)).where(
                    AuditEvent.action == "referral.read", AuditEvent.record_id == referral_id
                )
            )
            or 0
        )


def test_the_printable_view_is_a_holders_read_and_audited(app, client, world, pages):
    referral = referral_in(client, world, "in_progress")
    add_note(client, world.caseworker, referral["id"], "home_visit", "Visited at home.")
    add_note(client, world.caseworker, referral["id"], "note", "Our own view.", "internal")
    path = f"/referrals/{referral['id']}"
    assert f"{path}/print" in pages["officer"].get(path).get_data(as_text=True)
    before = reads_of(app, referral["id"])
    printed = pages["officer"].get(f"{path}/print")
    assert printed.status_code == 200
    assert reads_of(app, referral["id"]) == before + 1
    words = text_of(printed.get_data(as_text=True))
    assert referral["reference"] in words
    assert "Jayden Miller" in words
    assert "Visited at home." in words
    assert "Our own view." not in words  # another agency's internal note
    assert "Accepted by" in words
    assert "Assigned by" in words
    assert pages["stranger_manager"].get(f"{path}/print").status_code == 404
    with app.app_context():
        denied = db.session.scalar(
            select(func.count(AuditEvent.seq)).where(
                AuditEvent.action == "access.not_found", AuditEvent.reason == f"GET {path}/print"
            )
        )
    assert denied == 1


def test_the_access_log_page_lists_reads_for_a_manager(client, world, pages):
    referral = referral_in(client, world, "submitted")
    path = f"/referrals/{referral['id']}"
    pages["yjs_manager"].get(path)
    log = pages["yjs_manager"].get(f"{path}/access-log")
    assert log.status_code == 200
    words = text_of(log.get_data(as_text=True))
    assert "Who has seen or changed this referral" in words
    assert "Read" in words
    assert world.yjs.name in words
    assert pages["caseworker"].get(f"{path}/access-log").status_code == 403
