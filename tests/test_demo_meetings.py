"""The demo's multi-agency work (services.demo_meetings): a meeting two
weeks ago and the next one, seen by each demo user as the rules say."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Action, ActionStatus, Meeting
from referral_app.services import meeting_agenda, meetings
from referral_app.services.scoping import organisation_holds
from tests.test_demo import person, runner, seeded  # noqa: F401 (fixtures)


def _meetings() -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).order_by(Meeting.held_at)))


def test_the_demo_holds_a_meeting_and_the_next_carrying_both_children(
    app: Flask,
    seeded,  # noqa: F811
) -> None:
    with app.app_context():
        held, upcoming = _meetings()
        assert upcoming.follows_id == held.id
        chair = person("manager@essex-cc.demo")
        view = meeting_agenda.view(chair, held)
        # Two lines: the police's, shared with the council for the meeting,
        # and the youth justice service's, which the council does not hold.
        assert [line.referral is not None for line in view.items] == [True, False]
        assert [
            line.referral is not None for line in meeting_agenda.view(chair, upcoming).items
        ] == [
            True,
            False,
        ]
        # The youth justice service received both; the charity sees the
        # details of exactly those it holds (a demo share), no others.
        yjs = person("manager@essex-yjs.demo")
        assert [line.referral is not None for line in meeting_agenda.view(yjs, held).items] == [
            True,
            True,
        ]
        charity = person("manager@safer-futures.demo")
        lines = meeting_agenda.view(charity, held).items
        assert [line.referral is not None for line in lines] == [
            organisation_holds(charity.organisation_id, line.item.referral_id) for line in lines
        ]
        assert any(line.referral is None for line in lines)
        # The meeting's actions (the demo's consent story adds one of its own).
        agreed = select(Action).where(Action.meeting_id.is_not(None))
        statuses = sorted(action.status for action in db.session.scalars(agreed))
        assert statuses.count(ActionStatus.OPEN) == 3
        assert statuses.count(ActionStatus.DONE) == 1
        # The charity sent apologies; everyone else attended.
        attendance = {
            invitation.organisation.code: invitation.attendance
            for invitation in meetings.invitations(held)
        }
        assert attendance["safer-futures"] == "apologies"
        assert attendance["essex-cc-childrens"] == "attended"
        db.session.rollback()


def test_seeding_twice_adds_no_second_meeting(app: Flask, runner, seeded) -> None:  # noqa: F811
    with app.app_context():
        again = runner.invoke(args=["seed-demo"])
        assert again.exit_code == 0, again.output
        assert len(_meetings()) == 2
