"""Actions through the pages: "My actions" and the agency's, one action
and the form that completes or cancels it, the referral page's Actions tab
and its form, notes marked as significant, and the notifications page.
Every form's messages are ours, and another agency's action is a 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from referral_app.models import uk_today
from referral_app.templating import uk_date
from tests.actions.conftest import add_action, set_due
from tests.blueprints.web.test_form_messages import assert_plain, read_page, variants
from tests.blueprints.web.test_referral_detail_pages import panel, sign_in
from tests.conftest import csrf_token
from tests.page_errors import assert_plain_errors, rows_headed, summary_errors, tables, text_of
from tests.referral_helpers import create


@pytest.fixture
def pages(app, world):
    """A signed-in browser for each person of the world who needs one."""
    names = ("officer", "yjs_manager", "caseworker", "yjs_referrer", "stranger_manager")
    return {name: sign_in(app, getattr(world, name).user) for name in names}


def form_data(browser, page_path: str, action: str) -> dict[str, str]:
    """The hidden fields (tokens) of the form on `page_path` that posts to
    exactly `action` (its #fragment aside)."""
    html = browser.get(page_path).get_data(as_text=True)
    for attributes, body in re.findall(r"<form ([^>]*)>(.*?)</form>", html, re.S):
        target = re.search(r'action="([^"#]*)', attributes)
        if 'method="post"' in attributes and target and target.group(1) == action:
            return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    raise AssertionError(f"no form posting to {action} on {page_path}")


def send(browser, page_path: str, action: str, **fields: str):
    return browser.post(action, data={**form_data(browser, page_path, action), **fields})


def flash_after(browser, response) -> str:
    """The success banner of the page a form's redirect leads to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = browser.get(response.location).get_data(as_text=True)
    found = re.search(r'<p class="govuk-notification-banner__heading">(.*?)</p>', page, re.S)
    assert found, "no success banner"
    return text_of(found.group(1))


def due_parts(day) -> dict[str, str]:
    return {
        "due_on-day": str(day.day),
        "due_on-month": str(day.month),
        "due_on-year": str(day.year),
    }


# --- My actions -------------------------------------------------------------------


def test_my_actions_lists_mine_overdue_first_with_links(app, client, world, referral, pages):
    rid = referral["id"]
    mine = str(world.caseworker.user.id)
    soon = add_action(client, world.yjs_manager, rid, owner_id=mine, description="Phone the school")
    late = add_action(
        client, world.yjs_manager, rid, owner_id=mine, description="Visit at home"
    ).json
    set_due(app, late["id"], uk_today() - timedelta(days=1))
    add_action(client, world.yjs_manager, rid, description="Not named")

    html = pages["caseworker"].get("/actions").get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">My actions</h1>' in html
    [table] = tables(html)
    rows = table["rows"]
    assert rows[0] == ["Action", "Child and referral", "Owner", "Due", "Status"]
    assert [row[0] for row in rows[1:]] == ["Visit at home", "Phone the school"]
    assert rows[1][1] == f"Jayden Miller {referral['reference']}"
    assert rows[1][4] == "Open Overdue"
    assert rows[2][4] == "Open"
    assert f'href="/actions/{late["id"]}"' in html
    assert f'href="/actions/{soon.json["id"]}"' in html
    assert f'href="/referrals/{rid}"' in html
    assert re.search(r'govuk-tag--red">\s*Overdue', html)
    assert "2 actions, 1 overdue." in text_of(html)
    # A caseworker has no choice of whose actions.
    assert 'name="scope"' not in html


def test_an_empty_worklist_says_so_in_words(pages):
    page = text_of(pages["caseworker"].get("/actions").get_data(as_text=True))
    assert "You have no open actions." in page
    done = text_of(pages["caseworker"].get("/actions?status=done").get_data(as_text=True))
    assert "You have no done actions." in done
    agency = text_of(pages["yjs_manager"].get("/actions?scope=agency").get_data(as_text=True))
    assert "Your agency has no open actions." in agency


def test_a_manager_sees_the_agencys_actions_and_a_caseworker_may_not(
    client, world, referral, pages
):
    add_action(client, world.caseworker, referral["id"], description="Not named")
    html = pages["yjs_manager"].get("/actions?scope=agency").get_data(as_text=True)
    assert f"Actions of {world.yjs.name}" in html
    assert rows_headed(html, "Not named")[0][1] == f"Anyone in {world.yjs.name}"
    assert pages["caseworker"].get("/actions?scope=agency").status_code == 403


def test_the_status_filter_shows_closed_ones_and_a_bad_filter_is_our_message(
    client, world, referral, pages
):
    made = add_action(
        client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
    ).json
    client.post(
        f"/api/v1/actions/{made['id']}/close",
        json={"status": "done", "note": "Done."},
        headers=world.caseworker.headers,
    )
    html = pages["caseworker"].get("/actions?status=done").get_data(as_text=True)
    assert rows_headed(html, "Home visit with the family.")[0][3] == "Done"
    bad = pages["yjs_manager"].get("/actions?status=finished&scope=nobody")
    assert bad.status_code == 422
    assert_plain_errors(
        bad.get_data(as_text=True), "Select whose actions to show", "Select which actions to show"
    )


# --- one action -------------------------------------------------------------------


def test_the_owner_completes_the_action_from_its_page(client, world, referral, pages):
    made = add_action(
        client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
    ).json
    path = f"/actions/{made['id']}"
    browser = pages["caseworker"]
    html = browser.get(path).get_data(as_text=True)
    summary = text_of(html.split('id="action-summary"')[1].split("</dl>")[0])
    assert "What needs doing Home visit with the family." in summary
    assert f"About Jayden Miller, referral {referral['reference']}" in summary
    assert f"Owner {made['owner']['full_name']}, {world.yjs.name}" in summary
    assert f"Due {uk_date(uk_today() + timedelta(days=7))}" in summary
    assert "Status Open" in summary
    done = send(browser, path, f"{path}/close", status="done", note="Visited; all well.")
    assert flash_after(browser, done) == "Action marked as done"
    after = browser.get(path).get_data(as_text=True)
    assert "Status Done" in text_of(after)
    assert "Visited; all well." in after
    assert f'action="{path}/close"' not in after  # nothing left to close


def test_the_closing_form_asks_in_plain_words(client, world, referral, pages):
    made = add_action(client, world.yjs_manager, referral["id"]).json
    path = f"/actions/{made['id']}"
    refused = send(pages["yjs_manager"], path, f"{path}/close")
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True),
        "Select whether the action was done or cancelled",
        "Enter what was done, or why the action was cancelled",
    )
    too_long = send(
        pages["yjs_manager"], path, f"{path}/close", status="cancelled", note="x" * 5001
    )
    assert_plain_errors(too_long.get_data(as_text=True), "Note must be 5,000 characters or less")


def test_closing_an_action_someone_else_just_closed_says_so(client, world, referral, pages):
    made = add_action(client, world.yjs_manager, referral["id"]).json
    path = f"/actions/{made['id']}"
    tokens = form_data(pages["yjs_manager"], path, f"{path}/close")
    client.post(
        f"/api/v1/actions/{made['id']}/close",
        json={"status": "cancelled", "note": "Not needed."},
        headers=world.caseworker.headers,
    )
    late = pages["yjs_manager"].post(
        f"{path}/close", data={**tokens, "status": "done", "note": "Done."}
    )
    assert late.status_code == 409
    assert summary_errors(late.get_data(as_text=True)) == ["This action is already cancelled"]


def test_a_holder_that_does_not_own_the_action_sees_it_but_cannot_close_it(
    client, world, referral, pages
):
    made = add_action(client, world.yjs_manager, referral["id"]).json
    path = f"/actions/{made['id']}"
    html = pages["officer"].get(path).get_data(as_text=True)
    assert f'action="{path}/close"' not in html
    assert f"Only {world.yjs.name} can complete or cancel this action." in text_of(html)
    token = csrf_token(pages["officer"], "/referrals/new")
    refused = pages["officer"].post(
        f"{path}/close", data={"csrf_token": token, "status": "done", "note": "Ours."}
    )
    assert refused.status_code == 403


def test_another_agencys_action_is_a_404_page(client, world, referral, pages):
    made = add_action(client, world.yjs_manager, referral["id"], description="Secret plan").json
    stranger = pages["stranger_manager"]
    token = csrf_token(stranger, "/referrals/new")
    for response in (
        stranger.get(f"/actions/{made['id']}"),
        stranger.post(
            f"/actions/{made['id']}/close",
            data={"csrf_token": token, "status": "done", "note": "Not ours."},
        ),
        stranger.post(
            f"/referrals/{referral['id']}/actions",
            data={"csrf_token": token, "description": "Ours now", **due_parts(uk_today())},
        ),
    ):
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "Secret plan" not in page
        assert "Jayden" not in page
    still = client.get(f"/api/v1/actions/{made['id']}", headers=world.yjs_manager.headers)
    assert still.json["status"] == "open"


# --- the referral's page ----------------------------------------------------------


def test_the_referral_page_lists_its_actions_and_adds_one(app, client, world, referral, pages):
    rid = referral["id"]
    path = f"/referrals/{rid}"
    add_action(client, world.officer, rid, description="Police welfare check")
    browser = pages["caseworker"]
    html = browser.get(path).get_data(as_text=True)
    actions = panel(html, "actions")
    assert "Actions (1)" in html
    assert rows_headed(actions, "Police welfare check")[0][0] == f"Anyone in {world.police.name}"
    owners = re.search(r'<select[^>]*name="owner_id"[^>]*>(.*?)</select>', actions, re.S).group(1)
    assert f"Anyone in {world.yjs.name}" in owners
    assert str(world.caseworker.user.id) in owners
    assert str(world.officer.user.id) not in owners  # only one's own agency's people

    day = uk_today() + timedelta(days=4)
    done = send(
        browser,
        path,
        f"{path}/actions",
        description="Mentoring referral",
        owner_id=str(world.caseworker.user.id),
        **due_parts(day),
    )
    assert done.location.endswith("#actions")
    assert flash_after(browser, done) == f"Action added, due {day.day} {day.strftime('%B %Y')}"
    mine = client.get("/api/v1/actions", headers=world.caseworker.headers).json
    assert [action["description"] for action in mine] == ["Mentoring referral"]


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        ({}, ["Enter what needs doing", "Enter the date the action is due"]),
        (
            {"description": "x" * 2001, **due_parts(uk_today() - timedelta(days=1))},
            ["What needs doing must be 2,000 characters or less"],
        ),
        (
            {"description": "Visit", **due_parts(uk_today() - timedelta(days=1))},
            ["Due date must be today or in the future"],
        ),
        (
            {"description": "Visit", **due_parts(uk_today() + timedelta(days=900))},
            ["Due date must be no more than two years from today"],
        ),
        (
            {
                "description": "Visit",
                "due_on-day": "31",
                "due_on-month": "2",
                "due_on-year": "2030",
            },
            ["Due date must be a real date"],
        ),
        (
            {"description": "Visit", "due_on-day": "3", "due_on-month": "", "due_on-year": "2030"},
            ["Due date must include a month"],
        ),
        (
            {"description": "Visit", "owner_id": "not-an-id", **due_parts(uk_today())},
            ["Select who owns the action"],
        ),
    ],
)
def test_the_add_action_form_asks_in_plain_words(client, world, referral, pages, fields, messages):
    path = f"/referrals/{referral['id']}"
    refused = send(pages["yjs_manager"], path, f"{path}/actions", **fields)
    assert refused.status_code == 422
    assert_plain_errors(refused.get_data(as_text=True), *messages)


def test_a_named_owner_from_another_agency_is_refused_on_the_page(client, world, referral, pages):
    path = f"/referrals/{referral['id']}"
    refused = send(
        pages["yjs_manager"],
        path,
        f"{path}/actions",
        description="Visit",
        owner_id=str(world.officer.user.id),
        **due_parts(uk_today()),
    )
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True),
        "Select someone who still works in your agency, or anyone in it",
    )


def test_a_draft_has_no_action_form(client, world, pages):
    draft = create(client, world.officer, world.yjs)
    html = pages["officer"].get(f"/referrals/{draft['id']}").get_data(as_text=True)
    assert "A draft has no actions: submit the referral first." in text_of(panel(html, "actions"))
    assert f'action="/referrals/{draft["id"]}/actions' not in html


# --- notes: the date of contact and the significant mark --------------------------


def test_a_note_marked_significant_from_the_form_shows_a_tag(client, world, referral, pages):
    path = f"/referrals/{referral['id']}"
    browser = pages["caseworker"]
    added = send(
        browser,
        path,
        f"{path}/notes",
        kind="contact",
        body="Phoned him.",
        visibility="shared",
        significant="true",
    )
    assert added.status_code == 302
    html = browser.get(path).get_data(as_text=True)
    notes = text_of(panel(html, "notes"))
    assert "Chronology Significant In the child's chronology" in notes
    assert "Remove significant mark" in notes
    timeline = text_of(panel(html, "timeline"))
    assert "Significant" in timeline
    assert "recorded" in timeline  # the date of contact beside when it was recorded
    assert "Significant: include in the child's chronology" in text_of(html)


def test_a_note_is_marked_and_unmarked_with_its_button(client, world, referral, pages):
    rid = referral["id"]
    note = client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "Home visit.", "kind": "home_visit", "visibility": "shared"},
        headers=world.caseworker.headers,
    ).json
    path = f"/referrals/{rid}"
    target = f"{path}/notes/{note['id']}/significance"
    browser = pages["officer"]  # another holder, a shared note
    assert "Not marked as significant" in text_of(
        panel(browser.get(path).get_data(as_text=True), "notes")
    )
    marked = send(browser, path, target)
    assert flash_after(browser, marked) == (
        "Note marked as significant: it is in the child's chronology"
    )
    unmarked = send(browser, path, target)
    assert flash_after(browser, unmarked) == (
        "Significant mark removed: the note is no longer in the child's chronology"
    )
    got = client.get(f"/api/v1/referrals/{rid}/notes", headers=world.officer.headers).json
    assert got[-1]["significant"] is False


def test_another_agencys_internal_note_cannot_be_marked_from_the_page(
    client, world, referral, pages
):
    rid = referral["id"]
    note = client.post(
        f"/api/v1/referrals/{rid}/notes",
        json={"body": "Internal.", "visibility": "internal"},
        headers=world.caseworker.headers,
    ).json
    path = f"/referrals/{rid}"
    token = csrf_token(pages["officer"], path)
    refused = pages["officer"].post(
        f"{path}/notes/{note['id']}/significance",
        data={"csrf_token": token, "significant": "true"},
    )
    assert refused.status_code == 404


# --- notifications ----------------------------------------------------------------


def test_a_new_action_reads_well_on_the_owners_notifications(client, world, referral, pages):
    add_action(client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id))
    html = pages["caseworker"].get("/notifications").get_data(as_text=True)
    assert f"Referral {referral['reference']} has an action for you" in text_of(html)
    assert f'href="/referrals/{referral["id"]}"' in html


# --- every form, empty and wrong --------------------------------------------------


def test_every_action_form_refuses_empty_and_bad_input_in_plain_words(
    client, world, referral, pages
):
    made = add_action(
        client, world.yjs_manager, referral["id"], owner_id=str(world.caseworker.user.id)
    ).json
    client.post(
        f"/api/v1/referrals/{referral['id']}/notes",
        json={"body": "A note.", "visibility": "shared"},
        headers=world.caseworker.headers,
    )
    browser = pages["caseworker"]
    walked = 0
    for path in ("/actions", f"/actions/{made['id']}", f"/referrals/{referral['id']}"):
        html = browser.get(path).get_data(as_text=True)
        for form in read_page("http://localhost" + path, html).forms:
            url = form.action.removeprefix("http://localhost").split("#")[0]
            if "/actions" not in url and "/significance" not in url:
                continue
            for data in variants(form):
                fresh = read_page(
                    "http://localhost" + path, browser.get(path).get_data(as_text=True)
                )
                tokens = next(
                    {name: [value] for name, kind, value in f.fields if kind == "hidden"}
                    for f in fresh.forms
                    if f.action == form.action
                )
                sent = {
                    **data,
                    **{k: v for k, v in tokens.items() if k in ("csrf_token", "form_token")},
                }
                response = (
                    browser.post(url, data=sent)
                    if form.method == "post"
                    else browser.get(url, query_string=sent)
                )
                walked += 1
                assert response.status_code < 500, (url, response.status_code)
                assert_plain(url, response.get_data(as_text=True))
    assert walked >= 6
