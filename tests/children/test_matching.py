"""Finding the same child: POST /api/v1/children/matches."""

from __future__ import annotations

import pytest

from referral_app.services.child_likeness import LIKELY_SCORE, ChildDetails, score
from tests.children.conftest import child, events, refer

MATCHES = "/api/v1/children/matches"


def details(first: str, last: str, dob: str, postcode: str | None = None, *aliases: str):
    from datetime import date

    return ChildDetails(first, last, date.fromisoformat(dob), postcode, tuple(aliases))


SEARCHED = details("Jayden", "Miller", "2011-03-14", "SS1 2AA")


@pytest.mark.parametrize(
    ("held", "reason"),
    [
        (details("Jayden", "Miller", "2011-03-14", "SS1 2AA"), "first_name_same"),
        (details("Jaydn", "Miller", "2011-03-14"), "first_name_similar"),
        (details("Jayden", "Millar", "2011-03-14"), "last_name_similar"),
        (details("Miller", "Jayden", "2011-03-14"), "names_transposed"),
        (details("Jay", "Miller", "2011-03-14"), "first_name_nickname"),
        (details("Jayden", "Miller", "2011-03-14", "SS1 2AA"), "date_of_birth_same"),
        (details("Jayden", "Miller", "2010-03-14"), "date_of_birth_close"),
        (details("JJ", "Miller", "2011-03-14", None, "Jayden"), "first_name_alias"),
        (details("Jaydon", "Mylar", "2011-03-14", "SS1 2AA"), "last_name_sounds_alike"),
        (details("Jayden", "Miller-Okafor", "2011-03-14"), "last_name_part"),
        (details("jayden", "MILLER", "2011-03-14", "SS1 9ZZ"), "postcode_same_area"),
    ],
)
def test_likely_the_same_child(held, reason):
    result = score(SEARCHED, held)
    assert result.score >= LIKELY_SCORE
    assert reason in result.reasons


@pytest.mark.parametrize(
    ("searched", "held", "reason"),
    [
        (
            details("Thomas", "Okafor", "2012-05-09"),
            details("Tom", "Okafor", "2012-09-05"),
            "date_of_birth_day_month_swapped",
        ),
        (details("Mohammed", "Ali", "2010-07-01"), details("Muhammad", "Ali", "2010-07-01"), ""),
        (details("Katherine", "Ng", "2010-07-01"), details("Kate", "Ng", "2010-07-01"), ""),
        (details("Izzy", "Brown", "2013-02-02"), details("Isabella", "Brown", "2013-02-02"), ""),
        (details("Bill", "Evans", "2009-11-30"), details("William", "Evens", "2009-11-30"), ""),
        (details("Sam", "Patel", "2012-01-20"), details("Samantha", "Patel", "2012-01-20"), ""),
        (details("Alex", "Ward", "2012-01-20"), details("Ward", "Alexander", "2012-01-20"), ""),
        (details("Jack", "Connor", "2012-01-20"), details("John", "Conor", "2012-01-20"), ""),
        (details("Zoë", "O'Brien", "2012-01-20"), details("Zoe", "OBrien", "2012-01-20"), ""),
        # From the nicknames dataset (no list of ours holds them).
        (
            details("Margaret", "Hall", "2012-01-20"),
            details("Peggy", "Hall", "2012-01-20"),
            "first_name_nickname",
        ),
        (
            details("Jordan", "Hall", "2012-01-20"),
            details("Jordy", "Hall", "2012-01-20"),
            "first_name_diminutive",
        ),
        (
            details("Kaz", "Begum", "2012-01-20"),
            details("Karim", "Begum", "2012-01-20"),
            "first_name_diminutive",
        ),
    ],
)
def test_nicknames_swaps_and_spellings(searched, held, reason):
    result = score(searched, held)
    assert result.score >= LIKELY_SCORE, result
    assert not reason or reason in result.reasons


@pytest.mark.parametrize(
    "held",
    [
        details("Jordan", "Miller", "2011-03-14", "SS1 2AA"),  # a twin brother
        details("Jayla", "Miller", "2011-03-14", "SS1 2AA"),  # a twin sister
        details("Sophie", "Miller", "2009-06-01", "SS1 2AA"),  # a sister at the same address
        details("Jayden", "Smith", "2011-03-14"),  # same first name and birthday
        details("Kai", "Brown", "2011-03-14"),  # only the birthday
        details("Jayden", "Miller", "2004-08-30", "CM1 1AA"),  # a namesake, years apart
    ],
)
def test_different_children_are_not_likely_matches(held):
    assert score(SEARCHED, held).score < LIKELY_SCORE


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (details("Oliver", "Thompson", "2012-05-09"), details("Olivia", "Thompson", "2012-05-09")),
        (details("Samuel", "Patel", "2012-01-20"), details("Samantha", "Patel", "2012-01-20")),
        (details("Harry", "Ward", "2012-01-20"), details("Harvey", "Ward", "2012-01-20")),
        (details("Willow", "Roberts", "2012-01-20"), details("Willow", "Rogers", "2012-01-20")),
        (details("Jordan", "Hall", "2012-01-20"), details("Jorja", "Hall", "2012-01-20")),
        (details("Karim", "Begum", "2012-01-20"), details("Karen", "Begum", "2012-01-20")),
        (details("Leon", "Begum", "2012-01-20"), details("Leona", "Begum", "2012-01-20")),
        (details("Louis", "Begum", "2012-01-20"), details("Louise", "Begum", "2012-01-20")),
        # Twins at one address: the shared postcode does not make them one.
        (
            details("Oliver", "Nowak", "2012-05-09", "SS1 2AA"),
            details("Olivia", "Nowak", "2012-05-09", "SS1 2AA"),
        ),
    ],
)
def test_twins_and_a_shared_short_form_are_not_the_same_child(one, other):
    assert score(one, other).score < LIKELY_SCORE


def test_the_same_details_score_100():
    assert score(SEARCHED, SEARCHED).score == 100
    no_postcode = details("Jayden", "Miller", "2011-03-14")
    assert score(no_postcode, no_postcode).score == 100


def search(client, actor, **body):
    return client.post(MATCHES, json=body, headers=actor.headers)


@pytest.fixture
def seeded(client, world):
    """Records of one child with typos, swapped names, a nickname and a
    day/month swap, other children who are not him, and records the police
    cannot see."""
    police_sees = {
        "typo": child("Jaden", "Miller", "2011-03-14"),
        "transposed": child("Miller", "Jayden", "2011-03-14"),
        "nickname": child("Jay", "Miller", "2011-03-14", "SS1 2AA"),
        "swapped_dob": child("Jayden", "Miller", "2011-03-12"),
        "twin": child("Jordan", "Miller", "2011-03-14", "SS1 2AA"),
        "sister": child("Sophie", "Miller", "2008-06-01", "SS1 2AA"),
        "other": child("Jayden", "Smith", "2011-03-14"),
    }
    ids = {
        name: refer(client, world.officer, world.yjs, details)["child"]["id"]
        for name, details in police_sees.items()
    }
    # Records held by agencies the police have nothing to do with.
    for details in (
        child("Jayden", "Miller", "2011-03-14", "SS1 2AA"),
        child("Jaydon", "Millar", "2011-03-14"),
        child("Kai", "Jones", "2011-03-14"),  # not him: not counted
    ):
        refer(client, world.stranger, world.charity, details)
    return ids


def test_finds_seeded_duplicates_ranked_and_counts_the_unseen(client, world, seeded):
    response = search(
        client,
        world.officer,
        first_name="Jayden",
        last_name="Miller",
        date_of_birth="2011-03-14",
        postcode="ss1 2aa",
    )
    assert response.status_code == 200, response.json
    found = {match["child"]["id"]: match for match in response.json["matches"]}
    expected = {seeded[name] for name in ("typo", "transposed", "nickname")}
    assert expected <= set(found)
    assert seeded["twin"] not in found
    assert seeded["sister"] not in found
    assert seeded["other"] not in found
    scores = [match["score"] for match in response.json["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= value <= 100 for value in scores)
    assert "names_transposed" in found[seeded["transposed"]]["reasons"]
    assert "first_name_nickname" in found[seeded["nickname"]]["reasons"]
    # Of the two records held elsewhere, only the one with all of the name
    # and the date of birth the same counts ("Jaydon Millar" does not).
    assert response.json["held_elsewhere"] == 1
    assert set(response.json) == {"matches", "held_elsewhere"}


def test_finds_a_day_month_swap(client, world, seeded):
    response = search(
        client, world.officer, first_name="Jayden", last_name="Miller", date_of_birth="2011-12-03"
    )
    found = {match["child"]["id"]: match for match in response.json["matches"]}
    assert "date_of_birth_day_month_swapped" in found[seeded["swapped_dob"]]["reasons"]


def test_another_agency_sees_none_of_them_and_only_counts(client, world, seeded):
    response = search(
        client,
        world.charity_worker,
        first_name="Jayden",
        last_name="Miller",
        date_of_birth="2011-03-14",
    )
    assert response.status_code == 200
    # The charity holds the stranger's two records of him. The police's
    # records (a typo, transposed names, a nickname) are not near-exact
    # matches, so they are not even counted: a count only answers for all
    # of the name and the date of birth (no oracle to step through).
    assert len(response.json["matches"]) == 2
    assert response.json["held_elsewhere"] == 0
    exact = search(
        client,
        world.charity_worker,
        first_name="jayden ",
        last_name="MILLER",
        date_of_birth="2011-03-12",
    )
    assert exact.json["held_elsewhere"] == 1  # the police's "swapped_dob" record, exactly
    unrelated = search(
        client,
        world.stranger_manager,
        first_name="Nobody",
        last_name="Known",
        date_of_birth="2011-03-14",
    )
    assert unrelated.json == {"matches": [], "held_elsewhere": 0}


def test_the_search_is_audited_without_the_name(app, client, world, seeded):
    response = search(
        client, world.officer, first_name="Jayden", last_name="Miller", date_of_birth="2011-03-14"
    )
    (event,) = events(app, "child.match")
    assert sorted(event.record_ids) == sorted(m["child"]["id"] for m in response.json["matches"])
    assert event.fields == ["date_of_birth", "first_name", "last_name"]
    row = str(event.canonical())
    assert "Jayden" not in row
    assert "Miller" not in row
    assert "2011-03-14" not in row


def test_finds_diminutives_no_list_holds_within_the_agencys_holdings(client, world):
    """Jordy for Jordan and Kaz for Karim: the police find their own records
    of each; another agency sees none of them, and does not count them (they
    are not near-exact)."""
    jordy = refer(client, world.officer, world.yjs, child("Jordy", "Miller", "2011-03-14"))
    kaz = refer(client, world.officer, world.yjs, child("Kaz", "Hussain", "2010-09-02"))
    refer(client, world.officer, world.yjs, child("Jorja", "Miller", "2011-03-14"))  # his twin
    refer(client, world.officer, world.yjs, child("Karen", "Hussain", "2010-09-02"))  # his twin

    for first, last, dob, expected in (
        ("Jordan", "Miller", "2011-03-14", jordy),
        ("Karim", "Hussain", "2010-09-02", kaz),
    ):
        response = search(
            client, world.officer, first_name=first, last_name=last, date_of_birth=dob
        )
        assert response.status_code == 200, response.json
        (match,) = response.json["matches"]
        assert match["child"]["id"] == expected["child"]["id"]
        assert "first_name_diminutive" in match["reasons"]
        assert match["score"] >= LIKELY_SCORE

        elsewhere = search(
            client, world.charity_worker, first_name=first, last_name=last, date_of_birth=dob
        )
        assert elsewhere.json == {"matches": [], "held_elsewhere": 0}
