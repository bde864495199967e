"""Finding the same child: the likely records of a described child the
actor's organisation can see, and how many others hold (a count only,
near-exact matches only, within a per-user allowance: not an oracle)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, or_, select

from referral_app import throttling
from referral_app.extensions import db
from referral_app.models import (
    Child,
    User,
)
from referral_app.services import audit
from referral_app.services.child_likeness import (
    LIKELY_SCORE,
    MAX_MATCHES,
    ChildDetails,
    Score,
    candidate_dates,
    normalise_name,
    score,
)
from referral_app.services.children import beyond_holdings
from referral_app.services.errors import TooMany
from referral_app.services.scoping import (
    child_is_visible,
)


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
        Child.date_of_birth.in_(sorted(candidate_dates(date_of_birth)))
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
    with beyond_holdings():
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
