"""The reports' count of "yes" indicators by theme: the latest screening of
each referral the agency holds, nothing of referrals it does not hold."""

from __future__ import annotations

from referral_app.extensions import db
from referral_app.models import User
from referral_app.services import screenings
from tests.actions.conftest import audit_events
from tests.screenings.conftest import answers, screen


def counts(app, actor) -> dict[str, tuple[int, int]]:
    with app.app_context():
        user = db.session.get(User, actor.user.id)
        found = screenings.yes_by_theme(user)
        db.session.commit()
        return {row.theme_id: (row.screenings, row.indicators) for row in found}


def test_counts_come_from_the_latest_screening_of_each_held_referral(client, app, world, referral):
    rid = referral["id"]
    screen(client, world.officer, rid, answers=answers(("weapon_found", "drugs_found")))
    screen(client, world.officer, rid, answers=answers(("missing_overnight", "missing_episodes")))
    found = counts(app, world.yjs_manager)
    assert found["missing"] == (1, 2)
    assert found["drugs_weapons"] == (0, 0)  # only in the earlier screening
    assert found["online"] == (0, 0)
    assert next(iter(found)) == "missing"  # the tool's order
    assert [
        event.action for event in audit_events(app, "report.screening_themes", world.yjs_manager)
    ]


def test_an_agency_that_holds_nothing_counts_nothing(client, app, world, referral):
    screen(client, world.officer, referral["id"], answers=answers(("weapon_found",)))
    assert set(counts(app, world.stranger_manager).values()) == {(0, 0)}
    assert counts(app, world.officer)["drugs_weapons"] == (1, 1)
