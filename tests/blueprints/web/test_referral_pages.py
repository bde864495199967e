"""The referral workflow through the browser pages (Flask test client; the
same loop runs in a real Chromium under tests/browser)."""

from __future__ import annotations

import re

import pytest

from referral_app.models import Role
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.referral_helpers import SHARE_REASON


def sign_in(app, user):
    client = app.test_client()
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def people(app, factory):
    from referral_app.models import OrganisationKind

    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    other = factory.organisation(OrganisationKind.CHARITY)
    return {
        "yjs": yjs,
        "other_org": other,
        "officer": sign_in(app, factory.user(Role.REFERRER, organisation=police)),
        "manager": sign_in(app, factory.user(Role.MANAGER, organisation=yjs)),
        "caseworker_user": (cw := factory.user(Role.CASEWORKER, organisation=yjs)),
        "caseworker": sign_in(app, cw),
        "stranger": sign_in(app, factory.user(Role.MANAGER, organisation=other)),
    }


def new_referral_form(client, yjs, **overrides):
    form = {
        "csrf_token": csrf_token(client, "/referrals/new"),
        "child-first_name": "Jayden",
        "child-last_name": "Miller",
        "child-dob-day": "14",
        "child-dob-month": "3",
        "child-dob-year": "2011",
        "child-postcode": "SS1 2AA",
        "receiving_organisation_id": str(yjs.id),
        "reason": "Found with cash and two phones at Southend station.",
        "risk_level": "high",
        "risk_factors": ["county_lines", "criminal_exploitation"],
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
        "intent": "submit",
    }
    form.update(overrides)
    return form


def post_action(client, referral_path, action, **fields):
    return client.post(
        f"{referral_path}/transitions",
        data={"csrf_token": csrf_token(client, referral_path), "action": action, **fields},
    )


def test_the_loop_through_the_pages(people):
    officer, manager, caseworker = people["officer"], people["manager"], people["caseworker"]
    created = officer.post("/referrals/new", data=new_referral_form(officer, people["yjs"]))
    assert created.status_code == 302
    path = created.location
    page = officer.get(path).get_data(as_text=True)
    assert "Jayden Miller" in page
    assert "Submitted" in page

    home = manager.get("/").get_data(as_text=True)
    assert "Awaiting triage" in home
    assert "Jayden" in home
    assert post_action(manager, path, "accept").status_code == 302
    assigned = post_action(manager, path, "assign", assignee_id=str(people["caseworker_user"].id))
    assert assigned.status_code == 302

    assert "Jayden" in caseworker.get("/").get_data(as_text=True)
    note = caseworker.post(
        f"{path}/notes",
        data={
            "csrf_token": csrf_token(caseworker, path),
            "body": "Home visit: met Jayden and his mother.",
            "kind": "home_visit",
            "visibility": "shared",
        },
    )
    assert note.status_code == 302
    closed = post_action(
        caseworker,
        path,
        "close",
        outcome="engaged_and_completed",
        outcome_summary="Completed six sessions.",
    )
    assert closed.status_code == 302

    seen = officer.get(path).get_data(as_text=True)
    assert "Engaged and completed" in seen
    assert "Completed six sessions." in seen
    assert "Home visit: met Jayden and his mother." in seen
    assert people["stranger"].get(path).status_code == 404


def test_form_with_errors_keeps_input_and_links_each_error(people):
    officer = people["officer"]
    response = officer.post(
        "/referrals/new",
        data=new_referral_form(
            officer,
            people["yjs"],
            **{"child-first_name": "", "child-dob-day": "31", "child-dob-month": "2", "reason": ""},
            consent_status="not_sought",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#child-first_name"' in page
    assert 'href="#child-dob-day"' in page
    assert "Date of birth must be a real date" in page
    assert 'value="Miller"' in page  # input kept
    assert re.search(r'value="county_lines"\s+checked', page)
    assert page.count("govuk-input--error") >= 1


def test_decline_needs_a_reason_on_the_page(people):
    officer, manager = people["officer"], people["manager"]
    path = officer.post("/referrals/new", data=new_referral_form(officer, people["yjs"])).location
    response = post_action(manager, path, "decline")
    assert response.status_code == 422
    assert "Enter the reason for declining the referral" in response.get_data(as_text=True)
    assert post_action(manager, path, "decline", reason="Out of area.").status_code == 302
    assert "Declined because" in officer.get(path).get_data(as_text=True)


def test_draft_then_submit_from_its_page(people):
    officer = people["officer"]
    path = officer.post(
        "/referrals/new", data=new_referral_form(officer, people["yjs"], intent="draft")
    ).location
    assert "Draft" in officer.get(path).get_data(as_text=True)
    assert people["manager"].get(path).status_code == 404
    assert post_action(officer, path, "submit").status_code == 302
    assert people["manager"].get(path).status_code == 200


def test_share_and_revoke_from_the_page(app, people):
    officer, manager, stranger = people["officer"], people["manager"], people["stranger"]
    path = officer.post("/referrals/new", data=new_referral_form(officer, people["yjs"])).location
    shared = manager.post(
        f"{path}/shares",
        data={
            "csrf_token": csrf_token(manager, path),
            "organisation_id": str(people["other_org"].id),
            "purpose": "Mentoring place",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_on": "2099-01-01",
        },
    )
    assert shared.status_code == 422  # more than a year ahead
    from datetime import date, timedelta

    shared = manager.post(
        f"{path}/shares",
        data={
            "csrf_token": csrf_token(manager, path),
            "organisation_id": str(people["other_org"].id),
            "purpose": "Mentoring place",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert shared.status_code == 302
    assert stranger.get(path).status_code == 200
    share_id = re.search(
        r"/shares/([0-9a-f-]{36})/revoke", manager.get(path).get_data(as_text=True)
    )
    revoke = manager.post(
        f"{path}/shares/{share_id.group(1)}/revoke", data={"csrf_token": csrf_token(manager, path)}
    )
    assert revoke.status_code == 302
    assert stranger.get(path).status_code == 404


def test_list_search_and_access_log_pages(people):
    officer, manager = people["officer"], people["manager"]
    path = officer.post("/referrals/new", data=new_referral_form(officer, people["yjs"])).location

    def search(client, term):
        return client.post(
            "/referrals",
            data={"csrf_token": csrf_token(client, "/referrals"), "q": term},
            follow_redirects=True,
        )

    listing = search(manager, "jayden").get_data(as_text=True)
    assert "Jayden" in listing
    assert "1 referral" in listing
    assert "Jayden" not in search(people["stranger"], "jayden").get_data(as_text=True)
    # Names stay out of URLs: a GET search is refused with the reason.
    in_url = manager.get("/referrals?q=jayden")
    assert in_url.status_code == 422
    assert "must not appear in" in in_url.get_data(as_text=True)
    bad = manager.get("/referrals?status=sleeping")
    assert bad.status_code == 422
    log = manager.get(f"{path}/access-log")
    assert log.status_code == 200
    assert "Create" in log.get_data(as_text=True)
    assert people["caseworker"].get(f"{path}/access-log").status_code == 403


def test_forms_without_csrf_are_refused(people):
    officer = people["officer"]
    form = new_referral_form(officer, people["yjs"])
    form.pop("csrf_token")
    assert officer.post("/referrals/new", data=form).status_code == 400
