"""The demo's exploitation screenings, told through services.screenings
after the referrals (services.demo_referrals): the first referral the
police made to the youth justice service and are working has two
screenings a fortnight apart (the level rising from medium to high) and
the youth justice manager's judgement of the later one, lower than the
tool's with a reason; the second has one screening not yet judged.

The only times written directly (as services.demo_meetings does): when
each screening was completed and judged."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from referral_app import screening_tools
from referral_app.extensions import db
from referral_app.models import UK, Organisation, RiskLevel, Screening, User
from referral_app.services import screenings
from referral_app.services.demo_meetings import _open_referral

REFERRER = "referrer@essex-police.demo"
MANAGER = "manager@essex-yjs.demo"

EVIDENCE = {
    "missing_episodes": "Reported missing twice since September; found in Basildon both times.",
    "several_phones": "Two phones seized on arrest; he says one is his cousin's.",
    "older_associates": "Seen with two adults known for supplying class A drugs.",
    "found_out_of_area": "Stopped at Southend Victoria station on a school day.",
    "absence": "Attendance 61% this term.",
    "missing_overnight": "Missing overnight on Friday; came back with a new jacket.",
    "unexplained_money": "Had £340 in cash when stopped.",
    "drugs_found": "Wraps of cocaine found in his bag.",
}


def _answers(yes: tuple[str, ...]) -> dict[str, Any]:
    return {
        indicator.id: (
            {"answer": "yes", "evidence": EVIDENCE[indicator.id]}
            if indicator.id in yes
            else {"answer": "no"}
        )
        for indicator in screening_tools.current().indicators
    }


def _at(days_ago: int, hour: int) -> datetime:
    day = datetime.now(UK).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 0), tzinfo=UK).astimezone(UTC)


def _dated(screening: Screening, days_ago: int) -> Screening:
    screening.completed_at = _at(days_ago, 11)
    if screening.judged_at is not None:
        screening.judged_at = _at(days_ago, 15)
    return screening


def load_screenings() -> int:
    """Tell the screening story; returns how many screenings it made (none
    when the demo referrals it needs are not there)."""
    referrer = db.session.scalars(select(User).where(User.email == REFERRER)).one()
    manager = db.session.scalars(select(User).where(User.email == MANAGER)).one()
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    police, yjs = agencies["essex-police"], agencies["essex-yjs"]
    first, second = _open_referral(police, yjs, 0), _open_referral(police, yjs, 1)
    if first is None or second is None:
        return 0
    earlier = ("missing_episodes", "several_phones", "absence")
    _dated(screenings.complete(referrer, first, answers=_answers(earlier)), 21)
    later = screenings.complete(
        referrer,
        first,
        answers=_answers((*earlier, "older_associates", "found_out_of_area", "missing_overnight")),
    )
    screenings.judge(
        manager,
        later,
        level=RiskLevel.MEDIUM,
        reason=(
            "The adults he was seen with are his uncle's friends; he is engaging with his "
            "mentor and has not gone missing since. Review at the next MACE."
        ),
    )
    _dated(later, 7)
    _dated(
        screenings.complete(
            referrer,
            second,
            answers=_answers(("unexplained_money", "drugs_found", "several_phones")),
        ),
        3,
    )
    db.session.flush()
    return 3
