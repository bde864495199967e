"""The demo's exploitation screenings (services.demo_screenings): two
screenings of one referral a fortnight apart with the level rising and a
judgement lower than the tool's with its reason, and a second referral
screened and not yet judged; seen only by the agencies that hold them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Referral, RiskLevel, Screening
from referral_app.services import screenings
from tests.test_demo import person, runner, seeded  # noqa: F401 (fixtures)


def test_the_demo_screens_two_referrals_and_judges_one(app: Flask, seeded) -> None:  # noqa: F811
    with app.app_context():
        made = list(db.session.scalars(select(Screening).order_by(Screening.completed_at)))
        assert len(made) == 3
        by_referral: dict = {}
        for screening in made:
            by_referral.setdefault(screening.referral_id, []).append(screening)
        twice = next(found for found in by_referral.values() if len(found) == 2)
        earlier, later = twice
        assert (later.completed_at - earlier.completed_at).days == 14
        levels = list(RiskLevel)
        assert levels.index(later.indicated_level) > levels.index(earlier.indicated_level)
        assert later.judgement_level is RiskLevel.MEDIUM != later.indicated_level
        assert later.judgement_reason
        assert "mentor" in later.judgement_reason
        assert earlier.judgement_level is None
        # Seen by the youth justice manager, who holds the referral...
        manager = person("manager@essex-yjs.demo")
        referral = db.session.get(Referral, later.referral_id)
        assert referral is not None
        assert [s.id for s in screenings.list_screenings(manager, referral)] == [
            later.id,
            earlier.id,
        ]
        db.session.rollback()
