"""The tool's scoring as units: thresholds, the under-13 floor, the
indicators that raise the floor, and that every version stays readable."""

from __future__ import annotations

from referral_app import screening_tools
from referral_app.models import RiskLevel
from referral_app.screening_tools import score
from tests.screenings.conftest import answers

TOOL = screening_tools.tool(1)
assert TOOL is not None
OLD_ENOUGH = 15


def level(*yes: str, age: int = OLD_ENOUGH) -> RiskLevel:
    assert TOOL is not None
    return score(TOOL, answers(yes), age).level


def test_no_yes_answers_indicate_low_for_a_child_of_13_or_more():
    assert level() is RiskLevel.LOW
    assert level(age=13) is RiskLevel.LOW


def test_not_known_adds_nothing_to_the_score():
    assert TOOL is not None
    every = tuple(indicator.id for indicator in TOOL.indicators)
    scored = score(TOOL, answers(not_known=every), OLD_ENOUGH)
    assert (scored.level, scored.score) == (RiskLevel.LOW, 0)


def test_the_weights_of_the_yes_answers_meet_the_thresholds():
    # unexplained_money 1 + several_phones 1 = 2: below medium (3)
    assert level("unexplained_money", "several_phones") is RiskLevel.LOW
    # + new_belongings 1 = 3: medium
    assert level("unexplained_money", "several_phones", "new_belongings") is RiskLevel.MEDIUM
    # 1 + 1 + 1 + debt 2 = 5: still medium; + absence 1 = 6: high
    five = ("unexplained_money", "several_phones", "new_belongings", "debt")
    assert level(*five) is RiskLevel.MEDIUM
    assert level(*five, "absence") is RiskLevel.HIGH
    assert score(TOOL, answers((*five, "absence")), OLD_ENOUGH).score == 6


def test_a_child_under_13_is_never_indicated_as_low():
    assert TOOL is not None
    scored = score(TOOL, answers(), 12)
    assert scored.level is RiskLevel.MEDIUM
    assert scored.raised_by == ("The child is under 13: never indicated as low.",)
    # The floor only raises: a high score stays high.
    high = ("weapon_found", "drugs_found", "excluded")
    assert level(*high, age=12) is RiskLevel.HIGH


def test_a_weapon_find_alone_indicates_high():
    assert TOOL is not None
    scored = score(TOOL, answers(("weapon_found",)), OLD_ENOUGH)
    assert scored.score == 3  # medium by score alone
    assert scored.level is RiskLevel.HIGH
    assert scored.raised_by == ("Has been found with a weapon: at least high.",)


def test_going_missing_overnight_alone_indicates_at_least_medium():
    assert TOOL is not None
    scored = score(TOOL, answers(("missing_overnight",)), OLD_ENOUGH)
    assert scored.score == 2  # low by score alone
    assert scored.level is RiskLevel.MEDIUM


def test_an_adult_controlling_the_child_alone_indicates_high():
    assert level("adult_control") is RiskLevel.HIGH


def test_a_floor_indicator_answered_not_known_raises_nothing():
    assert TOOL is not None
    scored = score(TOOL, answers(not_known=("weapon_found",)), OLD_ENOUGH)
    assert scored.level is RiskLevel.LOW


def test_every_theme_of_the_issue_is_in_the_tool():
    assert TOOL is not None
    titles = " ".join(theme.title.lower() for theme in TOOL.themes)
    for words in (
        "missing",
        "money",
        "phones",
        "older",
        "out of area",
        "drug",
        "weapon",
        "school",
        "online",
        "injuries",
    ):
        assert words in titles


def test_every_version_is_registered_under_its_own_number():
    for version, definition in screening_tools.TOOLS.items():
        assert definition.version == version
    assert screening_tools.current() is screening_tools.TOOLS[screening_tools.CURRENT_VERSION]
    assert screening_tools.tool(999) is None
