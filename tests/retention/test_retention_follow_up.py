"""Retention reaches the work after a referral: the actions agreed (what to
do, how it ended) and the meetings' discussions of a child past retention
are removed with the rest; a child still within it keeps them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    AgendaDecision,
    AgendaItem,
    Referral,
    User,
    uk_today,
    utcnow,
)
from referral_app.services import actions, meeting_agenda, meetings
from referral_app.services.retention import REMOVED
from tests.factories import commit_and_seal
from tests.retention.test_retention import age, cases, world  # noqa: F401 (fixtures)


def _follow_up_on(app, world, referral_id: str, words: str) -> None:  # noqa: F811
    with app.app_context():
        manager = db.session.get(User, world.yjs_manager.user.id)
        referral = db.session.get(Referral, uuid.UUID(referral_id))
        action = actions.create_action(
            manager,
            referral,
            description=f"Mentor for {words}",
            owning_organisation_id=world.yjs.id,
            due_on=uk_today(),
        )
        actions.close_action(manager, action, status=ActionStatus.DONE, note=f"{words} met")
        meeting = meetings.convene(
            manager,
            title="MACE meeting",
            held_at=utcnow() - timedelta(hours=1),
            invited_organisation_ids=[world.police.id],
            online=True,
        )
        item = meeting_agenda.add_to_agenda(manager, meeting, referral.id)
        meeting_agenda.record_item(
            manager,
            meeting,
            item.id,
            decision=AgendaDecision.CLOSE,
            discussion=f"{words} is doing well",
        )
        commit_and_seal(app)


def _texts(app, referral_id: str) -> list[str | None]:
    with app.app_context():
        rid = uuid.UUID(referral_id)
        found: list[str | None] = []
        for action in db.session.scalars(select(Action).where(Action.referral_id == rid)):
            found += [action.description, action.closing_note]
        for item in db.session.scalars(select(AgendaItem).where(AgendaItem.referral_id == rid)):
            found.append(item.discussion)
        return found


def test_actions_and_discussions_go_with_the_child_past_retention(app, world, cases):  # noqa: F811
    _follow_up_on(app, world, cases["old"]["id"], "Oldname")
    _follow_up_on(app, world, cases["recent"]["id"], "Recentname")
    age(app, cases["old"]["id"], 7 * 365)
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert _texts(app, cases["old"]["id"]) == [REMOVED, REMOVED, REMOVED]
    assert _texts(app, cases["recent"]["id"]) == [
        "Mentor for Recentname",
        "Recentname met",
        "Recentname is doing well",
    ]


def test_screening_evidence_and_reasons_go_with_the_child_past_retention(app, world, cases):  # noqa: F811
    from referral_app import screening_tools
    from referral_app.models import RiskLevel, Screening
    from referral_app.services import screenings
    from tests.screenings.conftest import answers

    first = screening_tools.current().indicators[0].id
    with app.app_context():
        manager = db.session.get(User, world.yjs_manager.user.id)
        for name in ("old", "recent"):
            referral = db.session.get(Referral, uuid.UUID(cases[name]["id"]))
            screenings.complete(
                manager,
                referral,
                answers=answers(yes=(first,)),
                judgement_level=RiskLevel.HIGH,
                judgement_reason=f"{name} reason",
            )
        commit_and_seal(app)
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output

    def kept(name: str) -> tuple[str | None, str | None, str]:
        with app.app_context():
            rid = uuid.UUID(cases[name]["id"])
            screening = db.session.scalars(
                select(Screening).where(Screening.referral_id == rid)
            ).one()
            answer = screening.answers[first]
            return answer.get("evidence"), screening.judgement_reason, answer["answer"]

    assert kept("old") == (REMOVED, REMOVED, "yes")
    assert kept("recent") == (f"Seen: {first}.", "recent reason", "yes")
