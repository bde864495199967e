"""A labelled set of pairs of a child's details for measuring matching:
each pair is the same child written differently (a typo, a nickname from
the dataset, a diminutive, names swapped, day and month swapped, a
hyphenated or double-barrelled surname, a transliteration) or two different
children who look alike (twins and siblings, namesakes, a shared first name
or birthday, near names). Generated from a fixed seed, so the same on every
run; `pairs()` is the whole set."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from nicknames import NickNamer

from referral_app.services.child_likeness import ChildDetails

SEED = 16
PER_CATEGORY = 20

FIRST_NAMES = (
    "Oliver", "George", "Noah", "Arthur", "Leo", "Oscar", "Jacob", "Thomas", "Jayden",
    "Tyler", "Kyle", "Callum", "Reece", "Connor", "Ethan", "Mason", "Harvey", "Dylan",
    "Kieran", "Liam", "Adam", "Yusuf", "Amir", "Kofi", "Tunde", "Ryan", "Lewis",
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Poppy", "Chloe",
    "Jade", "Leah", "Keira", "Aaliyah", "Zara", "Precious", "Shannon", "Courtney",
    "Megan", "Paige", "Amber", "Demi", "Tia", "Nadia",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
    "Green", "Hall", "Wood", "Jackson", "Clarke", "Khan", "Begum", "Hussain", "Okafor",
    "Mensah", "Nowak", "Kowalski", "Osei", "Campbell", "Murphy", "O'Brien", "McDonald",
    "Ahmed", "Ali", "Hughes", "Edwards", "Turner", "Baker", "Harrison",
)  # fmt: skip
# Full names whose dataset nicknames children are known by.
NICKNAMED = (
    "William", "Robert", "Elizabeth", "Katherine", "Daniel", "Samuel", "Joshua",
    "Christopher", "Benjamin", "Alexander", "Nicholas", "Michael", "Matthew", "Jessica",
    "Rebecca", "Jennifer", "Edward", "Anthony", "Andrew", "Joseph", "Patrick", "Richard",
    "Frederick", "Zachary", "Nathan", "Victoria", "Abigail", "Charles", "Henry", "Thomas",
)  # fmt: skip
# Short forms no list holds, as heard in British schools and services.
DIMINUTIVES = (
    ("Jordy", "Jordan"), ("Kaz", "Karim"), ("Kaz", "Karen"), ("Gaz", "Gary"),
    ("Daz", "Darren"), ("Baz", "Barry"), ("Shaz", "Sharon"), ("Tyrie", "Tyrone"),
    ("Jacko", "Jackson"), ("Marky", "Marcus"), ("Kiki", "Kiara"), ("Brandy", "Brandon"),
    ("Desy", "Desmond"), ("Lenny", "Lennox"), ("Jamo", "Jamal"), ("Dexy", "Dexter"),
    ("Jonno", "Jonah"), ("Kemi", "Kemar"), ("Declo", "Declan"), ("Jaxy", "Jaxon"),
)  # fmt: skip
# The same name written from another alphabet or tradition.
TRANSLITERATIONS = (
    ("Mohammed", "Muhammad"), ("Mohammed", "Mohamed"), ("Aleksandr", "Alexander"),
    ("Yusuf", "Yousef"), ("Aisha", "Ayesha"), ("Dmitri", "Dmitry"), ("Mikhail", "Michail"),
    ("Fatima", "Fatimah"), ("Hussein", "Hussain"), ("Oleksandr", "Olexander"),
    ("Abdullah", "Abdulla"), ("Zainab", "Zaynab"), ("Yasmin", "Yasmeen"),
    ("Ibrahim", "Ebrahim"), ("Khadija", "Khadijah"), ("Sergei", "Sergey"),
    ("Andrii", "Andriy"), ("Mustafa", "Mostafa"), ("Omar", "Umar"), ("Ahmed", "Ahmad"),
)  # fmt: skip
# Different first names that look alike: twins, or a near name.
NEAR_NAMES = (
    ("Oliver", "Olivia"), ("Jordan", "Jorja"), ("Karim", "Karen"), ("Harry", "Harvey"),
    ("Samuel", "Samantha"), ("Jayden", "Jordan"), ("Louis", "Louise"), ("Mason", "Marcus"),
    ("Ellie", "Elsie"), ("Kai", "Karim"), ("Leon", "Leona"), ("Aaron", "Erin"),
    ("Jaden", "Jaylen"), ("Tyler", "Tyrone"), ("Callum", "Calvin"), ("Reece", "Rhys"),
    ("Keira", "Kiara"), ("Mia", "Maya"), ("Ryan", "Rayan"), ("Amir", "Amira"),
)  # fmt: skip


@dataclass(frozen=True)
class Pair:
    category: str
    same_child: bool
    one: ChildDetails
    other: ChildDetails


def _birthday(rng: random.Random) -> date:
    return date(2006, 1, 1) + timedelta(days=rng.randrange(365 * 12))


def _child(rng: random.Random, first: str | None = None, last: str | None = None) -> ChildDetails:
    return ChildDetails(
        first or rng.choice(FIRST_NAMES), last or rng.choice(SURNAMES), _birthday(rng)
    )


def _typo(rng: random.Random, name: str) -> str:
    """One slip of the pen: a letter dropped, doubled, swapped or changed."""
    at = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("drop", "double", "swap", "change"))
    if kind == "drop":
        return name[:at] + name[at + 1 :]
    if kind == "double":
        return name[:at] + name[at] + name[at:]
    if kind == "swap":
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    vowels = "aeiou"
    letter = rng.choice(vowels if name[at] in vowels else "bcdfghklmnprstvwz")
    return name[:at] + letter + name[at + 1 :]


def _with(details: ChildDetails, **changes: object) -> ChildDetails:
    values = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "date_of_birth": details.date_of_birth,
        "postcode": details.postcode,
    }
    values.update(changes)
    return ChildDetails(**values)  # type: ignore[arg-type]


def _other_day(rng: random.Random, day_of: date) -> date:
    """A different birthday, not a slip of the pen (more than a few weeks off)."""
    return day_of + timedelta(days=rng.choice((-1, 1)) * rng.randrange(40, 3000))


def _same_child(rng: random.Random, nicknames: NickNamer) -> list[Pair]:
    pairs: list[Pair] = []
    for _ in range(PER_CATEGORY):
        one = _child(rng)
        if rng.random() < 0.5:
            other = _with(one, first_name=_typo(rng, one.first_name))
        else:
            other = _with(one, last_name=_typo(rng, one.last_name))
        pairs.append(Pair("typo", True, one, other))
    for full in rng.sample(NICKNAMED, PER_CATEGORY):
        one = _child(rng, first=full)
        nickname = rng.choice(sorted(nicknames.nicknames_of(full)))
        pairs.append(Pair("nickname", True, one, _with(one, first_name=nickname.title())))
    for short, full in DIMINUTIVES:
        one = _child(rng, first=full)
        pairs.append(Pair("diminutive", True, one, _with(one, first_name=short)))
    for _ in range(PER_CATEGORY):
        one = _child(rng)
        swapped = _with(one, first_name=one.last_name, last_name=one.first_name)
        pairs.append(Pair("names_swapped", True, one, swapped))
    while sum(pair.category == "day_month_swapped" for pair in pairs) < PER_CATEGORY:
        one = _child(rng)
        day_of = one.date_of_birth
        if day_of.day > 12 or day_of.day == day_of.month:
            continue
        swapped_day = date(day_of.year, day_of.day, day_of.month)
        pairs.append(Pair("day_month_swapped", True, one, _with(one, date_of_birth=swapped_day)))
    for number in range(PER_CATEGORY):
        one = _child(rng)
        extra = rng.choice([name for name in SURNAMES if name != one.last_name])
        parts = (one.last_name, extra) if number % 2 else (extra, one.last_name)
        pairs.append(Pair("hyphenated", True, one, _with(one, last_name="-".join(parts))))
        other = _child(rng)
        extra = rng.choice([name for name in SURNAMES if name != other.last_name])
        parts = (other.last_name, extra) if number % 2 else (extra, other.last_name)
        double = _with(other, last_name=" ".join(parts))
        pairs.append(Pair("double_barrelled", True, other, double))
    for written, other_spelling in TRANSLITERATIONS:
        one = _child(rng, first=written)
        pairs.append(Pair("transliteration", True, one, _with(one, first_name=other_spelling)))
    return pairs


def _different_children(rng: random.Random, nicknames: NickNamer) -> list[Pair]:
    def unrelated(a: str, b: str) -> bool:
        a, b = a.lower(), b.lower()
        return a != b and b not in nicknames.nicknames_of(a) and a not in nicknames.nicknames_of(b)

    pairs: list[Pair] = []
    for _ in range(PER_CATEGORY):  # twins: a surname, a birthday and a home
        one = _with(_child(rng), postcode="SS1 2AA")
        name = rng.choice([name for name in FIRST_NAMES if unrelated(name, one.first_name)])
        pairs.append(Pair("twins", False, one, _with(one, first_name=name)))
    for _ in range(PER_CATEGORY):  # siblings: a surname and a home
        one = _with(_child(rng), postcode="CM1 1AA")
        name = rng.choice([name for name in FIRST_NAMES if unrelated(name, one.first_name)])
        sibling = _with(one, first_name=name, date_of_birth=_other_day(rng, one.date_of_birth))
        pairs.append(Pair("siblings", False, one, sibling))
    for _ in range(PER_CATEGORY):  # a first name and a birthday
        one = _child(rng)
        surname = rng.choice([name for name in SURNAMES if name != one.last_name])
        pairs.append(
            Pair("same_first_name_and_birthday", False, one, _with(one, last_name=surname))
        )
    for _ in range(PER_CATEGORY):  # only a birthday
        one, other = _child(rng), _child(rng)
        if not unrelated(one.first_name, other.first_name) or one.last_name == other.last_name:
            continue
        other = _with(other, date_of_birth=one.date_of_birth)
        pairs.append(Pair("same_birthday", False, one, other))
    for _ in range(PER_CATEGORY):  # namesakes, years apart, elsewhere
        one = _with(_child(rng), postcode="B1 1AA")
        namesake = _with(one, date_of_birth=_other_day(rng, one.date_of_birth), postcode="M1 1AE")
        pairs.append(Pair("namesakes", False, one, namesake))
    for first, near in NEAR_NAMES:  # twins with near names
        one = _child(rng, first=first)
        pairs.append(Pair("near_names", False, one, _with(one, first_name=near)))
    return pairs


def pairs() -> list[Pair]:
    """The labelled set, the same on every run."""
    rng = random.Random(SEED)
    nicknames = NickNamer()
    return _same_child(rng, nicknames) + _different_children(rng, nicknames)
