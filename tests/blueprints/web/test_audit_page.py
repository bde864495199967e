"""The audit page's filters, each of them, and the values it cannot use
(errors on the page, never a 500): a person from a list (or by email when
there are too many for one), an agency (system admins), an action by name, a
referral by its reference, and a range of UK dates; pages that keep them."""

from __future__ import annotations

import ast
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from referral_app.models import OrganisationKind, Role
from referral_app.services import audit_search
from referral_app.services.lifecycle import Action
from referral_app.templating import UK
from tests.blueprints.web.test_admin_forms import shown_errors
from tests.blueprints.web.test_referral_pages import sign_in
from tests.factories import bearer, token_for
from tests.page_errors import summary_errors
from tests.referral_helpers import Actor, create

REPO = Path(__file__).resolve().parents[3]

_ROW = re.compile(r'<tr class="govuk-table__row">(.*?)</tr>', re.S)
_CELL = re.compile(r'<td class="govuk-table__cell">(.*?)</td>', re.S)


def event_rows(response) -> list[list[str]]:
    """The events table's rows as the text of their cells (When, What, Who)."""
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
        for cells in _event_cells(response)
    ]


def _event_cells(response) -> list[list[str]]:
    rows = [_CELL.findall(row) for row in _ROW.findall(response.get_data(as_text=True))]
    return [cells for cells in rows if cells]


def event_actions(response) -> list[str]:
    """Each row's action in words: the What cell's first line."""
    return [" ".join(cells[1].split("<")[0].split()) for cells in _event_cells(response)]


@pytest.fixture
def trail(app, factory, client):
    """An auditor of a police force whose officer made a referral; a
    colleague who signed in; another agency's referrer referring to a third."""
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    colleague = factory.user(Role.CASEWORKER, organisation=police)
    stranger = factory.user(Role.REFERRER, organisation=yjs)
    made = create(client, Actor(officer, bearer(token_for(client, officer))), yjs)
    token_for(client, colleague)
    charity = factory.organisation(OrganisationKind.CHARITY)
    # Between two other agencies: nothing the police auditor may see.
    theirs = create(client, Actor(stranger, bearer(token_for(client, stranger))), charity)
    auditor = sign_in(app, factory.user(Role.AUDITOR, organisation=police))
    return {
        "auditor": auditor,
        "police": police,
        "yjs": yjs,
        "officer": officer,
        "colleague": colleague,
        "stranger": stranger,
        "reference": made["reference"],
        "their_reference": theirs["reference"],
    }


def test_filter_by_action_from_the_list(trail):
    page = trail["auditor"].get("/audit?action=referral.create")
    assert page.status_code == 200
    assert event_actions(page) == ["Referral created"]
    assert '<option value="referral.create" selected>Referral created</option>' in page.get_data(
        as_text=True
    )


def test_filter_by_person(trail):
    colleague = trail["colleague"]
    page = trail["auditor"].get(f"/audit?actor={colleague.id}")
    rows = event_rows(page)
    assert rows
    assert all(f"By User {colleague.email[4:].split('@')[0]}," in row[1] for row in rows)
    assert "API token created" in event_actions(page)


def test_filter_by_email_when_there_are_too_many_people_for_a_list(trail, monkeypatch):
    from blueprints.web import audit as audit_page

    monkeypatch.setattr(audit_page, "PEOPLE_IN_A_LIST", 1)
    auditor = trail["auditor"]
    shown = auditor.get("/audit").get_data(as_text=True)
    assert 'name="email"' in shown
    assert 'name="actor"' not in shown
    page = auditor.get("/audit", query_string={"email": trail["officer"].email.upper()})
    assert page.status_code == 200
    assert "Referral created" in event_actions(page)
    stranger = auditor.get("/audit", query_string={"email": trail["stranger"].email})
    assert stranger.status_code == 422
    assert shown_errors(stranger) == [
        "No one you can see in the audit trail has this email address"
    ]
    bad = auditor.get("/audit", query_string={"email": "not an email"})
    assert shown_errors(bad) == [
        "Enter an email address in the correct format, like name@example.org"
    ]


def test_filter_by_referral_reference(trail):
    auditor = trail["auditor"]
    page = auditor.get("/audit", query_string={"reference": trail["reference"]})
    assert page.status_code == 200
    assert event_actions(page) == ["Referral created"]
    assert f"Referral {trail['reference']}" in event_rows(page)[0][1]
    lower = auditor.get("/audit", query_string={"reference": trail["reference"].lower()})
    assert event_actions(lower) == ["Referral created"]


def test_an_unknown_reference_shows_no_events_not_an_error(trail):
    auditor = trail["auditor"]
    for reference in ("R-1999-999999", trail["their_reference"]):
        page = auditor.get("/audit", query_string={"reference": reference})
        assert page.status_code == 200
        assert event_rows(page) == []
        assert "0 events" in page.get_data(as_text=True)


def test_filter_by_dates_in_uk_days(trail):
    auditor = trail["auditor"]
    today = datetime.now(UK).date()
    yesterday = today - timedelta(days=1)

    def between(start, end):
        query = {}
        for name, day in (("since", start), ("until", end)):
            if day:
                query |= {
                    f"{name}-day": day.day,
                    f"{name}-month": day.month,
                    f"{name}-year": day.year,
                }
        return auditor.get("/audit", query_string=query)

    assert "Referral created" in event_actions(between(today, today))
    assert event_rows(between(None, yesterday)) == []
    assert "Referral created" in event_actions(between(yesterday, None))
    backwards = between(today, yesterday)
    assert backwards.status_code == 422
    assert shown_errors(backwards) == ["Date to must be the same as or after date from"]


def test_times_are_shown_in_uk_time(trail):
    page = trail["auditor"].get("/audit?action=referral.create")
    when = event_rows(page)[0][0]
    assert re.search(r"\d{1,2}:\d\d(am|pm) (GMT|BST)", when)
    assert datetime.now(UTC).astimezone(UK).strftime("%B %Y") in when


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"action": "referral.eaten"}, "Select an action from the list"),
        ({"action": "x" * 65}, "Select an action from the list"),
        ({"actor": "not-an-id"}, "Select a person from the list"),
        ({"actor": str(uuid.uuid4())}, "Select a person from the list"),
        (
            {"reference": "2026-000123"},
            "Enter a referral reference in the correct format, like R-2026-000123",
        ),
        (
            {"reference": "R-2026-000123-and-more"},
            "Enter a referral reference in the correct format, like R-2026-000123",
        ),
        (
            {"since-day": "31", "since-month": "2", "since-year": "2026"},
            "Date from must be a real date",
        ),
        ({"since-day": "3", "since-month": "2"}, "Date from must include a year"),
        (
            {"until-day": "99", "until-month": "99", "until-year": "20x6"},
            "Date to must be a real date",
        ),
        ({"record": "r" * 65}, "Record ID must be 64 characters or less"),
    ],
)
def test_bad_filter_values_are_errors_on_the_page(trail, query, message):
    page = trail["auditor"].get("/audit", query_string=query)
    assert page.status_code == 422
    assert shown_errors(page) == [message]
    assert event_rows(page) == []


def test_every_bad_filter_is_named_in_one_round(trail):
    page = trail["auditor"].get(
        "/audit",
        query_string={
            "actor": str(trail["stranger"].id),  # another agency's person
            "action": "nope",
            "reference": "nope",
            "since-day": "40",
            "since-month": "1",
            "since-year": "2026",
        },
    )
    assert page.status_code == 422
    assert shown_errors(page) == [
        "Select a person from the list",
        "Select an action from the list",
        "Enter a referral reference in the correct format, like R-2026-000123",
        "Date from must be a real date",
    ]


def test_only_a_system_admin_filters_by_agency(app, trail, factory):
    auditor_page = trail["auditor"].get("/audit").get_data(as_text=True)
    assert 'name="organisation"' not in auditor_page
    edited = trail["auditor"].get("/audit", query_string={"organisation": str(trail["yjs"].id)})
    assert edited.status_code == 422
    assert summary_errors(edited.get_data(as_text=True)) == [
        "You can only see the events of your own agency"
    ]
    system_admin = sign_in(app, factory.user(Role.SYSTEM_ADMIN))
    shown = system_admin.get("/audit").get_data(as_text=True)
    assert 'name="organisation"' in shown
    theirs = system_admin.get(
        "/audit", query_string={"organisation": str(trail["yjs"].id), "action": "referral.create"}
    )
    assert theirs.status_code == 200
    assert event_actions(theirs) == ["Referral created"]
    assert trail["their_reference"] in event_rows(theirs)[0][1]
    unknown = system_admin.get("/audit", query_string={"organisation": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert shown_errors(unknown) == ["Select an agency from the list"]


def test_the_trail_is_paginated_with_its_filters_kept(trail, client):
    officer = trail["officer"]
    for _ in range(51):
        token_for(client, officer)
    auditor = trail["auditor"]
    first = auditor.get(f"/audit?actor={officer.id}").get_data(as_text=True)
    assert re.search(r"Showing 1 to 50 of \d+ events", first)
    assert f"/audit?actor={officer.id}&amp;page=2" in first
    second = auditor.get(f"/audit?actor={officer.id}&page=2")
    assert second.status_code == 200
    assert event_rows(second)
    assert auditor.get(f"/audit?actor={officer.id}&page=50").status_code == 404


# --- Every action recorded has words on the audit page ------------------------------


def _recorded_actions() -> set[str]:
    """The action names the code passes to audit.record / record_denial (and
    to the helpers that pass theirs on), read from the source."""
    found: set[str] = {f"referral.{action}" for action in Action}
    callers = {"record", "record_denial", "_record_moves"}
    for path in [
        *REPO.joinpath("referral_app").rglob("*.py"),
        *REPO.joinpath("blueprints").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            index = 1 if name == "_record_moves" else 0
            if name not in callers or len(node.args) <= index:
                continue
            argument = node.args[index]
            options = (
                [argument.body, argument.orelse] if isinstance(argument, ast.IfExp) else [argument]
            )
            for option in options:
                if isinstance(option, ast.Constant) and isinstance(option.value, str):
                    found.add(option.value)
    return found


def test_every_recorded_action_has_a_label_on_the_audit_page():
    recorded = _recorded_actions()
    assert {"auth.login", "referral.read", "child.merge", "referral.accept"} <= recorded
    missing = sorted(recorded - set(audit_search.ACTIONS))
    assert not missing, f"actions without words in services/audit_search.ACTIONS: {missing}"
