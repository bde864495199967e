"""No leaks after the referral, by property: the state machine of
test_no_leaks.py (create, submit, accept, decline, withdraw, share, revoke,
expire, note, read by four agencies) with the work after a referral added:
actions, multi-agency meetings (convened with some agencies, referrals put
on the agenda, shares for the meeting) and the child's chronology.

Checked in turn after every step, for each agency against the model:
- a referral's actions: 200 with exactly its actions for a holder, 404 for
  anyone else, and each action 404 outside the holders;
- the agency's action worklist: exactly the actions it owns on referrals it
  still holds;
- a meeting: 404 for an agency not taking part; for one taking part, every
  agenda line, with details exactly where it holds the referral and, where
  it does not, nothing but the line's id and position (the referral's id
  appears nowhere in the answer);
- a child's chronology: 404 for an agency that holds nothing about the
  child (an invited agency that holds nothing sees nothing), and events
  from exactly the referrals it holds that have a history;
- a referral's exploitation screenings: 200 with exactly its screenings for
  a holder, 404 for anyone else, and each screening 404 outside the holders.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import and_, true

from blueprints.api import screenings as screenings_api
from referral_app import screening_tools
from referral_app.extensions import db
from referral_app.models import Referral, Share, uk_today, utcnow
from referral_app.services import actions, meeting_agenda, scoping
from referral_app.services.errors import NotFound
from tests.properties.test_no_leaks import (
    AGENCIES,
    API,
    STEPS,
    ReferralModel,
    ShareModel,
    actor,
    agency,
    expect,
    no_leaks_machine,
)

# Each example also runs every rule of the referral machine: fewer are
# enough for the new routes (HYPOTHESIS_EXAMPLES raises both).
EXAMPLES = max(100, int(os.environ.get("HYPOTHESIS_EXAMPLES") or 100))
LINE_KEYS = {"id", "position", "held_by_others"}


@dataclass
class ActionModel:
    id: str
    referral_id: str
    owner: int


@dataclass
class ScreeningModel:
    id: str
    referral_id: str


@dataclass
class ItemModel:
    id: str
    referral_id: str


@dataclass
class MeetingModel:
    id: str
    convener: int
    taking_part: set[int]
    items: list[ItemModel] = field(default_factory=list)


def follow_up_machine(app: Flask, client: FlaskClient) -> type:
    base = no_leaks_machine(app, client)

    class FollowUp(base):  # type: ignore[misc, valid-type]
        meeting_ids = Bundle("meeting_ids")

        def __init__(self) -> None:
            super().__init__()
            self.actions: list[ActionModel] = []
            self.meetings: dict[str, MeetingModel] = {}
            self.screenings: list[ScreeningModel] = []
            self.follow_turn = 0

        # Reading through the API.

        def check_actions(self, org: int, referral: ReferralModel) -> None:
            response = client.get(
                f"{API}/referrals/{referral.id}/actions", headers=self.referrers[org]
            )
            held = self.holds(org, referral)
            expect(response, 200 if held else 404, f"GET actions by {org}")
            mine = [a for a in self.actions if a.referral_id == referral.id]
            if held:
                got = sorted(item["id"] for item in response.json)
                assert got == sorted(a.id for a in mine), (f"actions for {org}", got)
            for action in mine:
                one = client.get(f"{API}/actions/{action.id}", headers=self.referrers[org])
                expect(one, 200 if held else 404, f"GET action by {org}")

        def check_worklist(self, org: int) -> None:
            ids: list[str] = []
            page = 1
            while True:
                response = client.get(
                    f"{API}/actions",
                    query_string={"scope": "agency", "status": "all", "page": page},
                    headers=self.managers[org],
                )
                assert response.status_code == 200, response.json
                ids += [item["id"] for item in response.json]
                if len(response.json) < 25:
                    break
                page += 1
            wanted = sorted(
                a.id
                for a in self.actions
                if a.owner == org and self.holds(org, self.referrals[a.referral_id])
            )
            assert sorted(ids) == wanted, (f"worklist of agency {org}", ids, wanted)

        def check_meeting(self, org: int, meeting: MeetingModel) -> None:
            response = client.get(f"{API}/meetings/{meeting.id}", headers=self.referrers[org])
            taking_part = org in meeting.taking_part
            expect(response, 200 if taking_part else 404, f"GET meeting by {org}")
            text = response.get_data(as_text=True)
            if not taking_part:
                for item in meeting.items:
                    assert item.referral_id not in text
                return
            lines = {line["id"]: line for line in response.json["agenda"]}
            assert sorted(lines) == sorted(item.id for item in meeting.items)
            for item in meeting.items:
                referral = self.referrals[item.referral_id]
                line = lines[item.id]
                if self.holds(org, referral):
                    assert line["held_by_others"] is False, (f"line for {org}", line)
                    assert line["referral"]["id"] == referral.id
                else:
                    assert set(line) == LINE_KEYS, (f"line for {org}", line)
                    assert line["held_by_others"] is True
                    assert referral.id not in text, (f"meeting seen by {org}", referral.id)
                    if not self.sees_child(org, referral.child):
                        assert referral.child.last_name not in text

        def check_chronology(self, org: int, referral: ReferralModel) -> None:
            child = referral.child
            response = client.get(
                f"{API}/children/{child.id}/chronology", headers=self.referrers[org]
            )
            visible = self.sees_child(org, child)
            expect(response, 200 if visible else 404, f"GET chronology by {org}")
            if not visible:
                assert child.last_name not in response.get_data(as_text=True)
                return
            got = {entry["referral"]["id"] for entry in response.json["entries"]}
            wanted = {
                r.id
                for r in self.about(child)
                if self.holds(org, r)
                and (r.history or any(a.referral_id == r.id for a in self.actions))
            }
            assert got == wanted, (f"chronology for {org}", got, wanted)

        def check_screenings(self, org: int, referral: ReferralModel) -> None:
            response = client.get(
                f"{API}/referrals/{referral.id}/screenings", headers=self.referrers[org]
            )
            held = self.holds(org, referral)
            expect(response, 200 if held else 404, f"GET screenings by {org}")
            mine = [s for s in self.screenings if s.referral_id == referral.id]
            if held:
                got = sorted(item["id"] for item in response.json)
                assert got == sorted(s.id for s in mine), (f"screenings for {org}", got)
            for screening in mine:
                one = client.get(
                    f"{API}/referrals/{referral.id}/screenings/{screening.id}",
                    headers=self.referrers[org],
                )
                expect(one, 200 if held else 404, f"GET screening by {org}")

        # Rules.

        @rule(rid=base.referral_ids, who=actor)
        def screen(self, rid: str, who: int | None) -> None:
            """An agency completes a screening of a referral (every indicator no)."""
            referral = self.referrals[rid]
            org = referral.referring if who is None else who
            response = client.post(
                f"{API}/referrals/{rid}/screenings",
                json={
                    "answers": {
                        indicator.id: {"answer": "no"}
                        for indicator in screening_tools.current().indicators
                    }
                },
                headers=self.referrers[org],
            )
            if not self.holds(org, referral):
                expected = 404
            elif referral.status == "draft":
                expected = 409
            else:
                expected = 201
            expect(response, expected, f"screening by {org}")
            if expected == 201:
                self.screenings.append(ScreeningModel(response.json["id"], rid))

        @rule(rid=base.referral_ids, who=actor, other_owner=st.booleans())
        def add_action(self, rid: str, who: int | None, other_owner: bool) -> None:
            """An agency adds an action on a referral for itself (or, refused
            outside a meeting, for another agency)."""
            referral = self.referrals[rid]
            org = referral.referring if who is None else who
            owner = (org + 1) % AGENCIES if other_owner else org
            response = client.post(
                f"{API}/referrals/{rid}/actions",
                json={
                    "description": f"Action by agency {org}",
                    "due_on": uk_today().isoformat(),
                    "owning_organisation_id": str(self.orgs[owner].id),
                },
                headers=self.referrers[org],
            )
            if not self.holds(org, referral):
                expected = 404
            elif referral.status == "draft" or other_owner:
                expected = 409  # or 422: any refusal
            else:
                expected = 201
            expect(response, expected, f"action by {org}")
            if expected == 201:
                self.actions.append(ActionModel(response.json["id"], rid, org))

        @rule(target=meeting_ids, convener=agency, invited=st.sets(agency, max_size=AGENCIES))
        def convene(self, convener: int, invited: set[int]) -> Any:
            others = invited - {convener}
            response = client.post(
                f"{API}/meetings",
                json={
                    "title": "MACE meeting",
                    "held_at": (utcnow() - timedelta(hours=1)).isoformat(),
                    "online": True,
                    "invited_organisation_ids": [str(self.orgs[o].id) for o in sorted(others)],
                },
                headers=self.managers[convener],
            )
            expect(response, 201 if others else 422, f"convene by {convener}")
            if not others:
                return multiple()
            mid = response.json["id"]
            self.meetings[mid] = MeetingModel(mid, convener, others | {convener})
            return mid

        @rule(mid=meeting_ids, rid=base.referral_ids, who=agency)
        def put_on_agenda(self, mid: str, rid: str, who: int) -> None:
            meeting, referral = self.meetings[mid], self.referrals[rid]
            response = client.post(
                f"{API}/meetings/{mid}/agenda",
                json={"referral_id": rid},
                headers=self.managers[who],
            )
            if who not in meeting.taking_part or not self.holds(who, referral):
                expected = 404
            elif referral.status == "draft" or any(i.referral_id == rid for i in meeting.items):
                expected = 409
            else:
                expected = 201
            expect(response, expected, f"agenda by {who}")
            if expected == 201:
                meeting.items.append(ItemModel(response.json["id"], rid))

        @precondition(lambda self: any(m.items for m in self.meetings.values()))
        @rule(pick=st.integers(min_value=0, max_value=50), to=agency, who=actor)
        def share_for_meeting(self, pick: int, to: int, who: int | None) -> None:
            """A manager shares an agenda line's referral with an agency
            taking part, for the meeting."""
            lines = [(m, i) for m in self.meetings.values() for i in m.items]
            meeting, item = lines[pick % len(lines)]
            referral = self.referrals[item.referral_id]
            org = referral.referring if who is None else who
            response = client.post(
                f"{API}/meetings/{meeting.id}/agenda/{item.id}/shares",
                json={"organisation_id": str(self.orgs[to].id)},
                headers=self.managers[org],
            )
            if org not in meeting.taking_part:
                expected = 404
            elif (
                self.manages(org, referral)
                and to in meeting.taking_part
                and to not in (referral.referring, referral.receiving)
                and not any(s.organisation == to and s.live for s in referral.shares)
            ):
                expected = 201
            else:
                expected = 403  # or 409, 422: any refusal
            expect(response, expected, f"meeting share by {org} to {to}")
            if expected == 201:
                grant = ShareModel(response.json["id"], referral.id, to)
                referral.shares.append(grant)
                self.shares.append(grant)
                self.changed = True

        # Invariants.

        @invariant()
        def one_agency_reads_the_follow_up(self) -> None:
            """After every step, one check of the work after a referral for
            one agency, in turn."""
            self.follow_turn += 1
            org = self.follow_turn % AGENCIES
            check = (self.follow_turn // AGENCIES) % 5
            ids = list(self.referrals)
            if check == 0 and ids:
                self.check_actions(org, self.referrals[ids[self.follow_turn % len(ids)]])
            elif check == 1:
                self.check_worklist(org)
            elif check == 2 and self.meetings:
                meetings = list(self.meetings.values())
                self.check_meeting(org, meetings[self.follow_turn % len(meetings)])
            elif check == 3 and ids:
                self.check_chronology(org, self.referrals[ids[self.follow_turn % len(ids)]])
            elif check == 4 and ids:
                self.check_screenings(org, self.referrals[ids[self.follow_turn % len(ids)]])

    return FollowUp


def test_no_agency_sees_follow_up_it_does_not_hold(app: Flask, client: FlaskClient) -> None:
    run_state_machine_as_test(
        follow_up_machine(app, client),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=False,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def _any_referral(actor: Any, referral_id: uuid.UUID) -> Referral:
    """A faulty rule: any referral, held or not."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    return referral


def test_the_model_catches_a_meeting_that_shows_every_line(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A meeting view that forgets who holds what is caught, and so is an
    actions list that forgets it."""
    machine = follow_up_machine(app, client)()
    rid = machine.create(referring=0, offset=1, known=None, then="submit")
    mid = machine.convene(convener=3, invited={0, 1, 2})
    machine.put_on_agenda(mid, rid, who=0)
    machine.add_action(rid, who=1, other_owner=False)
    machine.screen(rid, who=1)
    meeting = machine.meetings[mid]
    for org in range(AGENCIES):
        machine.check_meeting(org, meeting)
        machine.check_actions(org, machine.referrals[rid])
        machine.check_chronology(org, machine.referrals[rid])
        machine.check_screenings(org, machine.referrals[rid])

    def everyone_holds(organisation_id: uuid.UUID, now: Any = None) -> Any:
        return true()

    monkeypatch.setattr(meeting_agenda, "holds", everyone_holds)
    with pytest.raises(AssertionError, match="line for 3"):
        machine.check_meeting(3, meeting)
    monkeypatch.setattr(actions, "holds", everyone_holds)
    with pytest.raises(AssertionError, match="GET action by 2"):
        machine.check_actions(2, machine.referrals[rid])
    monkeypatch.undo()
    # A screening read that forgets who holds the referral is caught too.
    monkeypatch.setattr(screenings_api, "get_held_referral", _any_referral)
    with pytest.raises(AssertionError, match="GET screening"):
        machine.check_screenings(2, machine.referrals[rid])
    monkeypatch.undo()
    # A share with agency 2, revoked: a rule that forgets revocation shows
    # agency 2 the child's chronology.
    machine.share(rid, who=None, to=2, receiver=True, days=30)
    machine.revoke(0, who=None)
    machine.check_chronology(2, machine.referrals[rid])

    def forgets_revocation(organisation_id: uuid.UUID, now: datetime) -> Any:
        return and_(Share.organisation_id == organisation_id, Share.expires_at > now)

    monkeypatch.setattr(scoping, "live_share", forgets_revocation)
    with pytest.raises(AssertionError, match="GET chronology by 2"):
        machine.check_chronology(2, machine.referrals[rid])
