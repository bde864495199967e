"""Names by which one child may be known: nicknames from the curated
`nicknames` dataset (Carlton Northern's, maintained on PyPI), a few British
short forms it lacks, and a rule for diminutives no list holds (Jordy for
Jordan, Kaz for Karim). Pure functions over normalised first names (lower
case, no accents or punctuation: see child_likeness.normalise_name)."""

from __future__ import annotations

from functools import cache

from nicknames import NickNamer

# Short forms the dataset (American, 1.0.x) lacks, each group one name with
# its spellings and short forms, as said in British schools and services.
# Two names are related when one group holds both. Kept short on purpose:
# a short form no list holds is the diminutive rule's (`is_diminutive`).
OWN_NICKNAMES: tuple[tuple[str, ...], ...] = (
    ("jay", "jayden", "jaden", "jaiden", "jaydon"),
    ("jay", "jason"),
    ("mo", "moe", "mohammed", "mohammad", "mohamed", "muhammad", "muhammed", "mohamad"),
    ("xander", "lexi", "alexander", "alexandra"),
    ("liam", "william"),
    ("alfie", "alf", "alfred"),
    ("charlie", "charlotte", "lottie"),
    ("ollie", "olly", "oliver"),
    ("liv", "livvy", "olivia"),
    ("izzy", "izzie", "issy", "bella", "isabella", "isabelle", "isobel"),
    ("tash", "tasha", "natasha"),
    ("nat", "natalie"),
    ("benji", "benjamin"),
    ("robbie", "robert"),
    ("maddie", "maddy", "madison", "madeleine", "madeline"),
    ("ella", "ellie", "eleanor"),
    ("nicky", "nicola"),
    ("vikki", "vicky", "victoria"),
    ("kat", "cathy", "kathryn", "katherine", "catherine"),
)


@cache
def _dataset() -> NickNamer:
    return NickNamer()


@cache
def _own_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, names in enumerate(OWN_NICKNAMES):
        for name in names:
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


@cache
def _known_names() -> frozenset[str]:
    dataset = _dataset()
    return frozenset({*dataset.nickname_lookup, *dataset.canonical_lookup, *_own_groups()})


@cache
def are_nicknames(a: str, b: str) -> bool:
    """Whether one name is a short form of the other (Bill, William), or both
    are short forms of one longer name (Liz, Beth: Elizabeth). Names that
    share a short form are not related through it (Samuel, Samantha: Sam)."""
    if a == b:
        return True
    own = _own_groups()
    if own.get(a, frozenset()) & own.get(b, frozenset()):
        return True
    dataset = _dataset()
    if b in dataset.nicknames_of(a) or a in dataset.nicknames_of(b):
        return True
    shared = dataset.canonicals_of(a) & dataset.canonicals_of(b)
    return any(len(full) > max(len(a), len(b)) for full in shared)


# Endings of a British diminutive: Jordy, Charlie, Benji, Jacko, Tommo.
_DIMINUTIVE_ENDINGS = ("ie", "y", "i", "ee", "o")
# The shortest stem a diminutive must share with the name (Jordy: "jord").
_MIN_STEM = 3


def is_diminutive(a: str, b: str) -> bool:
    """Whether the shorter name looks like a diminutive of the longer one
    that no list holds: its stem starts the longer name and is not a name of
    its own in any list. Either a stem of at least three letters and a pet
    ending (Jordy, Jordan), or the first syllable and a "z" (Kaz, Karim;
    Gaz, Gary; Shaz, Sharon). Names the lists know are theirs to relate:
    Harry and Harvey, Leo and Leon are not diminutives of each other here."""
    short, long = sorted((a, b), key=len)
    if len(short) >= len(long) or short in _known_names():
        return False
    if short.endswith("z") and len(short) >= 3:
        stem = short[:-1]
        return long.startswith(stem) and stem[-1] in "aeiou" and long[len(stem)] not in "aeiou"
    stems = [short[: -len(ending)] for ending in _DIMINUTIVE_ENDINGS if short.endswith(ending)]
    return any(
        len(stem) >= _MIN_STEM and len(long) >= len(stem) + 2 and long.startswith(stem)
        for stem in stems
    )
