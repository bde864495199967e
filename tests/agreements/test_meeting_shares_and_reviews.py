"""Shares for a multi-agency meeting cite the agreement covering both
agencies (or the meeting as the reason); agreements near their review date
raise one notice per review date to their parties' managers."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Notification, NotificationKind, OutboxEmail, Share
from referral_app.models.agreement import Agreement
from referral_app.services import agreement_reviews
from tests.agreements.conftest import make_agreement
from tests.factories import commit_and_seal
from tests.meetings.conftest import meeting_with_agenda
from tests.meetings.test_meetings_api import held_line


def _meeting_share(client, mace):
    meeting = meeting_with_agenda(client, mace)
    item = held_line(client, mace.yjs_manager, meeting["id"], mace.yjs_referral["id"])
    shared = client.post(
        f"/api/v1/meetings/{meeting['id']}/agenda/{item['id']}/shares",
        json={"organisation_id": str(mace.charity.id)},
        headers=mace.yjs_manager.headers,
    )
    assert shared.status_code == 201, shared.json
    return shared.json


def test_a_meeting_share_cites_the_newest_agreement_covering_both_agencies(client, mace):
    today = date.today()
    make_agreement(
        client,
        mace.yjs_manager,
        mace.yjs,
        mace.charity,
        starts_on=(today - timedelta(days=300)).isoformat(),
    )
    newest = make_agreement(client, mace.yjs_manager, mace.yjs, mace.charity).json
    shared = _meeting_share(client, mace)
    assert shared["agreement_id"] == newest["id"]
    assert shared["no_agreement_reason"] is None


def test_a_meeting_share_without_an_agreement_gives_the_meeting_as_its_reason(client, mace):
    shared = _meeting_share(client, mace)
    assert shared["agreement_id"] is None
    assert shared["no_agreement_reason"].startswith("Shared for the multi-agency meeting on ")


# --- review notices -------------------------------------------------------------


def _notices(app) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.recipient_id, Notification.agreement_id).where(
                Notification.kind == NotificationKind.AGREEMENT_REVIEW_DUE
            )
        ).all()
        return sorted((row[0], row[1]) for row in rows)


def _run(app) -> int:
    with app.app_context():
        told = agreement_reviews.notify_reviews_due()
        commit_and_seal(app)
        return told


def test_a_review_within_30_days_is_told_to_every_partys_managers_once(client, app, world):
    soon = (date.today() + timedelta(days=20)).isoformat()
    later = (date.today() + timedelta(days=200)).isoformat()
    due = make_agreement(client, world.yjs_manager, world.yjs, world.charity, review_on=soon).json
    make_agreement(client, world.yjs_manager, world.yjs, world.police, review_on=later)
    assert _run(app) == 1
    expected = sorted(
        (actor.user.id, uuid.UUID(due["id"]))
        for actor in (world.yjs_manager, world.charity_manager)
    )
    assert _notices(app) == expected
    assert _run(app) == 0  # idempotent: once per agreement and review date
    assert _notices(app) == expected
    with app.app_context():
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
        assert subjects.count("An information sharing agreement is due for review") == 2
    listed = client.get("/api/v1/notifications", headers=world.charity_manager.headers).json
    (notice,) = [n for n in listed if n["kind"] == "agreement_review_due"]
    assert notice["agreement_id"] == due["id"]
    assert "due for review" in notice["notice"]


def test_a_new_review_date_is_told_again_and_an_ended_agreement_never(client, app, world):
    soon = date.today() + timedelta(days=10)
    due = make_agreement(
        client, world.yjs_manager, world.yjs, world.charity, review_on=soon.isoformat()
    ).json
    make_agreement(
        client,
        world.yjs_manager,
        world.yjs,
        world.police,
        review_on=soon.isoformat(),
        ends_on=(date.today() - timedelta(days=1)).isoformat(),
        starts_on=(date.today() - timedelta(days=40)).isoformat(),
    )
    assert _run(app) == 1
    with app.app_context():
        agreement = db.session.get(Agreement, uuid.UUID(due["id"]))
        assert agreement is not None
        agreement.review_on = soon + timedelta(days=5)
        commit_and_seal(app)
    assert _run(app) == 1
    assert len(_notices(app)) == 4


def test_the_review_job_is_a_daily_periodic_task():
    from datetime import datetime

    from tests.test_jobs import runs_at

    assert runs_at("agreements_review_due", datetime(2026, 11, 30, 7, 10))
    assert not runs_at("agreements_review_due", datetime(2026, 11, 30, 8, 10))


def test_an_agreement_share_records_no_reason(client, app, world):
    from tests.agreements.conftest import share
    from tests.referral_helpers import advance, create

    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "accepted")
    agreement = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    grant = share(
        client,
        world.yjs_manager,
        made["id"],
        world.charity,
        agreement_id=agreement["id"],
        no_agreement_reason="Also an emergency, said twice over",
    ).json
    with app.app_context():
        stored = db.session.get(Share, uuid.UUID(grant["id"]))
        assert stored is not None
        assert stored.agreement_id == uuid.UUID(agreement["id"])
        assert stored.no_agreement_reason is None
