"""Children as records: finding the same child, merging two records of one
child (and undoing it), what an agency holds about a child (subject access),
and correcting a child's details (rectification).

Everything here starts from what the actor's organisation can see
(services.scoping): a child is visible to an agency that holds a referral
about them. The one deliberate look beyond that is counting: how many likely
matches other agencies hold (`held_elsewhere`), and whether other agencies'
referrals are about a record before it is merged away. Both return a count
and nothing else.

Changing a child's record (correcting it, merging records, undoing a merge)
is for the referring or receiving agency of a referral about the child: a
further agency with a share sees the referral and changes nothing else.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import jellyfish
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import ratio
from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.exc import DBAPIError

from referral_app import throttling
from referral_app.extensions import db
from referral_app.models import (
    AuditEvent,
    Child,
    ChildMerge,
    Note,
    Organisation,
    Referral,
    ReferralStatus,
    Share,
    StatusChange,
    User,
    utcnow,
)
from referral_app.services import audit, casework
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from referral_app.services.scoping import (
    Relation,
    child_is_visible,
    get_visible_child,
    held_referrals,
    relations,
)

# --- finding the same child --------------------------------------------------

# A score (0-100) at or above this is a likely match.
LIKELY_SCORE = 60
# At most this many matches are returned, best first (held_elsewhere counts all).
MAX_MATCHES = 20

# Names by which one child may be known: each group is one name (with its
# spellings) and its short forms. Two names are related when one group holds
# both: a short form may belong to several names (Sam: Samuel, Samantha), but
# those names are not related to each other through it.
NICKNAMES: tuple[tuple[str, ...], ...] = (
    ("jay", "jayden", "jaden", "jaiden", "jaydon"),
    ("jay", "jason"),
    ("jim", "jimmy", "jamie", "james"),
    ("tom", "tommy", "thomas"),
    ("alex", "alec", "xander", "alexander"),
    ("alex", "lexi", "alexandra"),
    ("sam", "sammy", "samuel"),
    ("sam", "sammy", "samantha"),
    ("liz", "lizzie", "lizzy", "libby", "beth", "betty", "eliza", "elizabeth"),
    ("kate", "katie", "kat", "kathy", "cathy", "katherine", "catherine", "kathryn"),
    ("dan", "danny", "daniel"),
    ("dani", "danielle"),
    ("mo", "moe", "mohammed", "mohammad", "mohamed", "muhammad", "muhammed", "mohamad"),
    ("josh", "joshua"),
    ("chris", "christopher", "kristopher"),
    ("chris", "christian"),
    ("chris", "tina", "christina", "christine"),
    ("ben", "benny", "benji", "benjamin"),
    ("jack", "johnny", "jonny", "john"),
    ("jon", "jonny", "jonathan"),
    ("bill", "billy", "will", "willy", "liam", "william"),
    ("bob", "bobby", "rob", "robbie", "bert", "robert"),
    ("maddie", "maddy", "madison"),
    ("maddie", "maddy", "madeleine", "madeline"),
    ("izzy", "izzie", "issy", "bella", "isabella", "isabelle", "isobel"),
    ("mike", "mikey", "mick", "michael"),
    ("matt", "matty", "matthew"),
    ("nick", "nicky", "nicholas"),
    ("nicky", "nicola"),
    ("charlie", "charles"),
    ("charlie", "lottie", "charlotte"),
    ("ellie", "ella", "eleanor"),
    ("abby", "abbie", "abigail"),
    ("becky", "becca", "rebecca"),
    ("jess", "jessie", "jessica"),
    ("jen", "jenny", "jennifer"),
    ("ed", "eddie", "ted", "teddy", "edward"),
    ("harry", "hal", "henry"),
    ("tony", "anthony"),
    ("andy", "drew", "andrew"),
    ("steve", "stevie", "stephen", "steven"),
    ("joe", "joey", "joseph"),
    ("jo", "josie", "josephine"),
    ("pat", "paddy", "patrick"),
    ("pat", "patsy", "patricia"),
    ("rick", "ricky", "rich", "richie", "richard"),
    ("ollie", "olly", "oliver"),
    ("liv", "livvy", "olivia"),
    ("freddie", "freddy", "fred", "frederick"),
    ("alfie", "alf", "alfred"),
    ("archie", "archibald"),
    ("zak", "zac", "zack", "zach", "zachary"),
    ("nat", "nate", "nathan"),
    ("nat", "nate", "nathaniel"),
    ("nat", "natalie"),
    ("tash", "tasha", "natasha"),
    ("sophie", "sophia"),
    ("gabe", "gabriel"),
    ("gabby", "gabriella", "gabrielle"),
    ("vicky", "vikki", "tori", "victoria"),
    ("theo", "theodore"),
    ("len", "lenny", "leonard"),
)


@cache
def _nickname_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, names in enumerate(NICKNAMES):
        for name in names:
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


def _are_nicknames(a: str, b: str) -> bool:
    groups = _nickname_groups()
    return bool(groups.get(a, frozenset()) & groups.get(b, frozenset()))


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
    # Alike but not a slip of the pen (Oliver and Olivia): rather not the same.
    "weak": (-2.0, -2.0),
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
    if nicknames and _are_nicknames(a_parts[0], b_parts[0]):
        return "nickname"
    if (len(a_parts) > 1 or len(b_parts) > 1) and set(a_parts) & set(b_parts):
        return "part"  # double-barrelled or a middle name
    similarity = max(JaroWinkler.similarity(a, b), ratio(a, b) / 100)
    if similarity >= 0.9 or (min(len(a), len(b)) >= 4 and DamerauLevenshtein.distance(a, b) <= 1):
        return "similar"
    if similarity >= 0.7 and (
        jellyfish.metaphone(a) == jellyfish.metaphone(b)
        or jellyfish.nysiis(a) == jellyfish.nysiis(b)
    ):
        return "sounds_alike"
    if similarity >= 0.85:
        return "weak"
    return "different"


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


@dataclass(frozen=True)
class Match:
    child: Child
    score: int
    reasons: list[str]


@dataclass(frozen=True)
class MatchResult:
    """Likely matches the actor's organisation can see, best first, and how
    many more likely matches other agencies hold (a count only)."""

    matches: list[Match]
    held_elsewhere: int


@contextmanager
def _beyond_holdings() -> Iterator[None]:
    """Lift PostgreSQL row-level security for the statements inside.

    Only for counting what other agencies hold (DESIGN section 5:
    `held_elsewhere`; and the referrals that keep a record from being merged):
    under row-level security those rows do not exist for the request, and the
    count would always be 0. The statements inside decide for themselves what
    the agency holds (services.scoping) and their callers return a count of
    the rest, never the rows. The setting is transaction-local and put back at
    once."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.execute(text("SELECT current_setting('app.rls_bypass', true)")).scalar()
    connection.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
    try:
        yield
    finally:
        # A failed statement aborted the transaction, and the setting dies with
        # it; do not hide that failure behind this one.
        with suppress(DBAPIError):
            connection.execute(
                text("SELECT set_config('app.rls_bypass', :value, true)"),
                {"value": previous or ""},
            )


def _candidate_dates(day_of: date) -> set[date]:
    dates = {day_of, *_close_dates(day_of)}
    swapped = _swapped(day_of)
    if swapped is not None:
        dates.add(swapped)
    return dates


def find_matches(
    actor: User,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    postcode: str | None = None,
    exclude_child_id: uuid.UUID | None = None,
) -> MatchResult:
    """Likely records of the described child: those the actor's organisation
    can see, ranked by score (at most MAX_MATCHES), and the number of likely
    matches among children it cannot see (nothing else about them).

    Candidates are narrowed in SQL (a date of birth as given, a day or a year
    out, or with day and month swapped; or the same postcode) and scored here
    (see `score`). Merged and anonymised records are never candidates. The
    search is audited with the ids of the matches shown, how many were held
    elsewhere, and the names of the fields searched, never their values.

    Not an oracle: `held_elsewhere` counts only records of another agency that
    match all of the first name, last name and date of birth near-exactly
    (the same after normalising case, accents, spaces and punctuation), so a
    date of birth cannot be found by stepping near it; and each user may
    match MATCH_LIMIT_PER_USER times (raises TooMany beyond that; the refusal
    is audited)."""
    if not throttling.take_match_allowance(actor.id):
        audit.record_denial("child.match", actor, record_type="child", reason="throttled")
        raise TooMany(
            "You have searched for children's records too many times in a short while. "
            "Try again later."
        )
    searched = ChildDetails(first_name, last_name, date_of_birth, postcode or None)
    narrowing: list[ColumnElement[bool]] = [
        Child.date_of_birth.in_(sorted(_candidate_dates(date_of_birth)))
    ]
    if searched.postcode:
        narrowing.append(Child.postcode == searched.postcode)
    query = select(
        Child.id,
        Child.first_name,
        Child.last_name,
        Child.date_of_birth,
        Child.postcode,
        Child.aliases,
        child_is_visible(actor.organisation_id).label("visible"),
    ).where(Child.merged_into_id.is_(None), Child.anonymised_at.is_(None), or_(*narrowing))
    if exclude_child_id is not None:
        query = query.where(Child.id != exclude_child_id)
    with _beyond_holdings():
        candidates = db.session.execute(query).all()

    visible_scores: dict[uuid.UUID, Score] = {}
    held_elsewhere = 0
    for row in candidates:
        held = ChildDetails(
            row.first_name, row.last_name, row.date_of_birth, row.postcode, tuple(row.aliases or ())
        )
        if not row.visible:
            held_elsewhere += int(_near_exact(searched, held))
            continue
        result = score(searched, held)
        if result.score >= LIKELY_SCORE:
            visible_scores[row.id] = result

    best = sorted(visible_scores, key=lambda child_id: (-visible_scores[child_id].score, child_id))
    best = best[:MAX_MATCHES]
    # The matches shown are loaded again within the organisation's holdings
    # (and under row-level security on PostgreSQL).
    children = {
        child.id: child
        for child in db.session.scalars(
            select(Child).where(Child.id.in_(best), child_is_visible(actor.organisation_id))
        )
    }
    matches = [
        Match(
            children[child_id], visible_scores[child_id].score, [*visible_scores[child_id].reasons]
        )
        for child_id in best
        if child_id in children
    ]
    audit.record(
        "child.match",
        actor,
        record_type="child",
        record_ids=[match.child.id for match in matches],
        fields=["first_name", "last_name", "date_of_birth", *(["postcode"] if postcode else [])],
        reason=f"{len(matches)} shown, {held_elsewhere} held elsewhere",
    )
    return MatchResult(matches=matches, held_elsewhere=held_elsewhere)


def _near_exact(searched: ChildDetails, held: ChildDetails) -> bool:
    """All of the name and the date of birth, the same after normalising."""
    return (
        searched.date_of_birth == held.date_of_birth
        and normalise_name(searched.first_name) == normalise_name(held.first_name)
        and normalise_name(searched.last_name) == normalise_name(held.last_name)
    )


def possible_duplicates(actor: User, child: Child) -> MatchResult:
    """Other records the actor's organisation can see that are likely the
    same child as `child` (a visible child): candidates for a merge."""
    return find_matches(
        actor,
        first_name=child.first_name,
        last_name=child.last_name,
        date_of_birth=child.date_of_birth,
        postcode=child.postcode,
        exclude_child_id=child.id,
    )


# --- reading a child ----------------------------------------------------------


def held_referrals_about(actor: User, child: Child) -> list[Referral]:
    """The referrals about a visible child that the actor's organisation
    holds, oldest first (a list read, audited)."""
    referrals = list(
        db.session.scalars(
            held_referrals(actor)
            .where(Referral.child_id == child.id)
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    audit.record(
        "referral.list",
        actor,
        record_type="referral",
        record_ids=[referral.id for referral in referrals],
        fields=["child_id"],
    )
    return referrals


def merges_into(child: Child) -> list[ChildMerge]:
    """Merges (not undone) that moved other records' referrals to this
    (visible) child, newest first."""
    return list(
        db.session.scalars(
            select(ChildMerge)
            .where(ChildMerge.survivor_id == child.id, ChildMerge.undone_at.is_(None))
            .order_by(ChildMerge.merged_at.desc(), ChildMerge.id)
        )
    )


# --- changing a child's record -----------------------------------------------


def as_a_side(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition: the organisation is the referring or the receiving
    agency of the referral row (a draft: the referring agency alone). Not a
    further agency with a share, which sees a referral and changes nothing
    but its own notes (DESIGN section 4): nor the child's record."""
    return or_(
        Referral.referring_organisation_id == organisation_id,
        and_(
            Referral.receiving_organisation_id == organisation_id,
            Referral.status != ReferralStatus.DRAFT,
        ),
    )


def may_change_record(actor: User, child: Child) -> bool:
    """Whether the actor's organisation is the referring or receiving agency
    of a referral about this (visible) child: who may correct the child's
    details and merge records of them (with children:manage)."""
    found = db.session.scalar(
        select(Referral.id)
        .where(Referral.child_id == child.id, as_a_side(actor.organisation_id))
        .limit(1)
    )
    return found is not None


def _changeable_child(actor: User, child_id: uuid.UUID, which: str) -> Child:
    """A visible child whose record the actor's organisation may change:
    NotFound when not visible, Forbidden when seen only through a share,
    Conflict when merged away or anonymised."""
    child = get_visible_child(actor, child_id)
    if not may_change_record(actor, child):
        raise Forbidden(
            "Only the referring or receiving agency of a referral about this child can "
            "change the child's record; a share gives sight of the referral only."
        )
    if child.merged_into_id is not None:
        raise Conflict(f"The {which} record has already been merged into another.")
    if child.anonymised_at is not None:
        raise Conflict(f"The {which} record was anonymised under the retention policy.")
    return child


def merge(actor: User, survivor_id: uuid.UUID, duplicate_id: uuid.UUID) -> ChildMerge:
    """Merge the record `duplicate_id` into `survivor_id`: every referral
    about the duplicate moves to the survivor (its history untouched), the
    duplicate is marked `merged_into_id`, and a ChildMerge row remembers which
    referrals moved, so `unmerge` can move exactly those back.

    Needs both records visible to the actor's organisation (NotFound
    otherwise), and it the referring or receiving agency of a referral about
    each (Forbidden when it sees one only through a share) and of every
    referral about the duplicate: moving another agency's referral would show
    it, and that agency, a record they never saw (Conflict). Refuses a record
    merged into itself (Invalid) and a record already merged or anonymised
    (Conflict). The permission (children:manage) is the route's."""
    survivor = _changeable_child(actor, survivor_id, "surviving")
    if survivor_id == duplicate_id:
        raise Invalid(
            "A record cannot be merged into itself.",
            {"duplicate_id": ["Choose another record of the same child."]},
        )
    duplicate = _changeable_child(actor, duplicate_id, "duplicate")
    with _beyond_holdings():
        not_ours = db.session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.child_id == duplicate.id, ~as_a_side(actor.organisation_id))
        )
    if not_ours:
        raise Conflict(
            "Other agencies referred or received referrals about the duplicate record: "
            "merge the other way round, or ask them to."
        )
    moving = list(
        db.session.scalars(
            select(Referral)
            .where(Referral.child_id == duplicate.id, as_a_side(actor.organisation_id))
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    # Marked first, while its referrals still make it visible (row-level
    # security checks the updated row against the agency's holdings).
    duplicate.merged_into_id = survivor.id
    db.session.flush()
    for referral in moving:
        referral.child = survivor
    db.session.flush()
    record = ChildMerge(
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        moved_referral_ids=[str(referral.id) for referral in moving],
        merged_by_id=actor.id,
        merged_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    _record_moves(actor, "child.merge", record, moving)
    return record


def _record_moves(actor: User, action: str, record: ChildMerge, moved: Sequence[Referral]) -> None:
    audit.record(
        action,
        actor,
        record_type="child",
        record_id=record.survivor_id,
        record_ids=[record.merged_id, *(referral.id for referral in moved)],
        fields=["merged_into_id"],
        reason=f"child merge {record.id}",
    )
    for referral in moved:
        # In each referral's own access log too.
        audit.record(
            "referral.child_changed",
            actor,
            record_type="referral",
            record_id=referral.id,
            fields=["child_id"],
            reason=f"child merge {record.id}",
        )


def unmerge(actor: User, merge_id: uuid.UUID) -> ChildMerge:
    """Undo a merge: move exactly the referrals it moved back to the merged
    record and clear its `merged_into_id`.

    A merge exists for the actor when their organisation holds a referral it
    moved (NotFound otherwise). Needs the organisation to be the referring or
    receiving agency of the referrals it moved (Forbidden when it holds them
    only through a share). Refuses (Conflict): a merge already undone;
    referrals moved away from the survivor since (it was merged again: undo
    that first), or no longer all the organisation's to move."""
    record = db.session.get(ChildMerge, merge_id)
    moved_ids = [uuid.UUID(value) for value in record.moved_referral_ids] if record else []
    held = (
        list(
            db.session.scalars(
                held_referrals(actor).where(Referral.id.in_(moved_ids)).order_by(Referral.id)
            ).unique()
        )
        if moved_ids
        else []
    )
    if record is None or not held:
        raise NotFound("No such merge.")
    ours = {
        referral.id
        for referral in held
        if referral.referring_organisation_id == actor.organisation_id
        or (
            referral.receiving_organisation_id == actor.organisation_id
            and referral.status is not ReferralStatus.DRAFT
        )
    }
    if not ours:
        raise Forbidden(
            "Only the referring or receiving agency of the referrals a merge moved can undo it."
        )
    if record.undone_at is not None:
        raise Conflict("This merge has already been undone.")
    if ours != set(moved_ids):
        raise Conflict(
            "Your agency is not the referring or receiving agency of every referral "
            "this merge moved."
        )
    if any(referral.child_id != record.survivor_id for referral in held):
        raise Conflict(
            "Some referrals this merge moved are no longer about the surviving record "
            "(it was merged again since): undo the later merge first."
        )
    for referral in held:
        # The merged record is not visible until its referrals are back, so
        # it is named by id (and loaded after).
        referral.child_id = record.merged_id
    db.session.flush()
    for referral in held:
        db.session.expire(referral, ["child"])
    merged = db.session.scalars(
        select(Child).where(Child.id == record.merged_id).execution_options(populate_existing=True)
    ).one()
    merged.merged_into_id = None
    record.undone_at = utcnow()
    record.undone_by_id = actor.id
    db.session.flush()
    _record_moves(actor, "child.unmerge", record, held)
    return record


def rectify(actor: User, child_id: uuid.UUID, changes: dict[str, Any]) -> tuple[Child, list[str]]:
    """Correct a visible child's details; returns the child and the names of
    the fields that changed, which the audit event lists (never their
    values). The permission (children:manage) is the route's.

    Refuses a child not visible to the actor's organisation (NotFound); one
    it sees only through a share: it is not the referring or receiving agency
    of any referral about them (Forbidden); and a record merged into another
    or anonymised (Conflict)."""
    child = _changeable_child(actor, child_id, "child's")
    changed = []
    for name, value in changes.items():
        if name == "aliases":
            value = list(value or [])
        if getattr(child, name) != value:
            setattr(child, name, value)
            changed.append(name)
    db.session.flush()
    audit.record("child.rectify", actor, record_type="child", record_id=child.id, fields=changed)
    return child, changed


# --- subject access -----------------------------------------------------------

# The most access-log entries an export lists (newest kept); more is flagged.
MAX_ACCESS_ENTRIES = 5000


@dataclass(frozen=True)
class ExportedReferral:
    referral: Referral
    history: list[StatusChange]
    notes: list[Note]
    shares: list[Share]


@dataclass(frozen=True)
class AccessEntry:
    occurred_at: datetime
    action: str
    outcome: str
    record_type: str
    record_id: str
    actor: User | None
    actor_organisation: Organisation | None


@dataclass(frozen=True)
class SubjectAccessExport:
    exported_at: datetime
    organisation: Organisation
    child: Child
    referrals: list[ExportedReferral]
    merges: list[ChildMerge]
    access: list[AccessEntry] = field(default_factory=list)
    access_truncated: bool = False


def _access_entries(
    actor: User,
    child_ids: Iterable[uuid.UUID],
    referral_ids: Iterable[uuid.UUID],
    shared_only_ids: Iterable[uuid.UUID] = (),
) -> tuple[list[AccessEntry], bool]:
    """Who read or changed these referrals (every agency, as in a referral's
    access log; for those held only through a share, the actor's own agency,
    as there) and this child's record (the actor's own agency only: another
    agency's reads would say it holds something about the child)."""
    shared_only = {str(referral_id) for referral_id in shared_only_ids}
    fully_held = [str(referral_id) for referral_id in referral_ids]
    about_referrals = (AuditEvent.record_type == "referral") & or_(
        AuditEvent.record_id.in_([rid for rid in fully_held if rid not in shared_only]),
        AuditEvent.record_id.in_(sorted(shared_only))
        & (AuditEvent.actor_organisation_id == actor.organisation_id),
    )
    about_child = (
        (AuditEvent.record_type == "child")
        & AuditEvent.record_id.in_([str(child_id) for child_id in child_ids])
        & (AuditEvent.actor_organisation_id == actor.organisation_id)
    )
    rows = db.session.execute(
        select(AuditEvent, User, Organisation)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.actor_organisation_id)
        .where(or_(about_referrals, about_child))
        .order_by(AuditEvent.seq.desc())
        .limit(MAX_ACCESS_ENTRIES + 1)
    ).all()
    entries = [
        AccessEntry(
            event.occurred_at,
            event.action,
            event.outcome,
            event.record_type or "",
            event.record_id or "",
            user,
            organisation,
        )
        for event, user, organisation in rows[:MAX_ACCESS_ENTRIES]
    ]
    entries.reverse()  # oldest first, as a record reads
    return entries, len(rows) > MAX_ACCESS_ENTRIES


def export(actor: User, child_id: uuid.UUID) -> SubjectAccessExport:
    """Everything the actor's organisation holds about a visible child, for a
    subject access request: the child's details; each referral it holds about
    them with its status history, the notes it may read (shared ones and its
    own internal ones) and the shares as casework.list_shares shows them; the
    records merged into this one; and who accessed those referrals and the
    child's record (when, who, which agency, what).

    Refuses a child not visible to the actor's organisation (NotFound); the
    permission (children:export) is the route's. Audited as a disclosure to
    the actor's organisation, with the referrals it covered."""
    child = get_visible_child(actor, child_id)
    referrals = list(
        db.session.scalars(
            held_referrals(actor)
            .where(Referral.child_id == child.id)
            .order_by(Referral.created_at, Referral.id)
        ).unique()
    )
    exported = [
        ExportedReferral(
            referral=referral,
            history=casework.history(actor, referral),
            notes=casework.list_notes(actor, referral),
            shares=casework.list_shares(actor, referral),
        )
        for referral in referrals
    ]
    held_ids = {str(referral.id) for referral in referrals}
    # Merges that moved a referral this agency holds: another agency's merge
    # of records this agency never held is theirs to know.
    merges = [record for record in merges_into(child) if held_ids & set(record.moved_referral_ids)]
    shared_only = [
        referral.id
        for referral in referrals
        if not relations(actor, referral) & {Relation.REFERRING, Relation.RECEIVING}
    ]
    access, truncated = _access_entries(
        actor,
        [child.id, *(record.merged_id for record in merges)],
        [referral.id for referral in referrals],
        shared_only,
    )
    organisation = db.session.get(Organisation, actor.organisation_id)
    assert organisation is not None
    audit.record(
        "child.export",
        actor,
        record_type="child",
        record_id=child.id,
        record_ids=[referral.id for referral in referrals],
        fields=["details", "referrals", "history", "notes", "shares", "access"],
        recipient_organisation_id=actor.organisation_id,
        reason="subject access",
    )
    return SubjectAccessExport(
        exported_at=utcnow(),
        organisation=organisation,
        child=child,
        referrals=exported,
        merges=merges,
        access=access,
        access_truncated=truncated,
    )
