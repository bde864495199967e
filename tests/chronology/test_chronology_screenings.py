"""Exploitation screenings in a child's chronology: the screening with the
level the tool indicated, then the practitioner's judgement (with the
reason when it differs), for every agency that holds the referral and for
no other; filtered by kind like the rest."""

from __future__ import annotations

from tests.chronology.test_chronology_api import HOLDS, entries
from tests.chronology.world import Child
from tests.screenings.conftest import answers, judge, screen


def screened(client, child: Child) -> str:
    """A screening of referral a (police -> youth justice) indicating high
    (a weapon found), judged medium by the receiving manager."""
    made = screen(
        client, child.world.officer, child.a["id"], answers=answers(("weapon_found",))
    ).json
    assert made["indicated_level"] == "high"
    judged = judge(
        client,
        child.world.yjs_manager,
        child.a["id"],
        made["id"],
        judgement_level="medium",
        judgement_reason="The knife was found at a friend's house and the child was not there.",
    )
    assert judged.status_code == 200, judged.json
    return str(made["id"])


def screening_events(client, child: Child, who: str, **query) -> list[dict]:
    return [
        entry
        for entry in entries(client, child, who, **query)
        if entry["kind"] in {"screening", "screening_judgement"}
    ]


def test_the_screening_and_the_judgement_appear_in_order(client, child):
    screening_id = screened(client, child)
    found = screening_events(client, child, "charity_manager")
    assert [entry["kind"] for entry in found] == ["screening", "screening_judgement"]
    first, second = found
    assert "high risk indicated" in first["summary"]
    assert second["summary"] == "Screening judgement: medium risk (the tool indicated high)"
    assert "friend's house" in second["detail"]
    assert first["agency"]["name"] == child.world.police.name
    assert second["agency"]["name"] == child.world.yjs.name
    assert {entry["referral"]["id"] for entry in found} == {child.a["id"]}
    assert screening_id


def test_only_the_agencies_holding_the_referral_see_it(client, child):
    screened(client, child)
    for who, held in HOLDS.items():
        found = screening_events(client, child, who)
        assert bool(found) == ("a" in held), who


def test_the_kind_filter_keeps_or_drops_screenings(client, child):
    screened(client, child)
    only = entries(client, child, "officer", kind="screening")
    assert [entry["kind"] for entry in only] == ["screening"]
    none = screening_events(client, child, "officer", kind="contact")
    assert none == []
