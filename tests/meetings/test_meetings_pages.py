"""MACE meetings through the pages: a council manager convenes a meeting with
the police, youth justice and a charity; the police and youth justice put
their referrals on the agenda; the meeting records attendance, decisions and
actions for three agencies; the next meeting carries forward what is still
open; the page and the printable minutes show each agency only what it may
see. The forms answer bad input in a caseworker's words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from referral_app.models import uk_today
from tests.blueprints.web.test_referral_detail_pages import (
    error_messages,
    flash_after,
    sign_in,
    text_of,
)
from tests.meetings.conftest import at, events_of, meeting_with_agenda

PEOPLE = (
    "council_manager",
    "council_worker",
    "police_manager",
    "police_officer",
    "yjs_manager",
    "yjs_worker",
    "charity_manager",
    "charity_worker",
    "outsider_manager",
)


@pytest.fixture
def pages(app, mace):
    return {name: sign_in(app, getattr(mace, name).user) for name in PEOPLE}


def send(browser, page_path: str, to: str, **fields):
    """Send the form of `page_path` that posts to `to` with its own tokens,
    as the browser would (`fields` fill in the rest)."""
    html = browser.get(page_path).get_data(as_text=True)
    found = re.search(
        rf'<form method="post" action="{re.escape(to)}(?:#[^"]*)?"(.*?)</form>', html, re.S
    )
    assert found, f"no form for {to} on {page_path}"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found[1]))
    return browser.post(to, data={**hidden, **fields})


def day_fields(prefix: str, day) -> dict[str, str]:
    return {
        f"{prefix}-day": str(day.day),
        f"{prefix}-month": str(day.month),
        f"{prefix}-year": str(day.year),
    }


def item_ids(html: str) -> list[str]:
    return re.findall(r'<section class="[^"]*" id="item-([0-9a-f-]{36})">', html)


def names_and_references(referral: dict) -> list[str]:
    child = referral["child"]
    return [f"{child['first_name']} {child['last_name']}", referral["reference"], referral["id"]]


# --- the whole meeting -------------------------------------------------------------------


def test_a_council_manager_runs_a_meeting_and_the_next_one_through_the_pages(client, mace, pages):
    council, police, yjs = pages["council_manager"], pages["police_manager"], pages["yjs_manager"]
    listing = council.get("/meetings").get_data(as_text=True)
    assert 'href="/meetings/new"' in listing
    form = council.get("/meetings/new").get_data(as_text=True)
    assert 'value="MACE meeting"' in form
    today = uk_today()
    made = send(
        council,
        "/meetings/new",
        "/meetings/new",
        title="Southend MACE",
        held_time="9:00am",
        venue="place",
        place="Civic Centre, Room 2",
        invited_organisation_ids=[str(o.id) for o in (mace.police, mace.yjs, mace.charity)],
        **day_fields("held_on", today),
    )
    assert flash_after(council, made).startswith("Meeting convened: Southend MACE")
    here = made.location
    mid = here.rsplit("/", 1)[1]

    # The police and youth justice put their referrals on the agenda.
    for browser, referral in ((police, mace.police_referral), (yjs, mace.yjs_referral)):
        added = send(browser, here, f"{here}/agenda", referral_id=referral["id"])
        child = referral["child"]
        assert flash_after(browser, added) == (
            f"Added to the agenda: {child['first_name']} {child['last_name']} "
            f"({referral['reference']})"
        )
    police_item, yjs_item = item_ids(council.get(here).get_data(as_text=True))

    # The council records attendance.
    attendance = {
        f"attendance-{mace.council.id}": "attended",
        f"attendees-{mace.council.id}": "Helen Carter (chair)",
        f"attendance-{mace.police.id}": "attended",
        f"attendance-{mace.yjs.id}": "attended",
        f"attendance-{mace.charity.id}": "apologies",
    }
    recorded = send(council, here, f"{here}/attendance", **attendance)
    assert flash_after(council, recorded) == "Attendance recorded"
    agencies = text_of(police.get(here).get_data(as_text=True).split('id="attendance"')[1])
    assert "Helen Carter (chair)" in agencies
    assert "Sent apologies" in agencies

    # Decisions: the police raise the risk level; youth justice confirm theirs.
    decided = send(
        police,
        here,
        f"{here}/agenda/{police_item}/decision",
        decision="continue",
        risk_level="high",
        discussion="Seen with older males at the station.",
    )
    assert flash_after(police, decided) == "Decision recorded: Continue: keep on review"
    referral = client.get(
        f"/api/v1/referrals/{mace.police_referral['id']}", headers=mace.police_manager.headers
    )
    assert referral.json["risk_level"] == "high"
    page = police.get(here).get_data(as_text=True)
    assert "High (changed from Medium)" in text_of(page)
    assert f'action="{here}/agenda/{police_item}/decision' not in page  # recorded: no form

    # Youth justice share theirs with the council for the meeting, so the
    # council can own an action on it.
    shared = send(
        yjs,
        here,
        f"{here}/agenda/{yjs_item}/shares",
        organisation_id=str(mace.council.id),
        lawful_basis="public_task",
    )
    assert flash_after(yjs, shared).startswith(f"Shared with {mace.council.name} for this meeting")

    # Actions for three agencies, each with a named owner.
    due = today + timedelta(days=7)
    for browser, item, org, owner in (
        (police, police_item, mace.police, mace.police_officer),
        (yjs, yjs_item, mace.yjs, mace.yjs_worker),
        (yjs, yjs_item, mace.council, mace.council_worker),
    ):
        agreed = send(
            browser,
            here,
            f"{here}/agenda/{item}/actions",
            description=f"Visit for {org.name}",
            owning_organisation_id=str(org.id),
            owner_id=str(owner.user.id),
            **day_fields("due_on", due),
        )
        assert flash_after(browser, agreed).startswith(f"Action agreed for {org.name}")
    for who, descriptions in (
        ("police_officer", ["Visit for " + mace.police.name]),
        ("yjs_worker", ["Visit for " + mace.yjs.name]),
        ("council_worker", ["Visit for " + mace.council.name]),
    ):
        mine = client.get("/api/v1/actions", headers=getattr(mace, who).headers).json
        assert [action["description"] for action in mine] == descriptions, who
    # The police officer completes theirs.
    police_action = client.get("/api/v1/actions", headers=mace.police_officer.headers).json[0]
    done = client.post(
        f"/api/v1/actions/{police_action['id']}/close",
        json={"status": "done", "note": "Visited."},
        headers=mace.police_officer.headers,
    )
    assert done.status_code == 200

    # The next meeting, prefilled, carries forward what is still open.
    next_form = council.get(f"/meetings/new?follows={mid}").get_data(as_text=True)
    assert "carries forward the children still on review and their open actions" in next_form
    assert 'value="Southend MACE"' in next_form
    again = text_of(next_form).split("It invites the same agencies again: ")[1].split(".")[0]
    assert sorted(again.split(", ")) == sorted(
        o.name for o in (mace.police, mace.yjs, mace.charity)
    )
    for org in (mace.police, mace.yjs, mace.charity):
        assert f'value="{org.id}"' not in next_form, org.name  # not offered again
    assert 'value="Civic Centre, Room 2"' in next_form
    following = send(
        council,
        f"/meetings/new?follows={mid}",
        "/meetings/new",
        title="Southend MACE",
        held_time="10:00",
        venue="online",
        **day_fields("held_on", today + timedelta(days=28)),
    )
    assert flash_after(council, following).startswith("Meeting convened")
    later = following.location
    assert later != here
    agencies = text_of(council.get(later).get_data(as_text=True).split('id="attendance"')[1])
    for org in (mace.council, mace.police, mace.yjs, mace.charity):
        assert org.name in agencies
    seen = text_of(yjs.get(later).get_data(as_text=True))
    assert "Open actions carried forward" in seen
    assert f"Visit for {mace.yjs.name}" in seen
    assert f"Visit for {mace.council.name}" in seen
    assert "Amara Okafor" in seen
    police_seen = text_of(police.get(later).get_data(as_text=True))
    assert "Jayden Miller" in police_seen  # continue: still on review
    assert f"Visit for {mace.police.name}" not in police_seen  # done: not carried


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/minutes"])
def test_each_agency_sees_only_its_own_lines_on_the_page_and_the_minutes(client, mace, pages, path):
    meeting = meeting_with_agenda(client, mace)
    url = f"/meetings/{meeting['id']}{path}"
    police, yjs = mace.police_referral, mace.yjs_referral
    for name, held, not_held in (
        ("police_manager", [police], [yjs]),
        ("yjs_worker", [yjs], [police]),
        ("council_manager", [], [police, yjs]),
        ("charity_worker", [], [police, yjs]),
    ):
        response = pages[name].get(url)
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        for referral in not_held:
            for secret in names_and_references(referral):
                assert secret not in html, (name, secret)
        for referral in held:
            assert names_and_references(referral)[0] in text_of(html), name
        assert text_of(html).count("A referral held by other agencies") == len(not_held), name


def test_an_agency_not_invited_gets_404_on_every_meeting_page(client, mace, pages):
    meeting = meeting_with_agenda(client, mace)
    here = f"/meetings/{meeting['id']}"
    item = item_ids(pages["police_manager"].get(here).get_data(as_text=True))[0]
    outsider = pages["outsider_manager"]
    for path in (here, f"{here}/minutes", f"/meetings/new?follows={meeting['id']}"):
        response = outsider.get(path)
        assert response.status_code == 404, path
        assert mace.police_referral["reference"] not in response.get_data(as_text=True)
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', outsider.get("/meetings").get_data(as_text=True)
    )[1]
    for to, data in (
        (f"{here}/attendance", {f"attendance-{mace.outsider.id}": "attended"}),
        (f"{here}/agenda", {"referral_id": mace.police_referral["id"]}),
        (f"{here}/agenda/{item}/decision", {"decision": "close", "discussion": "x"}),
        (f"{here}/agenda/{item}/actions", {"description": "x"}),
        (f"{here}/agenda/{item}/shares", {"organisation_id": str(mace.outsider.id)}),
    ):
        assert outsider.post(to, data={"csrf_token": token, **data}).status_code == 404, to
    assert meeting["title"] not in outsider.get("/meetings").get_data(as_text=True)


def test_a_line_one_does_not_hold_has_no_forms_and_refuses_them(client, mace, pages):
    meeting = meeting_with_agenda(client, mace)
    here = f"/meetings/{meeting['id']}"
    police = pages["police_manager"]
    html = police.get(here).get_data(as_text=True)
    police_item, yjs_item = item_ids(html)
    assert f"{here}/agenda/{police_item}/decision" in html
    assert f"{here}/agenda/{yjs_item}/" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    refused = police.post(
        f"{here}/agenda/{yjs_item}/decision",
        data={"csrf_token": token, "decision": "close", "discussion": "Closing it."},
    )
    assert refused.status_code == 403
    assert "Amara" not in refused.get_data(as_text=True)


def test_who_sees_which_forms(client, mace, pages):
    meeting = meeting_with_agenda(client, mace)
    here = f"/meetings/{meeting['id']}"
    officer = pages["police_officer"].get(here).get_data(as_text=True)
    assert "Jayden Miller" in text_of(officer)
    assert '<form method="post" action="' + here not in officer  # a referrer records nothing
    assert 'href="/meetings/new"' not in pages["police_officer"].get("/meetings").get_data(
        as_text=True
    )
    worker = pages["council_worker"].get(here).get_data(as_text=True)
    assert f"{here}/attendance" not in worker
    assert f"/meetings/new?follows={meeting['id']}" not in worker
    convener = pages["council_manager"].get(here).get_data(as_text=True)
    assert f"{here}/attendance" in convener
    assert f"/meetings/new?follows={meeting['id']}" in convener
    assert f'href="{here}/minutes"' in convener
    # Sharing is for managers of the referring or receiving agency.
    assert "Share with an agency for this meeting" in pages["yjs_manager"].get(here).get_data(
        as_text=True
    )
    assert "Share with an agency for this meeting" not in pages["yjs_worker"].get(here).get_data(
        as_text=True
    )


def test_a_meeting_to_come_takes_no_decisions_yet(client, mace, pages):
    meeting = meeting_with_agenda(client, mace, held_at=at(days=3))
    here = f"/meetings/{meeting['id']}"
    html = pages["police_manager"].get(here).get_data(as_text=True)
    assert "Decisions and actions can be recorded on the day of the meeting." in text_of(html)
    assert "/decision#item-" not in html
    assert "/actions#item-" not in html
    convener = pages["council_manager"].get(here).get_data(as_text=True)
    assert "You can record attendance on the day of the meeting." in text_of(convener)
    assert f"/meetings/new?follows={meeting['id']}" not in convener


def test_the_list_shows_upcoming_and_past_meetings(client, mace, pages):
    from tests.meetings.conftest import convene

    convene(client, mace, title="Panel last month", held_at=at(days=-30))
    convene(client, mace, title="Panel next week", held_at=at(days=7))
    html = pages["charity_worker"].get("/meetings").get_data(as_text=True)
    upcoming, past = html.split('id="past"')
    assert "Panel next week" in upcoming
    assert "Panel last month" not in upcoming
    assert "Panel last month" in past
    assert 'href="/meetings/new"' not in html  # a caseworker does not convene
    assert "No meetings coming up." in text_of(
        pages["outsider_manager"].get("/meetings").get_data(as_text=True)
    )


def test_reading_the_page_is_audited(app, client, mace, pages):
    meeting = meeting_with_agenda(client, mace)
    read = pages["police_manager"].get(f"/meetings/{meeting['id']}")
    assert [(e.action, e.record_id) for e in events_of(app, read)] == [
        ("meeting.read", mace.police_referral["id"])
    ]
    minutes = pages["charity_worker"].get(f"/meetings/{meeting['id']}/minutes")
    assert [(e.action, e.record_type) for e in events_of(app, minutes)] == [
        ("meeting.read", "meeting")
    ]


# --- messages ---------------------------------------------------------------------------


def test_convening_with_nothing_filled_in_says_what_is_missing(pages):
    council = pages["council_manager"]
    refused = send(council, "/meetings/new", "/meetings/new", title="")
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == [
        "Enter a title for the meeting",
        "Enter the date of the meeting",
        "Enter the time the meeting starts",
        "Select whether the meeting is in a place or online",
        "Select at least one agency to invite",
    ]
    odd = send(
        council,
        "/meetings/new",
        "/meetings/new",
        title="MACE",
        held_time="25:00",
        venue="place",
        invited_organisation_ids=["not-an-agency"],
        **day_fields("held_on", uk_today() + timedelta(days=500)),
    )
    messages = error_messages(odd.get_data(as_text=True))
    assert messages == [
        "Enter a real time, for example 10:00 or 2:30pm",
        "Enter where the meeting is",
        "Select agencies from the list",
    ]


def test_the_date_of_a_meeting_is_within_a_year(mace, pages):
    refused = send(
        pages["council_manager"],
        "/meetings/new",
        "/meetings/new",
        title="MACE",
        held_time="14:30",
        venue="online",
        invited_organisation_ids=[str(mace.police.id)],
        **day_fields("held_on", uk_today() + timedelta(days=500)),
    )
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == ["Date must be within a year of today"]


def test_the_meetings_forms_refuse_in_plain_words(client, mace, pages):
    meeting = meeting_with_agenda(client, mace)
    here = f"/meetings/{meeting['id']}"
    police = pages["police_manager"]
    police_item = item_ids(police.get(here).get_data(as_text=True))[0]
    empty = send(police, here, f"{here}/agenda/{police_item}/decision")
    assert empty.status_code == 422
    assert error_messages(empty.get_data(as_text=True)) == [
        "Select what the meeting decided",
        "Enter a summary of the discussion",
    ]
    assert f'href="#decision-{police_item}"' in empty.get_data(as_text=True)
    not_holding = send(
        police,
        here,
        f"{here}/agenda/{police_item}/actions",
        description="Mentoring",
        owning_organisation_id=str(mace.charity.id),
        **day_fields("due_on", uk_today() - timedelta(days=1)),
    )
    assert not_holding.status_code == 422
    assert error_messages(not_holding.get_data(as_text=True)) == [
        "This agency does not hold the referral: share it with them for this meeting first",
        "Due date must be today or in the future",
    ]
    bad_date = send(
        police,
        here,
        f"{here}/agenda/{police_item}/actions",
        description="Mentoring",
        owning_organisation_id=str(mace.police.id),
        **{"due_on-day": "31", "due_on-month": "2", "due_on-year": "2027"},
    )
    assert error_messages(bad_date.get_data(as_text=True)) == ["Due date must be a real date"]
    attendance = send(pages["council_manager"], here, f"{here}/attendance")
    assert attendance.status_code == 422
    assert error_messages(attendance.get_data(as_text=True))[0] == (
        f"Select whether {mace.council.name} attended"
    )
    html = police.get(here).get_data(as_text=True)
    assert "holds no other open referrals to add" in text_of(html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    twice = police.post(
        f"{here}/agenda", data={"csrf_token": token, "referral_id": mace.police_referral["id"]}
    )
    assert twice.status_code == 409
    assert error_messages(twice.get_data(as_text=True)) == [
        "This referral is already on the agenda"
    ]
    not_held = police.post(
        f"{here}/agenda", data={"csrf_token": token, "referral_id": mace.yjs_referral["id"]}
    )
    # Not one the list offers: it does not exist for the police (as through the API).
    assert not_held.status_code == 404
    assert mace.yjs_referral["reference"] not in not_held.get_data(as_text=True)
    shared = send(
        pages["police_manager"],
        here,
        f"{here}/agenda/{police_item}/shares",
        organisation_id="",
    )
    assert error_messages(shared.get_data(as_text=True)) == [
        "Select the agency to share the referral with"
    ]


@pytest.mark.parametrize("who", ["council_manager", "police_manager", "yjs_manager"])
def test_every_form_on_a_meeting_refuses_empty_and_bad_input_in_plain_words(
    client, mace, pages, who
):
    from urllib.parse import urlsplit

    from tests.blueprints.web.test_form_messages import assert_plain, read_page, variants

    meeting = meeting_with_agenda(client, mace)
    here = f"/meetings/{meeting['id']}"
    browser = pages[who]
    page = read_page("http://localhost" + here, browser.get(here).get_data(as_text=True))
    posted = [form for form in page.forms if form.method == "post" and "/meetings/" in form.action]
    assert len(posted) >= (1 if who == "council_manager" else 3), who
    for form in posted:
        path = urlsplit(form.action).path
        for data in variants(form):
            response = browser.post(path, data=data)
            assert response.status_code in (409, 422), (who, path, response.status_code)
            html = response.get_data(as_text=True)
            assert_plain(f"POST {path}", html)
            assert error_messages(html), (who, path)
