"""How likely two sets of a child's details are the same child: names
(typos, nicknames and diminutives, transposed, phonetic), the date of birth (a day or a
year out, day and month swapped) and the postcode. Pure functions: no
database, no actor."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta

import jellyfish
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import ratio

from referral_app.services.child_names import are_nicknames, is_diminutive

# --- finding the same child --------------------------------------------------

# A score (0-100) at or above this is a likely match.
LIKELY_SCORE = 60
# At most this many matches are returned, best first (held_elsewhere counts all).
MAX_MATCHES = 20

_NOT_ASCII_LETTER = re.compile(r"[^a-z\s]")


def normalise_name(name: str) -> str:
    """Lower case, accents and punctuation removed, hyphens as spaces:
    "O'Brien-Smith" -> "obrien smith"."""
    folded = name.casefold().replace("-", " ")
    if folded.isascii():  # the common case, quickly
        return " ".join(_NOT_ASCII_LETTER.sub("", folded).split())
    decomposed = unicodedata.normalize("NFKD", folded)
    kept = "".join(ch if ch.isalpha() else " " if ch.isspace() else "" for ch in decomposed)
    return " ".join(kept.split())


@dataclass(frozen=True)
class ChildDetails:
    """What matching compares: the searched details, or a candidate's."""

    first_name: str
    last_name: str
    date_of_birth: date
    postcode: str | None = None
    aliases: tuple[str, ...] = ()


# How alike two names are, as (points for a first name, for a last name):
# log-odds-like weights, positive for evidence of the same child.
_NAME_POINTS: dict[str, tuple[float, float]] = {
    "same": (4.0, 5.0),
    "nickname": (3.5, 3.5),
    "alias": (3.5, 3.5),
    "similar": (3.0, 4.0),
    "part": (3.0, 4.0),
    "sounds_alike": (2.5, 3.5),
    # A short form no list holds (Jordy, Jordan): less than a known nickname.
    "diminutive": (2.0, 2.0),
    # Alike but not a slip of the pen (Oliver and Olivia): rather not the
    # same; for a first name as good as different, since twins at one address
    # are often named alike (a shared postcode must not make them one child).
    "weak": (-3.0, -2.0),
    "different": (-3.0, -4.0),
}
_DOB_POINTS = {"same": 5.0, "day_month_swapped": 3.5, "close": 2.0, "different": -3.0}
_POSTCODE_POINTS = {"same": 2.0, "same_area": 0.5, "different": -0.5}
_TRANSPOSED_PENALTY = 1.0
_MAX_POINTS = _NAME_POINTS["same"][0] + _NAME_POINTS["same"][1] + _DOB_POINTS["same"]


def _name_likeness(searched: str, held: str, *, nicknames: bool) -> str:
    """How alike two normalised names are: one of the keys of _NAME_POINTS."""
    a, b = searched.replace(" ", ""), held.replace(" ", "")
    if not a or not b:
        return "different"
    if a == b:
        return "same"
    a_parts, b_parts = searched.split(), held.split()
    if nicknames and _feminine_form(a, b):
        return "weak"  # Leon and Leona, Louis and Louise: two names
    if nicknames and are_nicknames(a_parts[0], b_parts[0]):
        return "nickname"
    if (len(a_parts) > 1 or len(b_parts) > 1) and set(a_parts) & set(b_parts):
        return "part"  # double-barrelled or a middle name
    similarity = max(JaroWinkler.similarity(a, b), ratio(a, b) / 100)
    if similarity >= 0.9 or (min(len(a), len(b)) >= 4 and DamerauLevenshtein.distance(a, b) <= 1):
        return "similar"
    if nicknames and is_diminutive(a_parts[0], b_parts[0]):
        return "diminutive"
    # NYSIIS alone is loose (Karim and Karen share CARAN): it needs more alike spellings.
    if (similarity >= 0.7 and jellyfish.metaphone(a) == jellyfish.metaphone(b)) or (
        similarity >= 0.85 and jellyfish.nysiis(a) == jellyfish.nysiis(b)
    ):
        return "sounds_alike"
    if similarity >= 0.85:
        return "weak"
    return "different"


# Endings that make a name its feminine form: a different child's name.
_FEMININE_ENDINGS = ("a", "e", "le")


def _feminine_form(a: str, b: str) -> bool:
    """Whether one first name is the other with a feminine ending: Leon and
    Leona, Louis and Louise, Amir and Amira, Daniel and Danielle."""
    short, long = sorted((a, b), key=len)
    return any(long == short + ending for ending in _FEMININE_ENDINGS)


def _first_name_likeness(
    searched: str, searched_full: str, held: str, aliases: Sequence[str]
) -> str:
    """A first name against a held name (normalised), or an alias of the held
    child equal to the searched first or full name (`searched_full`, without
    spaces): "known as"."""
    likeness = _name_likeness(searched, held, nicknames=True)
    if aliases and _NAME_POINTS[likeness][0] < _NAME_POINTS["alias"][0]:
        wanted = {searched.replace(" ", ""), searched_full}
        if any(normalise_name(alias).replace(" ", "") in wanted for alias in aliases):
            return "alias"
    return likeness


def _swapped(day_of: date) -> date | None:
    """The date with day and month swapped (14/3 <-> 3/14), when that is a date."""
    if day_of.day > 12 or day_of.day == day_of.month:
        return None
    return date(day_of.year, day_of.day, day_of.month)


def _close_dates(day_of: date) -> set[date]:
    """A day either side, and the same day a year either side: slips of the pen."""
    close = {day_of - timedelta(days=1), day_of + timedelta(days=1)}
    for year in (day_of.year - 1, day_of.year + 1):
        with suppress(ValueError):  # 29 February
            close.add(day_of.replace(year=year))
    return close


def _dob_likeness(searched: date, held: date) -> str:
    if searched == held:
        return "same"
    if _swapped(searched) == held:
        return "day_month_swapped"
    if held in _close_dates(searched):
        return "close"
    return "different"


def _outward(postcode: str) -> str:
    return postcode.split(" ")[0]


@dataclass(frozen=True)
class Score:
    score: int
    reasons: tuple[str, ...]


def score(searched: ChildDetails, held: ChildDetails) -> Score:
    """How likely `held` is the searched child, 0-100, and why.

    Evidence for and against adds up (names, date of birth, postcode) and is
    scaled by the most the available details could give: the same names and
    date of birth with no postcode to compare is 100. Names are compared as
    written and transposed (first as last), with typos, nicknames, aliases and
    phonetic likeness; the date of birth as written, with day and month
    swapped, or a day or a year out."""
    first_name, last_name = normalise_name(searched.first_name), normalise_name(searched.last_name)
    full_name = (first_name + last_name).replace(" ", "")
    held_first, held_last = normalise_name(held.first_name), normalise_name(held.last_name)
    straight = (
        _first_name_likeness(first_name, full_name, held_first, held.aliases),
        _name_likeness(last_name, held_last, nicknames=False),
    )
    transposed = (
        _first_name_likeness(first_name, full_name, held_last, held.aliases),
        _name_likeness(last_name, held_first, nicknames=False),
    )

    def name_points(likeness: tuple[str, str]) -> float:
        return _NAME_POINTS[likeness[0]][0] + _NAME_POINTS[likeness[1]][1]

    reasons: list[str] = []
    first, last = straight
    points = name_points(straight)
    if name_points(transposed) - _TRANSPOSED_PENALTY > points:
        first, last = transposed
        points = name_points(transposed) - _TRANSPOSED_PENALTY
        reasons.append("names_transposed")
    if first != "different" and first != "weak":
        reasons.append(f"first_name_{first}")
    if last != "different" and last != "weak":
        reasons.append(f"last_name_{last}")

    dob = _dob_likeness(searched.date_of_birth, held.date_of_birth)
    points += _DOB_POINTS[dob]
    if dob != "different":
        reasons.append(f"date_of_birth_{dob}")

    most = _MAX_POINTS
    if searched.postcode and held.postcode:
        most += _POSTCODE_POINTS["same"]
        if searched.postcode == held.postcode:
            postcode = "same"
        elif _outward(searched.postcode) == _outward(held.postcode):
            postcode = "same_area"
        else:
            postcode = "different"
        points += _POSTCODE_POINTS[postcode]
        if postcode != "different":
            reasons.append(f"postcode_{postcode}")
    value = round(100 * max(points, 0.0) / most)
    return Score(score=min(value, 100), reasons=tuple(reasons))


def candidate_dates(day_of: date) -> set[date]:
    """The dates of birth worth comparing with: as given, a day or a year
    out, and day and month swapped."""
    dates = {day_of, *_close_dates(day_of)}
    swapped = _swapped(day_of)
    if swapped is not None:
        dates.add(swapped)
    return dates
