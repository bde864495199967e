"""Making and editing a referral through the pages (Flask test client): the
new form and the edit page sent empty and with bad answers say what is wrong
in plain words, once a field, in one round; a draft is completed and
submitted; a stale edit, another agency's draft and a referral past editing
are refused. The same journeys run in Chromium in tests/browser."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta

import pytest

from blueprints.web.forms import is_framework_message
from referral_app.extensions import db
from referral_app.models import OrganisationKind, Referral, ReferralStatus, Role
from tests.blueprints.web.test_referral_pages import sign_in
from tests.children.conftest import events
from tests.factories import bearer, token_for

HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|form_token|version)" value="([^"]*)"')
SUMMARY = re.compile(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', re.S)
LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)
BESIDE = re.compile(r'<p [^>]*class="govuk-error-message[^"]*"[^>]*>(.*?)</p>', re.S)

EVERY_ANSWER_MISSING = [
    "Enter the child's first name",
    "Enter the child's last name",
    "Enter the child's date of birth",
    "Select the agency to refer to",
    "Enter the reason for referral",
    "Select a risk level",
    "Select whether consent was obtained",
    "Select the lawful basis for sharing",
]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def shown_errors(page: str, *about_the_form: str) -> list[tuple[str, str]]:
    """(message, link) of each line of the error summary, in order, after
    checking each is a message of ours, shown once in the summary and once
    beside its field (except those `about_the_form`, which have no field)."""
    found = SUMMARY.search(page)
    assert found, "no error summary on the page"
    summary = [(_text(text), href) for href, text in LINK.findall(found.group(1))]
    beside = [_text(message).removeprefix("Error:").strip() for message in BESIDE.findall(page)]
    messages = [message for message, _ in summary]
    for message in messages + beside:
        assert not is_framework_message(message), f"a framework message: {message!r}"
    for message in messages:
        assert messages.count(message) == 1, f"{message!r} twice in the summary"
        expected = 0 if message in about_the_form else 1
        assert beside.count(message) == expected, f"{message!r} beside its field: {beside}"
    return summary


def messages(page: str, *about_the_form: str) -> list[str]:
    return [message for message, _ in shown_errors(page, *about_the_form)]


def form_of(client, path: str) -> dict[str, str]:
    """The hidden fields of the page's form (CSRF, one-time token, version)."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return dict(HIDDEN.findall(page.get_data(as_text=True)))


@pytest.fixture
def people(app, factory, client):
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    officer = factory.user(Role.REFERRER, organisation=police)
    yjs_manager = factory.user(Role.MANAGER, organisation=yjs)
    return {
        "police": police,
        "yjs": yjs,
        "officer": sign_in(app, officer),
        "colleague": sign_in(app, factory.user(Role.REFERRER, organisation=police)),
        "yjs manager": sign_in(app, yjs_manager),
        "stranger": sign_in(app, factory.user(Role.MANAGER, organisation=charity)),
        "api": {
            "officer": bearer(token_for(client, officer)),
            "yjs manager": bearer(token_for(client, yjs_manager)),
        },
    }


def child_answers(**overrides: str) -> dict[str, str]:
    answers = {
        "child-first_name": "Jayden",
        "child-last_name": "Miller",
        "child-dob-day": "14",
        "child-dob-month": "3",
        "child-dob-year": "2011",
    }
    answers.update(overrides)
    return answers


def referral_answers(yjs, **overrides: object) -> dict[str, object]:
    answers: dict[str, object] = {
        "receiving_organisation_id": str(yjs.id),
        "reason": "Found with cash and two phones at Southend station.",
        "risk_level": "high",
        "risk_factors": ["county_lines", "criminal_exploitation"],
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
    }
    answers.update(overrides)
    return answers


def make_draft(people, **answers: object) -> str:
    """A draft made on the new form with only these answers (about a new
    record of the child: no likely-match step); its path."""
    officer = people["officer"]
    sent = officer.post(
        "/referrals/new",
        data={
            **form_of(officer, "/referrals/new"),
            **child_answers(),
            **answers,
            "child_choice": "new",
            "intent": "draft",
        },
    )
    assert sent.status_code == 302, messages(sent.get_data(as_text=True))
    return sent.location


def saved(app, path: str) -> Referral:
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(path.rsplit("/", 1)[1]))
        assert referral is not None
        db.session.expunge(referral)
        return referral


# --- The new form -------------------------------------------------------------


def test_the_new_form_sent_empty_asks_for_every_answer_in_one_round(people):
    officer = people["officer"]
    sent = officer.post(
        "/referrals/new", data={**form_of(officer, "/referrals/new"), "intent": "submit"}
    )
    assert sent.status_code == 422
    page = sent.get_data(as_text=True)
    assert shown_errors(page) == [
        ("Enter the child's first name", "#child-first_name"),
        ("Enter the child's last name", "#child-last_name"),
        ("Enter the child's date of birth", "#child-dob-day"),
        ("Select the agency to refer to", "#receiving_organisation_id"),
        ("Enter the reason for referral", "#reason"),
        ("Select a risk level", "#risk_level"),
        ("Select whether consent was obtained", "#consent_status"),
        ("Select the lawful basis for sharing", "#lawful_basis"),
    ]
    # Each link leads to an input of that id on the page.
    for _, href in shown_errors(page):
        assert f'id="{href[1:]}"' in page
    assert "<title>Error: Make a referral" in page


def test_a_draft_needs_only_the_child_and_the_agency(people):
    officer = people["officer"]
    sent = officer.post(
        "/referrals/new", data={**form_of(officer, "/referrals/new"), "intent": "draft"}
    )
    assert sent.status_code == 422
    assert messages(sent.get_data(as_text=True)) == EVERY_ANSWER_MISSING[:4]


def test_bad_answers_are_all_reported_together_in_plain_words(people):
    officer = people["officer"]
    data = {
        **form_of(officer, "/referrals/new"),
        **child_answers(
            **{"child-first_name": "J" * 101, "child-dob-day": "31", "child-dob-month": "2"}
        ),
        "child-postcode": "nowhere",
        **referral_answers(
            people["yjs"],
            receiving_organisation_id=str(uuid.uuid4()),
            reason="x" * 5001,
            risk_level="",
            consent_status="not_sought",
        ),
        "intent": "submit",
    }
    sent = officer.post("/referrals/new", data=data)
    assert sent.status_code == 422
    assert messages(sent.get_data(as_text=True)) == [
        "First name must be 100 characters or less",
        "Date of birth must be a real date",
        "Enter a real postcode",
        "Select the agency to refer to",
        "Reason for referral must be 5,000 characters or less",
        "Select a risk level",
        "Say why consent was not sought",
    ]


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "in_error"),
    [
        ("", "", "", "Enter the child's date of birth", []),
        ("14", "", "2011", "Date of birth must include a day, month and year", ["month"]),
        ("", "", "2011", "Date of birth must include a day, month and year", ["day", "month"]),
        ("31", "2", "2011", "Date of birth must be a real date", ["day", "month", "year"]),
        ("1x", "3", "2011", "Date of birth must be a real date", ["day", "month", "year"]),
        ("14", "3", "11", "Year must include 4 numbers", ["year"]),
        ("9" * 20, "3", "2011", "Date of birth must be a real date", ["day", "month", "year"]),
        ("tomorrow", None, None, "Date of birth must be in the past", ["day", "month", "year"]),
        ("30 years ago", None, None, "The child must be under 25", ["day", "month", "year"]),
    ],
)
def test_date_of_birth_messages(people, day, month, year, message, in_error):
    if day == "tomorrow":
        when = date.today() + timedelta(days=1)
        day, month, year = str(when.day), str(when.month), str(when.year)
    elif day == "30 years ago":
        day, month, year = "1", "1", str(date.today().year - 30)
    officer = people["officer"]
    data = {
        **form_of(officer, "/referrals/new"),
        **child_answers(**{"child-dob-day": day, "child-dob-month": month, "child-dob-year": year}),
        **referral_answers(people["yjs"]),
        "intent": "submit",
    }
    sent = officer.post("/referrals/new", data=data)
    assert sent.status_code == 422
    page = sent.get_data(as_text=True)
    assert shown_errors(page) == [(message, "#child-dob-day")]
    marked = re.findall(
        r'class="govuk-input govuk-date-input__input [^"]*govuk-input--error" id="child-dob-(\w+)"',
        page,
    )
    assert marked == (in_error or ["day", "month", "year"])
    assert f'value="{year}"' in page if year else True  # the answers are kept


def test_choices_not_on_the_page_are_refused_in_plain_words(people):
    officer = people["officer"]
    data = {
        **form_of(officer, "/referrals/new"),
        **child_answers(),
        **referral_answers(
            people["yjs"],
            receiving_organisation_id="not-an-id",
            risk_level="severe",
            risk_factors=["county_lines", "juggling"],
            consent_status="maybe",
            lawful_basis="whim",
        ),
        "intent": "draft",
    }
    sent = officer.post("/referrals/new", data=data)
    assert sent.status_code == 422
    assert messages(sent.get_data(as_text=True)) == [
        "Select the agency to refer to",
        "Select a risk level",
        "Select risk factors from the list",
        "Select whether consent was obtained",
        "Select the lawful basis for sharing",
    ]


def test_an_agency_that_is_not_offered_cannot_be_chosen(people):
    """The user's own agency, and one that does not exist, are not on the list."""
    officer = people["officer"]
    for agency in (people["police"].id, uuid.uuid4()):
        data = {
            **form_of(officer, "/referrals/new"),
            **child_answers(),
            **referral_answers(people["yjs"], receiving_organisation_id=str(agency)),
            "intent": "submit",
        }
        sent = officer.post("/referrals/new", data=data)
        assert sent.status_code == 422
        assert messages(sent.get_data(as_text=True)) == ["Select the agency to refer to"]


def test_the_new_form_is_built_from_the_design_system(people):
    page = people["officer"].get("/referrals/new").get_data(as_text=True)
    # The reason and the consent notes count up to the schema's limits.
    assert re.search(r'data-module="govuk-character-count" data-maxlength="5000"', page)
    assert re.search(r'data-module="govuk-character-count" data-maxlength="2000"', page)
    assert page.index('name="consent_status"') < page.index('id="consent_notes"')
    assert page.count('data-prevent-double-click="true"') == 2
    assert 'name="form_token"' in page
    assert "style=" not in page


def test_consent_notes_are_needed_when_consent_was_not_sought(app, people):
    path = make_draft(
        people,
        **referral_answers(people["yjs"], consent_status="refused", consent_notes="By phone"),
    )
    assert saved(app, path).consent_notes == "By phone"  # kept with any answer
    path = make_draft(
        people,
        **referral_answers(people["yjs"], consent_status="not_sought", consent_notes="At risk"),
    )
    assert saved(app, path).consent_notes == "At risk"
    # Emptied on the edit page while "Not sought" stands: refused.
    officer = people["officer"]
    data = {
        **form_of(officer, f"{path}/edit"),
        **referral_answers(people["yjs"], consent_status="not_sought", consent_notes=""),
        "intent": "draft",
    }
    sent = officer.post(f"{path}/edit", data=data)
    assert sent.status_code == 422
    assert messages(sent.get_data(as_text=True)) == ["Say why consent was not sought"]
    assert saved(app, path).consent_notes == "At risk"


def test_the_same_form_sent_twice_makes_one_referral(app, people):
    officer = people["officer"]
    data = {
        **form_of(officer, "/referrals/new"),
        **child_answers(),
        **referral_answers(people["yjs"]),
        "intent": "submit",
    }
    first = officer.post("/referrals/new", data=data)
    second = officer.post("/referrals/new", data=data)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    with app.app_context():
        assert db.session.query(Referral).count() == 1


def test_when_matching_is_used_up_the_answers_wait_on_the_page(app, people, monkeypatch):
    """Looking for the child's records first is part of making a referral:
    past the user's matching allowance the form says so and keeps the answers."""
    from referral_app import throttling

    monkeypatch.setattr(throttling, "take_match_allowance", lambda _user_id: False)
    officer = people["officer"]
    data = {
        **form_of(officer, "/referrals/new"),
        **child_answers(),
        **referral_answers(people["yjs"]),
        "intent": "submit",
    }
    sent = officer.post("/referrals/new", data=data)
    assert sent.status_code == 429
    page = sent.get_data(as_text=True)
    throttled = (
        "You have searched for children's records too many times in a short while. Try again later"
    )
    assert shown_errors(page, throttled) == [(throttled, "#main-content")]
    assert 'value="Jayden"' in page
    with app.app_context():
        assert db.session.query(Referral).count() == 0


# --- Editing and submitting a draft -----------------------------------------


def test_a_draft_is_completed_on_the_edit_page_and_submitted(app, people):
    path = make_draft(people, receiving_organisation_id=str(people["yjs"].id))
    officer = people["officer"]
    page = officer.get(f"{path}/edit").get_data(as_text=True)
    assert "Edit draft referral" in page
    assert f'href="/children/{saved(app, path).child_id}"' in page  # the child's details live there
    assert 'name="child-first_name"' not in page

    # "Submit referral" with answers missing: all of them, on this page.
    tokens = dict(HIDDEN.findall(page))
    data = {**tokens, "receiving_organisation_id": str(people["yjs"].id), "risk_level": "medium"}
    sent = officer.post(f"{path}/edit", data={**data, "intent": "submit"})
    assert sent.status_code == 422
    assert shown_errors(sent.get_data(as_text=True)) == [
        ("Enter the reason for referral", "#reason"),
        ("Select whether consent was obtained", "#consent_status"),
        ("Select the lawful basis for sharing", "#lawful_basis"),
    ]
    assert re.search(r'value="medium" checked', sent.get_data(as_text=True))  # kept
    assert saved(app, path).risk_level is None  # nothing saved

    tokens = dict(HIDDEN.findall(sent.get_data(as_text=True)))
    answers = referral_answers(people["yjs"], risk_factors=["county_lines"])
    done = officer.post(f"{path}/edit", data={**tokens, **answers, "intent": "submit"})
    assert done.status_code == 302
    assert done.location == path
    referral = saved(app, path)
    assert referral.status is ReferralStatus.SUBMITTED
    assert referral.risk_factors == ["county_lines"]
    assert "submitted" in officer.get(path).get_data(as_text=True)
    assert people["yjs manager"].get(path).status_code == 200


def test_saving_a_draft_keeps_it_a_draft_and_can_clear_an_answer(app, people):
    path = make_draft(people, **referral_answers(people["yjs"]))
    officer = people["officer"]
    tokens = form_of(officer, f"{path}/edit")
    answers = referral_answers(people["yjs"], reason="", risk_factors=[])
    sent = officer.post(f"{path}/edit", data={**tokens, **answers, "intent": "draft"})
    assert sent.status_code == 302
    referral = saved(app, path)
    assert referral.status is ReferralStatus.DRAFT
    assert (referral.reason, referral.risk_factors) == (None, [])
    assert [event.fields for event in events(app, "referral.update")] == [
        ["reason", "risk_factors"]
    ]


def test_the_edit_page_refuses_bad_answers_like_the_new_form(app, people):
    path = make_draft(people, **referral_answers(people["yjs"]))
    officer = people["officer"]
    reads = len(events(app, "referral.read"))
    data = {
        **form_of(officer, f"{path}/edit"),
        **referral_answers(
            people["yjs"],
            receiving_organisation_id=str(uuid.uuid4()),
            reason="x" * 5001,
            risk_level="severe",
            consent_status="not_sought",
        ),
        "intent": "draft",
    }
    sent = officer.post(f"{path}/edit", data=data)
    assert sent.status_code == 422
    assert messages(sent.get_data(as_text=True)) == [
        "Select the agency to refer to",
        "Reason for referral must be 5,000 characters or less",
        "Select a risk level",
        "Say why consent was not sought",
    ]
    assert saved(app, path).reason == "Found with cash and two phones at Southend station."
    # The refused page showed the referral again: both reads are in the trail.
    assert len(events(app, "referral.read")) == reads + 2

    data = {**dict(HIDDEN.findall(sent.get_data(as_text=True))), "intent": "draft"}
    blank = officer.post(f"{path}/edit", data=data)
    assert blank.status_code == 422
    assert messages(blank.get_data(as_text=True)) == ["Select the agency to refer to"]


def test_submitting_an_incomplete_draft_shows_what_is_missing_on_the_edit_page(app, people):
    path = make_draft(people, receiving_organisation_id=str(people["yjs"].id), risk_level="low")
    officer = people["officer"]
    sent = officer.post(f"{path}/submit", data=form_of(officer, path))
    assert sent.status_code == 422
    page = sent.get_data(as_text=True)
    edit = f"{path}/edit"
    assert shown_errors(page) == [
        ("Enter the reason for referral", f"{edit}#reason"),
        ("Select whether consent was obtained", f"{edit}#consent_status"),
        ("Select the lawful basis for sharing", f"{edit}#lawful_basis"),
    ]
    assert f'action="{edit}"' in page  # the edit form, to complete it here
    assert 'value="low" checked' in page
    assert saved(app, path).status is ReferralStatus.DRAFT

    complete = make_draft(people, **referral_answers(people["yjs"]))
    sent = officer.post(f"{complete}/submit", data=form_of(officer, complete))
    assert sent.status_code == 302
    assert saved(app, complete).status is ReferralStatus.SUBMITTED


def test_a_stale_edit_is_refused_and_nothing_is_overwritten(app, people):
    path = make_draft(people, **referral_answers(people["yjs"]))
    officer, colleague = people["officer"], people["colleague"]
    opened = form_of(officer, f"{path}/edit")
    theirs = form_of(colleague, f"{path}/edit")
    answers = referral_answers(people["yjs"], reason="Seen again on Friday night.")
    assert colleague.post(f"{path}/edit", data={**theirs, **answers}).status_code == 302

    mine = referral_answers(people["yjs"], reason="My older words.")
    stale = officer.post(f"{path}/edit", data={**opened, **mine, "intent": "draft"})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    stale_message = (
        "Someone else changed this referral since you opened it. Check the details and save again"
    )
    assert shown_errors(page, stale_message) == [(stale_message, "#saved-now")]
    assert 'id="saved-now"' in page
    assert "Seen again on Friday night." in page  # what is saved now, to compare
    assert "My older words." in page  # and what this user typed, kept
    assert saved(app, path).reason == "Seen again on Friday night."

    again = dict(HIDDEN.findall(page))
    assert again["version"] != opened["version"]
    saved_again = officer.post(f"{path}/edit", data={**again, **mine, "intent": "draft"})
    assert saved_again.status_code == 302
    assert saved(app, path).reason == "My older words."


def test_another_agencys_draft_does_not_exist_here(people):
    path = make_draft(people, **referral_answers(people["yjs"]))
    officer = people["officer"]
    tokens = form_of(officer, f"{path}/edit")
    for who in ("stranger", "yjs manager"):  # the receiving agency sees no draft
        client = people[who]
        assert client.get(f"{path}/edit").status_code == 404
        sent = client.post(f"{path}/edit", data={**tokens, **referral_answers(people["yjs"])})
        assert sent.status_code in (400, 404)  # their CSRF token is not this one
        own = {"csrf_token": form_of(client, "/referrals/new")["csrf_token"]}
        assert client.post(f"{path}/edit", data={**own, "version": "1"}).status_code == 404
        assert client.post(f"{path}/submit", data=own).status_code == 404


def test_past_a_draft_only_what_the_service_allows_can_change(app, people, client):
    path = make_draft(people, **referral_answers(people["yjs"]))
    referral_id = path.rsplit("/", 1)[1]
    officer, manager, api = people["officer"], people["yjs manager"], people["api"]

    def act(who: str, action: str, **more: str) -> None:
        answer = client.post(
            f"/api/v1/referrals/{referral_id}/transitions",
            json={"action": action, **more},
            headers=api[who],
        )
        assert answer.status_code == 200, answer.json

    act("officer", "submit")
    # Submitted: the referrer may still change the referral, not its agency,
    # and may not empty what submitting needed.
    page = officer.get(f"{path}/edit").get_data(as_text=True)
    assert "Change the referral" in page
    assert 'name="receiving_organisation_id"' not in page
    assert 'value="save" name="intent"' in page
    data = {**dict(HIDDEN.findall(page)), **referral_answers(people["yjs"], reason="")}
    data.pop("receiving_organisation_id")
    refused = officer.post(f"{path}/edit", data=data)
    assert refused.status_code == 422
    assert messages(refused.get_data(as_text=True)) == ["Enter the reason for referral"]
    # The receiving agency cannot change it before it is accepted...
    assert manager.get(f"{path}/edit").status_code == 403
    act("yjs manager", "accept")
    # ...and then only the risk assessment.
    page = manager.get(f"{path}/edit").get_data(as_text=True)
    assert 'name="risk_level"' in page
    assert 'name="reason"' not in page
    data = {**dict(HIDDEN.findall(page)), "risk_level": "low", "reason": "Overwritten?"}
    assert manager.post(f"{path}/edit", data=data).status_code == 302
    referral = saved(app, path)
    assert (referral.risk_level, referral.reason) == (
        "low",
        "Found with cash and two phones at Southend station.",
    )
    assert officer.get(f"{path}/edit").status_code == 403  # triaged: no longer the referrer's

    act("yjs manager", "assign", assignee_id=str(saved_manager_id(app, referral)))
    act("yjs manager", "close", outcome="no_further_action", outcome_summary="Done.")
    tokens = form_of(manager, path)
    closed = manager.get(f"{path}/edit")
    assert closed.status_code == 409
    assert "cannot be changed" in closed.get_data(as_text=True)
    assert manager.post(f"{path}/edit", data={**tokens, "version": "9"}).status_code == 409
    # Submitting is the referring agency's: refused to the manager, and a
    # closed referral is not a draft.
    assert manager.post(f"{path}/submit", data=tokens).status_code == 403
    assert officer.post(f"{path}/submit", data=form_of(officer, path)).status_code == 409


def saved_manager_id(app, referral: Referral) -> uuid.UUID:
    with app.app_context():
        from referral_app.models import User

        return db.session.scalars(
            db.select(User.id).where(User.organisation_id == referral.receiving_organisation_id)
        ).one()
