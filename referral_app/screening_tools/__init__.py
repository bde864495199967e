"""The exploitation screening tool, held as data: versioned definitions
(themes of indicators, each indicator's weight, the thresholds of the
indicated level and the rules that raise its floor) and the one function
that scores a set of answers against a definition.

A screening stores the version it was made with, so an old screening is
always read, and rescored, with its own definition: a new version is a new
module registered in `TOOLS`, never an edit to an old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from referral_app.models import RiskLevel
from referral_app.screening_tools import v1

ANSWERS = ("yes", "no", "not_known")
ANSWER_WORDS = {"yes": "Yes", "no": "No", "not_known": "Not known"}
_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


@dataclass(frozen=True)
class Indicator:
    id: str
    question: str
    theme: str
    weight: int


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class ToolDefinition:
    version: int
    title: str
    themes: tuple[Theme, ...]
    # The indicated level is medium from this score, high from that one.
    medium_from: int
    high_from: int
    # A child younger than this is never indicated below `young_floor`.
    young_age: int
    young_floor: RiskLevel
    # A "yes" to one of these indicators sets the level's floor.
    floors: Mapping[str, RiskLevel]

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(indicator for theme in self.themes for indicator in theme.indicators)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((found for found in self.indicators if found.id == indicator_id), None)

    def theme(self, theme_id: str) -> Theme:
        return next(theme for theme in self.themes if theme.id == theme_id)


@dataclass(frozen=True)
class Scoring:
    """What the tool indicates for a set of answers, and why."""

    level: RiskLevel
    score: int
    # In words, for the page: the rules that raised the level above the score's.
    raised_by: tuple[str, ...]


def _load(data: Mapping[str, Any]) -> ToolDefinition:
    themes = tuple(
        Theme(
            id=theme["id"],
            title=theme["title"],
            indicators=tuple(
                Indicator(
                    id=indicator["id"],
                    question=indicator["question"],
                    theme=theme["id"],
                    weight=int(indicator.get("weight", 1)),
                )
                for indicator in theme["indicators"]
            ),
        )
        for theme in data["themes"]
    )
    tool = ToolDefinition(
        version=int(data["version"]),
        title=data["title"],
        themes=themes,
        medium_from=int(data["thresholds"]["medium_from"]),
        high_from=int(data["thresholds"]["high_from"]),
        young_age=int(data["young"]["under_age"]),
        young_floor=RiskLevel(data["young"]["floor"]),
        floors=MappingProxyType(
            {indicator: RiskLevel(level) for indicator, level in data["floors"].items()}
        ),
    )
    ids = [indicator.id for indicator in tool.indicators]
    # A definition is code reviewed like code: a slip fails at import, not in a screening.
    assert len(ids) == len(set(ids)), "an indicator id is used twice"
    assert set(tool.floors) <= set(ids), "a floor names an unknown indicator"
    assert 0 < tool.medium_from < tool.high_from
    return tool


TOOLS: Mapping[int, ToolDefinition] = MappingProxyType({1: _load(v1.DEFINITION)})
CURRENT_VERSION = max(TOOLS)


def current() -> ToolDefinition:
    return TOOLS[CURRENT_VERSION]


def tool(version: int) -> ToolDefinition | None:
    return TOOLS.get(version)


def higher(first: RiskLevel, second: RiskLevel) -> RiskLevel:
    return first if _ORDER[first] >= _ORDER[second] else second


def score(
    definition: ToolDefinition, answers: Mapping[str, Mapping[str, Any]], age: int
) -> Scoring:
    """The indicated level: the weights of the "yes" answers summed against
    the thresholds, then raised to the floor of any override that applies
    (a child under `young_age` is never low; a "yes" to a floor indicator
    sets its floor). "Not known" and "no" add nothing: the practitioner's
    judgement is where an unknown weighs."""
    total = sum(
        indicator.weight
        for indicator in definition.indicators
        if answers.get(indicator.id, {}).get("answer") == "yes"
    )
    level = (
        RiskLevel.HIGH
        if total >= definition.high_from
        else RiskLevel.MEDIUM
        if total >= definition.medium_from
        else RiskLevel.LOW
    )
    raised_by: list[str] = []
    if age < definition.young_age and higher(level, definition.young_floor) != level:
        level = definition.young_floor
        raised_by.append(f"The child is under {definition.young_age}: never indicated as low.")
    for indicator_id, floor in definition.floors.items():
        if answers.get(indicator_id, {}).get("answer") != "yes":
            continue
        if higher(level, floor) != level:
            level = floor
            question = definition.indicator(indicator_id)
            assert question is not None
            raised_by.append(f"{question.question}: at least {floor.value}.")
    return Scoring(level, total, tuple(raised_by))


def level_order(level: RiskLevel) -> int:
    return _ORDER[level]


__all__ = [
    "ANSWERS",
    "ANSWER_WORDS",
    "CURRENT_VERSION",
    "TOOLS",
    "Indicator",
    "Scoring",
    "Theme",
    "ToolDefinition",
    "current",
    "higher",
    "level_order",
    "score",
    "tool",
]
