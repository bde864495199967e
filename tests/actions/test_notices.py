"""The morning's notices about actions (services.action_notices.notify_due, run
daily by jobs.actions_due): due tomorrow once, overdue once more, never for
a closed action or one whose agency no longer holds the referral; each
with an e-mail that carries no personal data."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from referral_app import jobs
from referral_app.extensions import db
from referral_app.models import Notification, OutboxEmail, uk_today
from referral_app.services import action_notices
from tests.actions.conftest import add_action, due_in
from tests.factories import commit_and_seal
from tests.referral_helpers import share_with


def sweep(app, on: date) -> int:
    """The daily sweep as if run on `on`, committed as the job commits."""
    with app.app_context():
        told = action_notices.notify_due(on)
        commit_and_seal(app)
        return told


def notices(app, user_id: uuid.UUID) -> list[str]:
    """The action notices a user was sent, oldest first."""
    with app.app_context():
        return [
            str(kind)
            for kind in db.session.scalars(
                select(Notification.kind)
                .where(
                    Notification.recipient_id == user_id,
                    Notification.kind.in_(("action_due", "action_overdue")),
                )
                .order_by(Notification.created_at)
            )
        ]


def test_an_action_due_tomorrow_tells_its_owner_once_and_once_more_when_overdue(
    app, client, world, referral
):
    due = uk_today() + timedelta(days=3)
    add_action(
        client,
        world.yjs_manager,
        referral["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due.isoformat(),
    )
    owner = world.caseworker.user.id
    assert sweep(app, due - timedelta(days=2)) == 0  # not yet
    assert sweep(app, due - timedelta(days=1)) == 1
    assert sweep(app, due - timedelta(days=1)) == 0  # the sweep ran twice: told once
    assert notices(app, owner) == ["action_due"]
    assert sweep(app, due) == 0  # due today: told yesterday
    assert sweep(app, due + timedelta(days=1)) == 1
    assert notices(app, owner) == ["action_due", "action_overdue"]
    for later in (1, 2, 30):
        assert sweep(app, due + timedelta(days=later)) == 0
    assert notices(app, owner) == ["action_due", "action_overdue"]
    # Nobody else heard of it.
    assert notices(app, world.yjs_manager.user.id) == []


def test_an_action_first_seen_overdue_is_told_once(app, client, world, referral):
    due = uk_today() + timedelta(days=1)
    add_action(
        client,
        world.yjs_manager,
        referral["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due.isoformat(),
    )
    assert sweep(app, due + timedelta(days=5)) == 1
    assert sweep(app, due + timedelta(days=6)) == 0
    assert notices(app, world.caseworker.user.id) == ["action_overdue"]


def test_an_action_with_nobody_named_tells_the_agencys_managers(
    app, client, world, factory, referral
):
    from referral_app.models import Role

    second_manager = factory.user(Role.MANAGER, organisation=world.yjs)
    due = uk_today() + timedelta(days=2)
    add_action(client, world.caseworker, referral["id"], due_on=due.isoformat())
    assert sweep(app, due - timedelta(days=1)) == 1
    assert notices(app, world.yjs_manager.user.id) == ["action_due"]
    assert notices(app, second_manager.id) == ["action_due"]
    assert notices(app, world.caseworker.user.id) == []  # not named: not theirs alone
    assert notices(app, world.police_manager.user.id) == []


def test_a_closed_action_is_never_told_of(app, client, world, referral):
    due = uk_today() + timedelta(days=2)
    action = add_action(
        client,
        world.yjs_manager,
        referral["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due.isoformat(),
    ).json
    closed = client.post(
        f"/api/v1/actions/{action['id']}/close",
        json={"status": "cancelled", "note": "No longer needed."},
        headers=world.caseworker.headers,
    )
    assert closed.status_code == 200
    for day in (due - timedelta(days=1), due + timedelta(days=1)):
        assert sweep(app, day) == 0
    assert notices(app, world.caseworker.user.id) == []


def test_an_action_whose_agency_no_longer_holds_the_referral_is_never_told_of(
    app, client, world, referral
):
    rid = referral["id"]
    share = share_with(client, world, rid, world.charity)
    due = uk_today() + timedelta(days=2)
    add_action(
        client,
        world.charity_worker,
        rid,
        owner_id=str(world.charity_worker.user.id),
        due_on=due.isoformat(),
    )
    revoked = client.delete(
        f"/api/v1/referrals/{rid}/shares/{share['id']}", headers=world.yjs_manager.headers
    )
    assert revoked.status_code == 200
    for day in (due - timedelta(days=1), due + timedelta(days=1)):
        assert sweep(app, day) == 0
    assert notices(app, world.charity_worker.user.id) == []
    assert notices(app, world.charity_manager.user.id) == []


def test_each_notice_sends_an_email_with_no_personal_data(app, client, world, referral):
    due = uk_today() + timedelta(days=2)
    description = "Call Jayden's mother about the county line contact"
    add_action(
        client,
        world.yjs_manager,
        referral["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due.isoformat(),
        description=description,
    )
    with app.app_context():
        before = set(db.session.scalars(select(OutboxEmail.id)))
    assert sweep(app, due - timedelta(days=1)) == 1
    with app.app_context():
        sent = [
            email for email in db.session.scalars(select(OutboxEmail)) if email.id not in before
        ]
        assert [email.recipient for email in sent] == [world.caseworker.user.email]
        [email] = sent
        assert email.subject == f"Referral {referral['reference']} has an action due tomorrow"
        assert f"/referrals/{referral['id']}" in email.body
        for personal in ("Jayden", "Miller", "2011", "SS1", "Southend", description, "mother"):
            assert personal not in email.subject + email.body


def test_the_daily_job_runs_the_sweep(app, client, world, referral):
    add_action(
        client,
        world.yjs_manager,
        referral["id"],
        owner_id=str(world.caseworker.user.id),
        due_on=due_in(1),
    )
    with app.app_context():
        assert jobs.actions_due.call_local() == 1
        assert jobs.actions_due.call_local() == 0
    assert notices(app, world.caseworker.user.id) == ["action_due"]


def test_the_daily_job_runs_in_the_morning():
    from datetime import datetime

    task = next(
        task for task in jobs.huey._registry._periodic_tasks if task.__name__ == "actions_due"
    )
    hours = [hour for hour in range(24) if task().validate_datetime(datetime(2026, 12, 1, hour, 0))]
    assert hours == [7]
