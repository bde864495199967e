"""A hand-counted set of referrals for the reports tests.

The report is the youth justice service's (YJS). Referrals are driven to
their status through the API, then their timestamps are set in the database,
so every figure below can be counted by hand from this table.

Received (police -> YJS), by the date submitted; the range is 1 Jan to 30 Jun 2025.
Hours are from submission to triage (T) and to closing (C):

    I1  10 Jan        high    county_lines, criminal_exploitation  closed      T 10 C 100
                                                                   outcome engaged_and_completed
    I2  20 Jan        medium  county_lines                         declined    T 20
    I3   5 Feb        low     weapon_carrying                      in_progress T 30
                              (closed declined_support, then reopened: no outcome counted)
    I4  15 Mar        high    county_lines, gang_association       accepted    T 40
    I5  20 Mar        medium  -                                    submitted, overdue (23 Mar)
    I6   1 May        low     missing_episodes                     closed      T 50 C 300
                                                                   outcome not_engaged
    I7  30 Jun 23:30  high    county_lines                         submitted, due tomorrow
    I8  10 Apr        low     substance_misuse                     withdrawn after submitting
    Not counted: submitted 31 Dec 2024 23:59 and 1 Jul 2025 00:00 (outside the
    range), a police draft, and a police draft withdrawn before submitting.

Sent (YJS -> charity), by the date submitted, or created if never submitted:

    O1  created 10 Feb  (no risk level)  -                          draft
    O2  12 Feb          high    online_harm, county_lines          accepted    T 6
    O3   1 Mar          medium  peer_violence                      closed      T 12 C 48
                                                                   outcome transferred
    O4   1 Jun          low     -                                  submitted, overdue (8 Jun)
    O6   5 Jan (created 20 Dec 2024)  medium  school_exclusion     withdrawn after submitting
    Not counted: O5, a draft created 1 Nov 2024 (outside the range).

Never counted for the YJS: a police -> charity referral the charity shared
with the YJS, and a referral between two other agencies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from referral_app.extensions import db
from referral_app.models import Referral, utcnow
from tests.referral_helpers import SHARE_REASON, Actor, World, act, create

DATE_FROM = "2025-01-01"
DATE_TO = "2025-06-30"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Fixture:
    world: World
    # name -> (id, reference)
    referrals: dict[str, tuple[str, str]] = field(default_factory=dict)

    def ids(self, *names: str) -> set[str]:
        return {self.referrals[name][0] for name in names}

    def references(self, *names: str) -> set[str]:
        return {self.referrals[name][1] for name in names}


def drive(client: FlaskClient, referral_id: str, steps: list[tuple[Actor, str, dict]]) -> None:
    for actor, action, fields in steps:
        response = act(client, actor, referral_id, action, **fields)
        assert response.status_code == 200, (action, response.json)


def set_times(app: Flask, referral_id: str, **times: datetime | None) -> None:
    with app.app_context():
        db.session.execute(
            update(Referral).where(Referral.id == uuid.UUID(referral_id)).values(**times)
        )
        db.session.commit()


def build(app: Flask, client: FlaskClient, world: World) -> Fixture:
    fixture = Fixture(world)
    officer, yjs_manager, caseworker = world.officer, world.yjs_manager, world.caseworker
    yjs_referrer, charity_manager = world.yjs_referrer, world.charity_manager
    charity_worker = world.charity_worker

    def submit(by: Actor) -> list[tuple[Actor, str, dict]]:
        return [(by, "submit", {})]

    def accept(manager: Actor, worker: Actor) -> list[tuple[Actor, str, dict]]:
        return [
            (manager, "accept", {}),
            (manager, "assign", {"assignee_id": str(worker.user.id)}),
        ]

    def close(worker: Actor, outcome: str) -> list[tuple[Actor, str, dict]]:
        return [(worker, "close", {"outcome": outcome, "outcome_summary": "Done."})]

    def make(
        name: str,
        by: Actor,
        to,
        steps: list[tuple[Actor, str, dict]],
        *,
        created: str,
        submitted: str | None = None,
        triage_hours: float | None = None,
        close_hours: float | None = None,
        deadline: datetime | None = None,
        **body: object,
    ) -> None:
        referral = create(client, by, to, **body)
        drive(client, referral["id"], steps)
        times: dict[str, datetime | None] = {"created_at": at(created)}
        if submitted is not None:
            start = at(submitted)
            times["submitted_at"] = start
            times["triage_deadline"] = deadline or start + timedelta(days=1)
            if triage_hours is not None:
                times["triaged_at"] = start + timedelta(hours=triage_hours)
            if close_hours is not None:
                times["closed_at"] = start + timedelta(hours=close_hours)
        set_times(app, referral["id"], **times)
        fixture.referrals[name] = (referral["id"], referral["reference"])

    # --- received: police -> YJS ---
    received = world.yjs
    make(
        "I1", officer, received,
        submit(officer) + accept(yjs_manager, caseworker)
        + close(caseworker, "engaged_and_completed"),
        created="2025-01-09T12:00", submitted="2025-01-10T00:00", triage_hours=10, close_hours=100,
        risk_level="high", risk_factors=["county_lines", "criminal_exploitation"],
    )  # fmt: skip
    make(
        "I2", officer, received,
        [*submit(officer), (yjs_manager, "decline", {"reason": "Out of area."})],
        created="2025-01-19T09:00", submitted="2025-01-20T09:00", triage_hours=20,
        risk_level="medium", risk_factors=["county_lines"],
    )  # fmt: skip
    make(
        "I3", officer, received,
        submit(officer) + accept(yjs_manager, caseworker) + close(caseworker, "declined_support")
        + [(yjs_manager, "reopen", {"reason": "Family asked again."})],
        created="2025-02-05T08:00", submitted="2025-02-05T10:00", triage_hours=30,
        risk_level="low", risk_factors=["weapon_carrying"],
    )  # fmt: skip
    make(
        "I4", officer, received, [*submit(officer), (yjs_manager, "accept", {})],
        created="2025-03-15T08:00", submitted="2025-03-15T08:30", triage_hours=40,
        risk_level="high", risk_factors=["county_lines", "gang_association"],
    )  # fmt: skip
    make(
        "I5", officer, received, submit(officer),
        created="2025-03-20T10:00", submitted="2025-03-20T11:00",
        deadline=at("2025-03-23T11:00"), risk_level="medium", risk_factors=[],
    )  # fmt: skip
    make(
        "I6", officer, received,
        submit(officer) + accept(yjs_manager, caseworker) + close(caseworker, "not_engaged"),
        created="2025-05-01T00:00", submitted="2025-05-01T06:00", triage_hours=50, close_hours=300,
        risk_level="low", risk_factors=["missing_episodes"],
    )  # fmt: skip
    make(
        "I7", officer, received, submit(officer),
        created="2025-06-30T20:00", submitted="2025-06-30T23:30",
        deadline=utcnow() + timedelta(days=1), risk_level="high", risk_factors=["county_lines"],
    )  # fmt: skip
    make(
        "I8", officer, received,
        [*submit(officer), (officer, "withdraw", {"reason": "Raised in error."})],
        created="2025-04-10T09:00", submitted="2025-04-10T10:00",
        risk_level="low", risk_factors=["substance_misuse"],
    )  # fmt: skip
    # Outside the range, or never sent to the YJS.
    make(
        "before", officer, received, submit(officer),
        created="2024-12-31T20:00", submitted="2024-12-31T23:59", risk_level="high",
    )  # fmt: skip
    make(
        "after", officer, received, submit(officer),
        created="2025-06-30T22:00", submitted="2025-07-01T00:00", risk_level="high",
    )  # fmt: skip
    make("police draft", officer, received, [], created="2025-03-01T00:00")
    make(
        "police withdrawn draft", officer, received,
        [(officer, "withdraw", {"reason": "Raised in error."})], created="2025-03-02T00:00",
    )  # fmt: skip

    # --- sent: YJS -> charity ---
    sent = world.charity
    make("O1", yjs_referrer, sent, [], created="2025-02-10T12:00", risk_level=None, risk_factors=[])
    make(
        "O2", yjs_referrer, sent, [*submit(yjs_referrer), (charity_manager, "accept", {})],
        created="2025-02-12T08:00", submitted="2025-02-12T09:00", triage_hours=6,
        risk_level="high", risk_factors=["online_harm", "county_lines"],
    )  # fmt: skip
    make(
        "O3", yjs_referrer, sent,
        submit(yjs_referrer) + accept(charity_manager, charity_worker)
        + close(charity_worker, "transferred"),
        created="2025-03-01T08:00", submitted="2025-03-01T09:00", triage_hours=12, close_hours=48,
        risk_level="medium", risk_factors=["peer_violence"],
    )  # fmt: skip
    make(
        "O4", yjs_referrer, sent, submit(yjs_referrer),
        created="2025-06-01T08:00", submitted="2025-06-01T09:00",
        deadline=at("2025-06-08T09:00"), risk_level="low", risk_factors=[],
    )  # fmt: skip
    make("O5", yjs_referrer, sent, [], created="2024-11-01T12:00", risk_level="low")
    make(
        "O6", yjs_referrer, sent,
        [*submit(yjs_referrer), (yjs_referrer, "withdraw", {"reason": "Family moved."})],
        created="2024-12-20T12:00", submitted="2025-01-05T09:00",
        risk_level="medium", risk_factors=["school_exclusion"],
    )  # fmt: skip

    # --- never the YJS's: shared with it, and between other agencies ---
    make(
        "shared", officer, sent, [*submit(officer), (charity_manager, "accept", {})],
        created="2025-02-01T08:00", submitted="2025-02-01T09:00", triage_hours=1,
        risk_level="high", risk_factors=["county_lines"],
    )  # fmt: skip
    share = client.post(
        f"/api/v1/referrals/{fixture.referrals['shared'][0]}/shares",
        json={
            "organisation_id": str(world.yjs.id),
            "purpose": "Joint mentoring",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        },
        headers=charity_manager.headers,
    )
    assert share.status_code == 201, share.json
    make(
        "elsewhere", world.stranger, sent, submit(world.stranger),
        created="2025-02-01T08:00", submitted="2025-02-01T09:00", triage_hours=1,
        risk_level="high", risk_factors=["county_lines"],
    )  # fmt: skip
    return fixture


RECEIVED = ("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8")
SENT = ("O1", "O2", "O3", "O4", "O6")
NEVER = ("before", "after", "police draft", "police withdrawn draft", "O5", "shared", "elsewhere")


def zeros(*keys: str) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


STATUSES = ("draft", "submitted", "accepted", "declined", "in_progress", "closed", "withdrawn")
FACTORS = (
    "criminal_exploitation",
    "county_lines",
    "weapon_carrying",
    "gang_association",
    "missing_episodes",
    "substance_misuse",
    "school_exclusion",
    "sexual_exploitation",
    "online_harm",
    "peer_violence",
    "domestic_abuse",
    "mental_health",
)
OUTCOMES = (
    "engaged_and_completed",
    "declined_support",
    "not_engaged",
    "no_further_action",
    "escalated_to_childrens_social_care",
    "transferred",
    "moved_out_of_area",
)

# The hand count (see the tables above).
EXPECTED_INCOMING = {
    "total": 8,
    "by_status": {
        **zeros(*STATUSES),
        "closed": 2,
        "declined": 1,
        "in_progress": 1,
        "accepted": 1,
        "submitted": 2,
        "withdrawn": 1,
    },
    "by_risk_level": {"low": 3, "medium": 2, "high": 3, "not_set": 0},
    "by_risk_factor": {
        **zeros(*FACTORS),
        "county_lines": 4,
        "criminal_exploitation": 1,
        "weapon_carrying": 1,
        "gang_association": 1,
        "missing_episodes": 1,
        "substance_misuse": 1,
    },
    "by_outcome": {**zeros(*OUTCOMES), "engaged_and_completed": 1, "not_engaged": 1},
    "overdue": 1,
    # 10, 20, 30, 40, 50: the median is 30; the 90th percentile sits at rank
    # 0.9 * 4 = 3.6, so 40 + 0.6 * (50 - 40) = 46.
    "time_to_triage": {"count": 5, "median_hours": 30.0, "p90_hours": 46.0},
    # 100, 300: the median is 200; the 90th percentile 100 + 0.9 * 200 = 280.
    "time_to_close": {"count": 2, "median_hours": 200.0, "p90_hours": 280.0},
    "monthly": [
        {"month": "2025-01", "count": 2},
        {"month": "2025-02", "count": 1},
        {"month": "2025-03", "count": 2},
        {"month": "2025-04", "count": 1},
        {"month": "2025-05", "count": 1},
        {"month": "2025-06", "count": 1},
    ],
}

EXPECTED_OUTGOING = {
    "total": 5,
    "by_status": {
        **zeros(*STATUSES),
        "draft": 1,
        "accepted": 1,
        "closed": 1,
        "submitted": 1,
        "withdrawn": 1,
    },
    "by_risk_level": {"low": 1, "medium": 2, "high": 1, "not_set": 1},
    "by_risk_factor": {
        **zeros(*FACTORS),
        "online_harm": 1,
        "county_lines": 1,
        "peer_violence": 1,
        "school_exclusion": 1,
    },
    "by_outcome": {**zeros(*OUTCOMES), "transferred": 1},
    "overdue": 1,
    # 6, 12: the median is 9; the 90th percentile 6 + 0.9 * 6 = 11.4.
    "time_to_triage": {"count": 2, "median_hours": 9.0, "p90_hours": 11.4},
    "time_to_close": {"count": 1, "median_hours": 48.0, "p90_hours": 48.0},
    "monthly": [
        {"month": "2025-01", "count": 1},
        {"month": "2025-02", "count": 2},
        {"month": "2025-03", "count": 1},
        {"month": "2025-04", "count": 0},
        {"month": "2025-05", "count": 0},
        {"month": "2025-06", "count": 1},
    ],
}
