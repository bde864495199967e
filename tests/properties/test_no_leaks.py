"""No leaks, by property: a Hypothesis state machine drives the JSON API with
random sequences of create, submit, accept, decline, withdraw, share, revoke,
expire (time passing), note and read, by four fresh agencies per example, and
checks after every step that each agency sees exactly what DESIGN section 4
says it holds: in lists, counts and searches, on every referral and child
route, and in the notes and shares it is shown.

The model: an agency holds a referral when it is the referring agency, the
receiving agency once the referral has been submitted, or has a live share
(not revoked, not expired). A child is visible to an agency that holds any
referral about the child. `internal` notes are seen by the author's agency
only; `shared` ones by every holder. The referring and receiving agencies see
every share of a referral; a shared agency sees only its own.

Every example makes its own agencies and people and looks only at their
data; it runs inside a savepoint of the test's transaction that is rolled back
when the example ends, so the run does not pile up rows or locks.
`HYPOTHESIS_EXAMPLES` raises the number of examples for long local runs.
"""

from __future__ import annotations

import itertools
import json
import os
import string
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
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import and_
from sqlalchemy.engine import Connection

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role, Share, utcnow
from referral_app.services import scoping
from tests.factories import Factory, OrgInfo, bearer, token_for
from tests.referral_helpers import SHARE_REASON, act, create, make_world, referral_body

AGENCIES = 4
# Never fewer than 200: the variable can only ask for more.
EXAMPLES = max(200, int(os.environ.get("HYPOTHESIS_EXAMPLES") or 200))
STEPS = 12
API = "/api/v1"
# A holder refused an action it has no right to, or one the state forbids.
REFUSED = frozenset({403, 409, 422})
ERROR_KEYS = frozenset({"code", "status", "message", "errors"})
TARGET_STATUS = {
    "submit": "submitted",
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrawn",
}
# The routes that read a referral ("" is the referral itself) and its child.
ROUTES = ("", "/notes", "/history", "/shares", "child")

agency = st.integers(min_value=0, max_value=AGENCIES - 1)
# None: the agency that would naturally act (the referrer's, or the receiver's).
actor = st.none() | agency

_child_numbers = itertools.count()


def unique_last_name() -> str:
    """Distinct names of one length: none is a substring of another, so a
    search for one finds that child only."""
    n = next(_child_numbers)
    letters = []
    for _ in range(7):
        n, digit = divmod(n, 26)
        letters.append(string.ascii_lowercase[digit])
    return "Q" + "".join(reversed(letters))


@dataclass
class ShareModel:
    id: str
    referral_id: str
    organisation: int
    revoked: bool = False
    expired: bool = False

    @property
    def live(self) -> bool:
        return not self.revoked and not self.expired


@dataclass
class NoteModel:
    id: str
    organisation: int
    shared: bool


@dataclass
class ChildModel:
    id: str
    last_name: str


@dataclass
class ReferralModel:
    id: str
    child: ChildModel
    referring: int
    receiving: int
    status: str = "draft"
    submitted: bool = False
    history: list[str] = field(default_factory=list)
    shares: list[ShareModel] = field(default_factory=list)
    notes: list[NoteModel] = field(default_factory=list)


def expect(response: Any, status: int, what: str) -> None:
    """Success and 404 must be exactly as the model says; any refusal of a
    holder may be 403, 409 or 422 (the order of checks is the app's business)."""
    if status in REFUSED:
        assert response.status_code in REFUSED, (what, status, response.status_code, response.json)
    else:
        assert response.status_code == status, (what, status, response.status_code, response.json)
    if response.status_code == 404:
        assert set(response.json) <= ERROR_KEYS, (what, response.json)
        assert response.json["code"] == "not_found", (what, response.json)


class Staff:
    """One person of a role in each agency, made and signed in (once per
    example) when first needed: the bearer headers of agency `i` are `staff[i]`."""

    def __init__(
        self, factory: Factory, client: FlaskClient, orgs: list[OrgInfo], role: Role
    ) -> None:
        self.factory, self.client, self.orgs, self.role = factory, client, orgs, role
        self.headers: dict[int, dict[str, str]] = {}

    def __getitem__(self, org: int) -> dict[str, str]:
        if org not in self.headers:
            user = self.factory.user(self.role, organisation=self.orgs[org])
            self.headers[org] = bearer(token_for(self.client, user))
        return self.headers[org]


def no_leaks_machine(app: Flask, client: FlaskClient) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to the suite's app and test client."""
    factory = Factory(app)
    kinds = list(OrganisationKind)
    with app.app_context():
        # The connection the suite binds every session of the test to.
        connection = db.engines[None]
    assert isinstance(connection, Connection), "tests/conftest.py binds one connection per test"

    class NoLeaks(RuleBasedStateMachine):
        referral_ids = Bundle("referral_ids")

        def __init__(self) -> None:
            super().__init__()
            # Everything the example writes is undone when it ends. Otherwise the
            # test's one transaction grows all run long, and on PostgreSQL its
            # transaction-id locks pile up (about 2,000 after 40 examples) until
            # the server's shared lock table is full: "out of shared memory".
            self.example = connection.begin_nested()
            self.orgs: list[OrgInfo] = [
                factory.organisation(kinds[i % len(kinds)]) for i in range(AGENCIES)
            ]
            self.referrers = Staff(factory, client, self.orgs, Role.REFERRER)
            self.managers = Staff(factory, client, self.orgs, Role.MANAGER)
            self.referrals: dict[str, ReferralModel] = {}
            self.shares: list[ShareModel] = []
            self.children: list[ChildModel] = []
            self.turn = 0
            # Whether the model changed who holds what since the lists were checked.
            self.changed = False

        # The model.

        def holds(self, org: int, referral: ReferralModel) -> bool:
            return (
                org == referral.referring
                or (org == referral.receiving and referral.submitted)
                or any(s.organisation == org and s.live for s in referral.shares)
            )

        def manages(self, org: int, referral: ReferralModel) -> bool:
            """Holds it as referring or receiving agency (may see every share;
            its managers may share and revoke)."""
            return org == referral.referring or (org == referral.receiving and referral.submitted)

        def about(self, child: ChildModel) -> list[ReferralModel]:
            return [r for r in self.referrals.values() if r.child.id == child.id]

        def sees_child(self, org: int, child: ChildModel) -> bool:
            return any(self.holds(org, r) for r in self.about(child))

        def visible_notes(self, org: int, referral: ReferralModel) -> list[str]:
            return sorted(n.id for n in referral.notes if n.shared or n.organisation == org)

        def visible_shares(self, org: int, referral: ReferralModel) -> list[str]:
            if self.manages(org, referral):
                return sorted(s.id for s in referral.shares)
            return sorted(s.id for s in referral.shares if s.organisation == org)

        # Reading through the API.

        def listed(self, org: int, search: str | None = None, **query: str) -> tuple[list, int]:
            """Every referral id the agency is shown, over all pages, and the
            total: the list, or a search by name (in a POST body)."""
            ids: list[str] = []
            page = 1
            while True:
                paging = {"page": page, "page_size": 100}
                if search is None:
                    response = client.get(
                        f"{API}/referrals",
                        query_string={**query, **paging},
                        headers=self.referrers[org],
                    )
                else:
                    response = client.post(
                        f"{API}/referrals/search",
                        query_string=paging,
                        json={**query, "q": search},
                        headers=self.referrers[org],
                    )
                assert response.status_code == 200, response.json
                pagination = json.loads(response.headers["X-Pagination"])
                ids.extend(item["id"] for item in response.json)
                if page >= pagination.get("total_pages", 0):
                    return sorted(ids), pagination["total"]
                page += 1

        def check_list(
            self, org: int, expected: list[ReferralModel], search: str | None = None, **query: str
        ) -> None:
            ids, total = self.listed(org, search, **query)
            wanted = sorted(r.id for r in expected)
            assert ids == wanted, (f"agency {org}", search, query, ids, wanted)
            assert total == len(wanted), (f"agency {org}", search, query, total, len(wanted))

        def check_all_lists(self) -> None:
            for org in range(AGENCIES):
                self.check_list(org, [r for r in self.referrals.values() if self.holds(org, r)])

        def check_route(self, org: int, referral: ReferralModel, route: str) -> None:
            """One route of a referral (or its child) as one agency sees it:
            200 with exactly what the model shows it, or 404 with nothing."""
            headers = self.referrers[org] if self.turn % 2 else self.managers[org]
            child = referral.child
            if route == "child":
                response = client.get(f"{API}/children/{child.id}", headers=headers)
                visible = self.sees_child(org, child)
            else:
                response = client.get(f"{API}/referrals/{referral.id}{route}", headers=headers)
                visible = self.holds(org, referral)
            expect(response, 200 if visible else 404, f"GET {route or 'detail'} by {org}")
            if not visible:
                text = response.get_data(as_text=True)
                assert referral.id not in text
                assert child.last_name not in text
                return
            answer = response.json
            if route == "child":
                assert (answer["id"], answer["last_name"]) == (child.id, child.last_name)
            elif route == "":
                assert (answer["id"], answer["status"]) == (referral.id, referral.status)
                assert answer["child"]["last_name"] == child.last_name
            elif route == "/notes":
                got = sorted(note["id"] for note in answer)
                assert got == self.visible_notes(org, referral), (f"notes for {org}", got)
            elif route == "/shares":
                got = sorted(grant["id"] for grant in answer)
                assert got == self.visible_shares(org, referral), (f"shares for {org}", got)
            else:
                got = sorted(change["action"] for change in answer)
                assert got == sorted(referral.history), (f"history for {org}", got)

        def check_views(self, org: int, referral: ReferralModel) -> None:
            """Every route of one referral and its child, and a search for the
            child's name, as one agency sees them."""
            for route in ROUTES:
                self.check_route(org, referral, route)
            child = referral.child
            self.check_list(
                org, [r for r in self.about(child) if self.holds(org, r)], search=child.last_name
            )

        # Rules.

        @rule(
            target=referral_ids,
            referring=agency,
            offset=st.integers(min_value=1, max_value=AGENCIES - 1),
            known=st.none() | st.integers(min_value=0, max_value=50),
            then=st.sampled_from(["stop", "submit", "share"]),
        )
        def create(self, referring: int, offset: int, known: int | None, then: str) -> Any:
            """A referrer refers a new child, or one already in the example
            (which it may or may not be able to see), to another agency; and
            may submit it at once, and have its manager share it at once."""
            receiving = (referring + offset) % AGENCIES
            if known is None or not self.children:
                child = ChildModel("", unique_last_name())
                child_fields: dict[str, Any] = {
                    "child": {
                        "first_name": "Robin",
                        "last_name": child.last_name,
                        "date_of_birth": "2011-03-14",
                    }
                }
            else:
                child = self.children[known % len(self.children)]
                child_fields = {"child": None, "child_id": child.id}
            response = client.post(
                f"{API}/referrals",
                json=referral_body(self.orgs[receiving], **child_fields),
                headers=self.referrers[referring],
            )
            if child.id and not self.sees_child(referring, child):
                # The same answer as for a child that does not exist.
                assert response.status_code == 422, response.json
                assert "child_id" in response.json["errors"]
                return multiple()
            assert response.status_code == 201, response.json
            if not child.id:
                child.id = response.json["child"]["id"]
                self.children.append(child)
            rid = response.json["id"]
            self.referrals[rid] = ReferralModel(rid, child, referring, receiving)
            self.changed = True
            if then != "stop":
                self.act(rid, "submit", None)
            if then == "share":
                self.share(rid, who=None, to=None, receiver=False, days=30)
            return rid

        @rule(
            rid=referral_ids,
            action=st.sampled_from(["submit", "accept", "decline", "withdraw"]),
            who=actor,
        )
        def act(self, rid: str, action: str, who: int | None) -> None:
            """A lifecycle step by a referrer (submit, withdraw) or a manager
            (accept, decline) of an agency; who=None: the referring agency's
            referrer or the receiving agency's manager, who may take it."""
            referral = self.referrals[rid]
            by_referrer = action in ("submit", "withdraw")
            side = referral.referring if by_referrer else referral.receiving
            org = side if who is None else who
            fields = {"reason": "Raised in error."} if action in ("withdraw", "decline") else {}
            response = client.post(
                f"{API}/referrals/{rid}/transitions",
                json={"action": action, **fields},
                headers=(self.referrers if by_referrer else self.managers)[org],
            )
            sources = {"submit": {"draft"}, "withdraw": {"draft", "submitted"}}.get(
                action, {"submitted"}
            )
            if not self.holds(org, referral):
                expected = 404
            elif org == side and referral.status in sources:
                expected = 200
            else:
                expected = 409  # or 403, 422: any refusal
            expect(response, expected, f"{action} by {org}")
            if expected == 200:
                assert response.json["status"] == TARGET_STATUS[action]
                # Withdrawing a draft does not send it anywhere.
                referral.submitted = referral.submitted or action != "withdraw"
                referral.status = TARGET_STATUS[action]
                referral.history.append(action)
                self.changed = True

        @rule(
            rid=referral_ids,
            who=actor,
            to=st.none() | agency,
            receiver=st.booleans(),
            days=st.integers(min_value=1, max_value=365),
        )
        def share(
            self, rid: str, who: int | None, to: int | None, receiver: bool, days: int
        ) -> None:
            """A manager shares a referral with an agency: allowed for the
            referring or receiving agency (who=None: one of them), once
            submitted, with an agency that does not hold it already (to=None:
            an agency neither referring nor receiving)."""
            referral = self.referrals[rid]
            if who is None:
                who = referral.receiving if receiver else referral.referring
            if to is None:
                others = [
                    org
                    for org in range(AGENCIES)
                    if org not in (referral.referring, referral.receiving)
                ]
                to = others[receiver]
            response = client.post(
                f"{API}/referrals/{rid}/shares",
                json={
                    "organisation_id": str(self.orgs[to].id),
                    "purpose": "Mentoring programme place",
                    "lawful_basis": "public_task",
                    "no_agreement_reason": SHARE_REASON,
                    "expires_at": (utcnow() + timedelta(days=days)).isoformat(),
                },
                headers=self.managers[who],
            )
            if not self.holds(who, referral):
                expected = 404
            elif (
                self.manages(who, referral)
                and referral.status != "draft"
                and to not in (referral.referring, referral.receiving)
                and not any(s.organisation == to and s.live for s in referral.shares)
            ):
                expected = 201
            else:
                expected = 409  # or 403, 422: any refusal
            expect(response, expected, f"share by {who} to {to}")
            if expected != 201:
                return
            self.changed = True
            grant = ShareModel(response.json["id"], rid, to)
            referral.shares.append(grant)
            self.shares.append(grant)
            # The agency shared with sees its own share only.
            self.check_route(to, referral, "/shares")

        @precondition(lambda self: self.shares)
        @rule(pick=st.integers(min_value=0, max_value=AGENCIES**2), who=actor)
        def revoke(self, pick: int, who: int | None) -> None:
            """A manager revokes a share (one of the example's, picked from the
            model): allowed for the referring or receiving agency (who=None:
            the referring one), once."""
            grant = self.shares[pick % len(self.shares)]
            referral = self.referrals[grant.referral_id]
            org = referral.referring if who is None else who
            response = client.delete(
                f"{API}/referrals/{referral.id}/shares/{grant.id}", headers=self.managers[org]
            )
            if not self.holds(org, referral):
                expected = 404
            elif self.manages(org, referral) and not grant.revoked:
                expected = 200
            else:
                expected = 409  # or 403: any refusal
            expect(response, expected, f"revoke by {org}")
            if expected == 200:
                assert response.json["revoked_at"] is not None
                grant.revoked = True
                self.changed = True

        @precondition(lambda self: self.shares)
        @rule(pick=st.integers(min_value=0, max_value=AGENCIES**2))
        def expire(self, pick: int) -> None:
            """Time passes: a share's expiry is now behind us (set in the database)."""
            grant = self.shares[pick % len(self.shares)]
            with app.app_context():
                row = db.session.get(Share, uuid.UUID(grant.id))
                assert row is not None
                row.expires_at = utcnow() - timedelta(seconds=1)
                db.session.commit()
            grant.expired = True
            self.changed = True

        @rule(rid=referral_ids, who=actor, shared=st.booleans(), manager=st.booleans())
        def note(self, rid: str, who: int | None, shared: bool, manager: bool) -> None:
            referral = self.referrals[rid]
            org = referral.referring if who is None else who
            headers = self.managers[org] if manager else self.referrers[org]
            visibility = "shared" if shared else "internal"
            response = client.post(
                f"{API}/referrals/{rid}/notes",
                json={"body": f"A {visibility} note by agency {org}.", "visibility": visibility},
                headers=headers,
            )
            if not self.holds(org, referral):
                expect(response, 404, f"note by non-holder {org}")
                return
            expect(response, 201, f"note by {org}")
            assert response.json["visibility"] == visibility
            referral.notes.append(NoteModel(response.json["id"], org, shared))
            # Another holder, in turn, reads the notes at once.
            others = [o for o in range(AGENCIES) if o != org and self.holds(o, referral)]
            if others:
                self.check_route(others[len(referral.notes) % len(others)], referral, "/notes")

        @rule(
            rid=referral_ids,
            org=agency,
            direction=st.sampled_from(["incoming", "outgoing", "shared"]),
        )
        def read(self, rid: str, org: int, direction: str) -> None:
            """One agency reads one referral every way, and lists one direction."""
            self.check_views(org, self.referrals[rid])
            held = [r for r in self.referrals.values() if self.holds(org, r)]
            if direction == "incoming":
                expected = [r for r in held if r.receiving == org]
            elif direction == "outgoing":
                expected = [r for r in held if r.referring == org]
            else:
                expected = [
                    r for r in held if any(s.organisation == org and s.live for s in r.shares)
                ]
            self.check_list(org, expected, direction=direction)

        def teardown(self) -> None:
            if self.example.is_active:
                self.example.rollback()

        # Invariants.

        @invariant()
        def lists_show_exactly_what_each_agency_holds(self) -> None:
            """Every agency's full list, after a change of who holds what.
            (After a refusal there is nothing to see yet; if the refused call
            changed something anyway, the next check finds it.)"""
            if self.changed:
                self.changed = False
                self.check_all_lists()

        @invariant()
        def one_agency_reads_one_referral(self) -> None:
            """After every step, one route of one referral for one agency, in
            turn (so each agency reaches the referrals and routes in turn)."""
            if not self.referrals:
                return
            self.turn += 1
            ids = list(self.referrals)  # in the order made: the same on every replay
            org, index = divmod(self.turn % (AGENCIES * len(ids)), len(ids))
            route = ROUTES[self.turn % len(ROUTES)]
            self.check_route(org, self.referrals[ids[index]], route)

    return NoLeaks


def test_no_agency_sees_what_it_does_not_hold(app: Flask, client: FlaskClient) -> None:
    machine = no_leaks_machine(app, client)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=False,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_the_model_catches_a_leak(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scoping layer that forgets revocation is caught by the invariants."""
    machine = no_leaks_machine(app, client)()
    rid = machine.create(referring=0, offset=1, known=None, then="share")
    machine.check_all_lists()
    assert machine.shares[0].organisation == 2
    machine.revoke(0, who=None)
    assert machine.shares[0].revoked
    machine.check_all_lists()

    def forgets_revocation(organisation_id: uuid.UUID, now: datetime) -> Any:
        return and_(Share.organisation_id == organisation_id, Share.expires_at > now)

    monkeypatch.setattr(scoping, "live_share", forgets_revocation)
    with pytest.raises(AssertionError, match="agency 2"):
        machine.check_all_lists()
    for route in ROUTES:
        with pytest.raises(AssertionError, match=f"GET {route or 'detail'} by 2"):
            machine.check_route(2, machine.referrals[rid], route)


def test_a_withdrawn_draft_stays_with_the_referring_agency(
    client: FlaskClient, factory: Factory
) -> None:
    world = make_world(client, factory)
    draft = create(client, world.officer, world.yjs)
    withdrawn = act(client, world.officer, draft["id"], "withdraw", reason="Raised in error.")
    assert withdrawn.status_code == 200
    # The receiving agency was never sent it: for it, the referral and the child do not exist.
    headers = world.yjs_manager.headers
    assert client.get(f"{API}/referrals/{draft['id']}", headers=headers).status_code == 404
    assert client.get(f"{API}/children/{draft['child']['id']}", headers=headers).status_code == 404
    assert client.get(f"{API}/referrals", headers=headers).json == []
