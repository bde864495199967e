"""Every transition, allowed and refused: 409 for a status that does not
allow it, 403 for an actor without the right."""

from __future__ import annotations

import pytest

from tests.referral_helpers import act, advance, create, make_world

STATUSES = ["draft", "submitted", "accepted", "declined", "in_progress", "closed", "withdrawn"]

# action -> (statuses it may start from, who may take it)
RULES = {
    "submit": ({"draft"}, "officer"),
    "withdraw": ({"draft", "submitted"}, "officer"),
    "accept": ({"submitted"}, "yjs_manager"),
    "decline": ({"submitted"}, "yjs_manager"),
    "assign": ({"accepted", "in_progress"}, "yjs_manager"),
    "close": ({"in_progress"}, "yjs_manager"),
    "reopen": ({"closed"}, "yjs_manager"),
}


def fields_for(world, action):
    return {
        "withdraw": {"reason": "Raised in error."},
        "decline": {"reason": "Not our area."},
        "reopen": {"reason": "New concerns."},
        "assign": {"assignee_id": str(world.caseworker.user.id)},
        "close": {"outcome": "no_further_action", "outcome_summary": "Nothing more needed."},
    }.get(action, {})


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(RULES))
def test_action_from_each_status(client, world, action, status):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], status)
    sources, who = RULES[action]
    response = act(client, getattr(world, who), referral["id"], action, **fields_for(world, action))
    if status in sources:
        assert response.status_code == 200, response.json
    elif status in ("draft", "withdrawn") and who != "officer":
        # A draft (here also withdrawn before it was submitted) never reached
        # the receiving agency: it does not exist for them.
        assert response.status_code == 404
    else:
        assert response.status_code == 409, response.json
        assert response.json["code"] == "conflict"
        assert status in response.json["message"]


# (action, status to start from, actor who lacks the right)
REFUSED = [
    ("submit", "draft", "police_manager_of_other_side"),
    ("accept", "submitted", "officer"),
    ("accept", "submitted", "caseworker"),
    ("accept", "submitted", "yjs_referrer"),
    ("decline", "submitted", "caseworker"),
    ("assign", "accepted", "caseworker"),
    ("assign", "accepted", "officer"),
    ("close", "in_progress", "officer"),
    ("close", "in_progress", "yjs_referrer"),
    ("reopen", "closed", "caseworker"),
    ("reopen", "closed", "officer"),
    ("withdraw", "submitted", "yjs_manager"),
    ("submit", "draft", "police_manager"),
]


@pytest.mark.parametrize(("action", "status", "who"), REFUSED)
def test_actor_without_the_right_is_refused(client, world, action, status, who):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], status)
    if who == "police_manager_of_other_side":
        who = "yjs_manager"  # holds nothing yet: the draft is the police's
        expected = 404
    elif action == "submit" and who == "police_manager":
        expected = 200  # a manager of the referring agency may submit
    else:
        expected = 403
    response = act(client, getattr(world, who), referral["id"], action, **fields_for(world, action))
    assert response.status_code == expected, response.json
    if expected == 403:
        assert response.json["code"] == "forbidden"
        assert "agency" in response.json["message"]


def test_shared_agency_cannot_transition(client, world):
    from tests.referral_helpers import share_with

    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "submitted")
    share_with(client, world, referral["id"], world.charity)
    response = act(client, world.charity_manager, referral["id"], "accept")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("action", "fields", "field"),
    [
        ("withdraw", {}, "reason"),
        ("decline", {}, "reason"),
        ("reopen", {}, "reason"),
        ("assign", {}, "assignee_id"),
        ("close", {"outcome_summary": "x"}, "outcome"),
        ("close", {"outcome": "transferred"}, "outcome_summary"),
        ("close", {"outcome": "won_the_lottery", "outcome_summary": "x"}, "outcome"),
    ],
)
def test_transition_requirements_are_enforced(client, world, action, fields, field):
    referral = create(client, world.officer, world.yjs)
    start = {"withdraw": "draft", "decline": "submitted", "reopen": "closed", "assign": "accepted"}
    advance(client, world, referral["id"], start.get(action, "in_progress"))
    _, who = RULES[action]
    before = client.get(f"/api/v1/referrals/{referral['id']}", headers=world.officer.headers)
    response = act(client, getattr(world, who), referral["id"], action, **fields)
    assert response.status_code == 422
    assert field in response.json["errors"]
    after = client.get(f"/api/v1/referrals/{referral['id']}", headers=world.officer.headers)
    assert after.json["status"] == before.json["status"]
    assert after.json["version"] == before.json["version"]


@pytest.mark.parametrize("assignee", ["officer", "yjs_referrer", "charity_worker", "nobody"])
def test_assignee_must_be_an_active_caseworker_or_manager_of_the_receiving_agency(
    client, world, assignee
):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "accepted")
    assignee_id = (
        "00000000-0000-4000-8000-000000000000"
        if assignee == "nobody"
        else str(getattr(world, assignee).user.id)
    )
    response = act(client, world.yjs_manager, referral["id"], "assign", assignee_id=assignee_id)
    assert response.status_code == 422
    assert "assignee_id" in response.json["errors"]


def test_submit_requires_a_complete_referral(client, world):
    referral = create(
        client, world.officer, world.yjs, reason=None, risk_level=None, lawful_basis=None
    )
    response = act(client, world.officer, referral["id"], "submit")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"reason", "risk_level", "lawful_basis"}


def test_unknown_action_is_a_validation_error(client, world):
    referral = create(client, world.officer, world.yjs)
    response = act(client, world.officer, referral["id"], "teleport")
    assert response.status_code == 422
    assert "action" in response.json["errors"]


def test_overdue_referrals_show_and_filter(app, client, world):
    import uuid
    from datetime import timedelta

    from referral_app.extensions import db
    from referral_app.models import Referral, utcnow

    late = create(client, world.officer, world.yjs)
    fresh = create(client, world.officer, world.yjs, risk_level="low")
    advance(client, world, late["id"], "submitted")
    advance(client, world, fresh["id"], "submitted")
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(late["id"]))
        referral.triage_deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    overdue = client.get("/api/v1/referrals?overdue=true", headers=world.yjs_manager.headers)
    assert [r["id"] for r in overdue.json] == [late["id"]]
    assert overdue.json[0]["overdue"] is True
    not_overdue = client.get("/api/v1/referrals?overdue=false", headers=world.yjs_manager.headers)
    assert [r["id"] for r in not_overdue.json] == [fresh["id"]]


def test_triage_deadline_follows_the_risk_level(app, client, world):
    from datetime import datetime

    for level, days in app.config["TRIAGE_DEADLINE_DAYS"].items():
        referral = create(client, world.officer, world.yjs, risk_level=level)
        submitted = act(client, world.officer, referral["id"], "submit").json
        deadline = datetime.fromisoformat(submitted["triage_deadline"])
        start = datetime.fromisoformat(submitted["submitted_at"])
        assert (deadline - start).total_seconds() == days * 86400
