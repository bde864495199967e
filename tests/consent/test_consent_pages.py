"""Consent through the pages: the consent page (status, history, the form
with its error summary), the flag on a share on the referral pages of every
agency that holds it, and the decision page (radios for the decision and
the basis, a reason); the refusals in our words; the lawful bases the
referral form offers per agency kind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from referral_app.models import uk_today
from tests.actions.test_actions_pages import flash_after, send
from tests.blueprints.web.test_referral_detail_pages import sign_in
from tests.consent.conftest import decide, record, shares
from tests.page_errors import assert_plain_errors, text_of
from tests.referral_helpers import share_with


@pytest.fixture
def pages(app, world):
    names = ("officer", "yjs_manager", "caseworker", "charity_worker", "police_manager")
    return {name: sign_in(app, getattr(world, name).user) for name in names}


def told_on(day: date) -> dict[str, str]:
    return {
        "occurred_at-day": str(day.day),
        "occurred_at-month": str(day.month),
        "occurred_at-year": str(day.year),
    }


def test_the_referral_page_links_to_consent(referral, pages):
    html = pages["officer"].get(f"/referrals/{referral['id']}").get_data(as_text=True)
    assert f'href="/referrals/{referral["id"]}/consent"' in html


def test_the_consent_page_shows_the_status_and_the_history(client, world, referral, pages):
    rid = referral["id"]
    record(client, world.caseworker, rid, note="Mum rang the office.")
    html = pages["officer"].get(f"/referrals/{rid}/consent").get_data(as_text=True)
    text = text_of(html)
    assert "Consent now Consent withdrawn" in text
    history = text_of(html.split('id="consent-history"', 1)[1])
    withdrawn = history.index("What Consent withdrawn Who A parent or carer How By phone")
    given = history.index(
        "What Consent given by a parent or carer Who A parent or carer How Recorded on the referral"
    )
    assert withdrawn < given  # newest first
    assert "Note Mum rang the office." in history
    assert world.yjs.name in history
    assert 'action="/referrals/' + rid + '/consent"' in html


def test_the_family_withdraws_consent_through_the_form(client, world, referral, pages):
    rid = referral["id"]
    share_with(client, world, rid, world.charity)
    page = f"/referrals/{rid}/consent"
    sent = send(
        pages["officer"],
        page,
        page,
        status="withdrawn",
        given_by="child",
        method="in_person",
        note="Told me at the youth club.",
        **told_on(uk_today() - timedelta(days=1)),
    )
    assert flash_after(pages["officer"], sent) == (
        "Consent withdrawn: recorded. 1 share now needs a decision by the agency that granted it"
    )
    got = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.officer.headers).json
    assert got["changes"][-1]["given_by"] == "child"
    assert got["changes"][-1]["occurred_at"][:10] <= uk_today().isoformat()


def test_the_form_refuses_bad_input_in_our_words_and_changes_nothing(
    client, world, referral, pages
):
    rid = referral["id"]
    page = f"/referrals/{rid}/consent"
    empty = send(pages["officer"], page, page)
    assert empty.status_code == 422
    assert_plain_errors(
        empty.get_data(as_text=True),
        "Select what the family said",
        "Select how they told you",
        "Enter the date they told you",
    )
    nobody = send(
        pages["officer"], page, page, status="withdrawn", method="phone", **told_on(uk_today())
    )
    assert nobody.status_code == 422
    assert_plain_errors(nobody.get_data(as_text=True), "Select who refused or withdrew consent")
    future = send(
        pages["officer"],
        page,
        page,
        status="withdrawn",
        given_by="child",
        method="phone",
        **told_on(uk_today() + timedelta(days=3)),
    )
    assert future.status_code == 422
    assert_plain_errors(
        future.get_data(as_text=True), "Date they told you must be today or in the past"
    )
    not_real = send(
        pages["officer"],
        page,
        page,
        status="refused",
        given_by="child",
        method="phone",
        **{"occurred_at-day": "31", "occurred_at-month": "2", "occurred_at-year": "2026"},
    )
    assert_plain_errors(not_real.get_data(as_text=True), "Date they told you must be a real date")
    got = client.get(f"/api/v1/referrals/{rid}/consent", headers=world.officer.headers).json
    assert len(got["changes"]) == 1


def test_a_shared_agency_sees_the_history_without_the_form(client, world, referral, pages):
    rid = referral["id"]
    share_with(client, world, rid, world.charity)
    html = pages["charity_worker"].get(f"/referrals/{rid}/consent").get_data(as_text=True)
    assert "Record a change in consent" not in html
    assert "Staff of the referring or receiving agency record changes" in text_of(html)


def test_the_flag_shows_to_every_agency_that_holds_the_share(client, world, referral, pages):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    before = pages["yjs_manager"].get(f"/referrals/{rid}").get_data(as_text=True)
    assert "decision needed" not in before
    record(client, world.officer, rid)
    for who in ("yjs_manager", "officer", "charity_worker"):
        html = pages[who].get(f"/referrals/{rid}").get_data(as_text=True)
        assert "Consent withdrawn: decision needed" in text_of(html), who
        assert f'data-consent-flag="{grant["id"]}"' in html
    consent_page = pages["yjs_manager"].get(f"/referrals/{rid}/consent").get_data(as_text=True)
    assert f"/shares/{grant['id']}/consent-decision" in consent_page
    # Only the granting agency's managers are offered the decision.
    officers = pages["officer"].get(f"/referrals/{rid}/consent").get_data(as_text=True)
    assert f"/shares/{grant['id']}/consent-decision" not in officers
    assert "Consent withdrawn: decision needed" in text_of(officers)


def test_the_manager_revokes_through_the_decision_page(client, world, referral, pages):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    page = f"/referrals/{rid}/shares/{grant['id']}/consent-decision"
    html = pages["yjs_manager"].get(page).get_data(as_text=True)
    assert f"keep sharing with {world.charity.name}?" in html
    # The bases offered: never consent; law enforcement to youth justice.
    assert 'value="consent"' not in html
    assert 'value="law_enforcement"' in html
    sent = send(pages["yjs_manager"], page, page, decision="revoke", reason="Mum said no.")
    assert flash_after(pages["yjs_manager"], sent) == f"Share with {world.charity.name} revoked"
    assert shares(client, world.yjs_manager, rid)[grant["id"]]["revoked_at"] is not None
    after = pages["yjs_manager"].get(f"/referrals/{rid}").get_data(as_text=True)
    assert f'data-consent-decision="{grant["id"]}"' in after
    assert pages["yjs_manager"].get(page).status_code == 409


def test_the_manager_keeps_sharing_on_another_basis(client, world, referral, pages):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    record(client, world.officer, rid)
    page = f"/referrals/{rid}/shares/{grant['id']}/consent-decision"
    empty = send(pages["yjs_manager"], page, page)
    assert empty.status_code == 422
    assert_plain_errors(
        empty.get_data(as_text=True),
        "Select whether to keep sharing or revoke the share",
        "Enter the reason for your decision",
    )
    no_basis = send(pages["yjs_manager"], page, page, decision="continue", reason="At risk.")
    assert_plain_errors(
        no_basis.get_data(as_text=True), "Select the lawful basis for sharing without consent"
    )
    sent = send(
        pages["yjs_manager"],
        page,
        page,
        decision="continue",
        lawful_basis="vital_interests",
        reason="He went missing again.",
    )
    assert flash_after(pages["yjs_manager"], sent) == (
        f"Decision recorded: sharing with {world.charity.name} continues"
    )
    html = pages["charity_worker"].get(f"/referrals/{rid}").get_data(as_text=True)
    assert "decision needed" not in html
    assert "kept sharing without consent, on vital interests" in text_of(html)


def test_the_decision_page_refuses_others(client, world, referral, pages):
    rid = referral["id"]
    grant = share_with(client, world, rid, world.charity)
    page = f"/referrals/{rid}/shares/{grant['id']}/consent-decision"
    assert pages["yjs_manager"].get(page).status_code == 409  # nothing to decide yet
    record(client, world.officer, rid)
    assert pages["police_manager"].get(page).status_code == 403
    assert pages["caseworker"].get(page).status_code == 403
    assert (
        decide(
            client, world.yjs_manager, rid, grant["id"], decision="revoke", reason="x"
        ).status_code
        == 200
    )


def test_the_referral_form_offers_law_enforcement_only_to_police_and_youth_justice(app, world):
    police = sign_in(app, world.officer.user).get("/referrals/new").get_data(as_text=True)
    council = sign_in(app, world.stranger.user).get("/referrals/new").get_data(as_text=True)
    assert 'value="law_enforcement"' in police
    assert 'value="law_enforcement_safeguarding"' in police
    assert "Data Protection Act 2018 Part 3" in police
    assert 'value="law_enforcement"' not in council
    assert 'value="law_enforcement_safeguarding"' not in council
    assert 'value="safeguarding_children"' in council
    assert "Schedule 1 paragraph 18" in council
    # Withdrawal is recorded in the history, never typed on the referral.
    assert 'name="consent_status" type="radio" value="withdrawn"' not in police
    assert 'value="withdrawn"' not in police
