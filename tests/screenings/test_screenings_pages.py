"""Screenings through the pages: the referrer completes the tool (one
question a radio group, grouped by theme, evidence for each yes), the
result page shows the indicated level and why, the receiving manager
records a different judgement with a reason, and the list shows the
latest level and the changes over time. Every message is ours; another
agency's screening is a 404."""

from __future__ import annotations

import re

import pytest

from referral_app import screening_tools
from tests.actions.test_actions_pages import flash_after, send
from tests.blueprints.web.test_form_messages import assert_plain
from tests.blueprints.web.test_referral_detail_pages import sign_in
from tests.page_errors import assert_plain_errors, tables, text_of
from tests.referral_helpers import create
from tests.screenings.conftest import answers, judge, screen


@pytest.fixture
def pages(app, world):
    names = ("officer", "yjs_manager", "caseworker", "stranger_manager")
    return {name: sign_in(app, getattr(world, name).user) for name in names}


@pytest.fixture
def made(client, world, referral) -> str:
    """A screening of the referral by the officer (who may judge it, as its author)."""
    return str(screen(client, world.officer, referral["id"]).json["id"])


def form_answers(yes: tuple[str, ...] = ()) -> dict[str, str]:
    fields: dict[str, str] = {}
    for indicator_id, given in answers(yes).items():
        fields[f"answer-{indicator_id}"] = given["answer"]
        if given.get("evidence"):
            fields[f"evidence-{indicator_id}"] = given["evidence"]
    return fields


def test_the_referral_page_links_to_its_screenings(referral, pages):
    html = pages["officer"].get(f"/referrals/{referral['id']}").get_data(as_text=True)
    assert f'href="/referrals/{referral["id"]}/screenings"' in html


def test_the_form_asks_every_indicator_grouped_by_theme(referral, pages):
    path = f"/referrals/{referral['id']}/screenings/new"
    html = pages["officer"].get(path).get_data(as_text=True)
    tool = screening_tools.current()
    for theme in tool.themes:
        assert f'<h2 class="govuk-heading-m">{theme.title}</h2>' in html
    for indicator in tool.indicators:
        assert f'name="answer-{indicator.id}"' in html
        assert f'name="evidence-{indicator.id}"' in html
        assert html.count(f'name="answer-{indicator.id}"') == 3  # Yes, No, Not known
    assert "Not known" in html


def test_the_referrer_completes_and_the_receiving_manager_judges_differently(
    world, referral, pages
):
    rid = referral["id"]
    new = f"/referrals/{rid}/screenings/new"
    sent = send(pages["officer"], new, new, **form_answers(("missing_overnight",)))
    assert flash_after(pages["officer"], sent) == (
        "Screening completed: the tool indicates medium risk"
    )
    result = sent.location
    assert re.fullmatch(rf"/referrals/{rid}/screenings/[0-9a-f-]{{36}}", result)

    html = pages["yjs_manager"].get(result).get_data(as_text=True)
    shown = text_of(html)
    assert "Indicated level Medium" in shown
    assert "Raised: Has been missing overnight: at least medium." in shown
    assert "Seen: missing_overnight." in shown
    judgement = result + "/judgement"
    refused = send(pages["yjs_manager"], result, judgement, judgement_level="high")
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True), "Enter why your judgement differs from the indicated level"
    )
    done = send(
        pages["yjs_manager"],
        result,
        judgement,
        judgement_level="high",
        judgement_reason="Found with older males at the station.",
    )
    assert flash_after(pages["yjs_manager"], done) == "Judgement recorded"
    after = text_of(pages["officer"].get(result).get_data(as_text=True))
    assert "Practitioner's judgement High" in after
    assert "Found with older males at the station." in after


def test_the_form_says_in_words_what_is_missing(referral, pages):
    path = f"/referrals/{referral['id']}/screenings/new"
    fields = form_answers()
    del fields["answer-debt"]
    fields["answer-weapon_found"] = "yes"
    fields["answer-excluded"] = "perhaps"
    refused = send(pages["officer"], path, path, **fields)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert_plain(path, html)
    assert_plain_errors(
        html,
        "Select yes, no or not known for: says they owe money or a debt to someone",
        "Enter what you saw or were told for: has been found with a weapon",
        "Select yes, no or not known for: has been excluded from school, or moved to "
        "alternative provision",
    )
    # What was answered stays answered.
    assert re.search(r'name="answer-drugs_found" type="radio" value="no" checked', html)


def test_a_judgement_without_a_level_is_our_message(world, referral, pages, made):
    path = f"/referrals/{referral['id']}/screenings/{made}"
    refused = send(pages["yjs_manager"], path, path + "/judgement")
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True), "Select your judgement of the level of risk"
    )


def test_only_those_who_may_judge_see_the_form(world, referral, pages, made):
    path = f"/referrals/{referral['id']}/screenings/{made}"
    action = f'action="{path}/judgement"'
    assert action in pages["yjs_manager"].get(path).get_data(as_text=True)
    assert action in pages["officer"].get(path).get_data(as_text=True)  # completed it
    caseworker = pages["caseworker"].get(path).get_data(as_text=True)
    assert action not in caseworker
    assert "A manager of the receiving agency" in text_of(caseworker)


def test_the_list_shows_the_latest_level_and_the_changes_over_time(client, world, referral, pages):
    rid = referral["id"]
    first = screen(client, world.officer, rid).json
    second = screen(client, world.officer, rid, answers=answers(("weapon_found",))).json
    judge(
        client,
        world.yjs_manager,
        rid,
        second["id"],
        judgement_level="medium",
        judgement_reason="The knife was a craft knife for school.",
    )
    html = pages["caseworker"].get(f"/referrals/{rid}/screenings").get_data(as_text=True)
    assert "Level Medium" in text_of(html)
    history = next(table for table in tables(html) if table["rows"][0][0] == "Completed")
    by = first["completed_by"]["full_name"] + ", " + world.police.name
    assert [row[1:] for row in history["rows"][1:]] == [
        [by, "High", "Medium", "Medium", "Raised from low"],
        [by, "Low", "Not recorded", "Low", "First screening"],
    ]
    assert f'href="/referrals/{rid}/screenings/{first["id"]}"' in html


def test_a_draft_offers_no_screening(client, world, pages):
    draft = create(client, world.officer, world.yjs)
    html = pages["officer"].get(f"/referrals/{draft['id']}/screenings/new").get_data(as_text=True)
    assert "A draft has no screenings yet: submit the referral first." in text_of(html)
    assert 'name="answer-debt"' not in html


def test_another_agencys_screening_pages_are_404(world, referral, pages, made):
    rid = referral["id"]
    outsider = pages["stranger_manager"]
    for path in (
        f"/referrals/{rid}/screenings",
        f"/referrals/{rid}/screenings/new",
        f"/referrals/{rid}/screenings/{made}",
    ):
        assert outsider.get(path).status_code == 404, path
