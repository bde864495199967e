"""The receiving agency's auditor does not see a draft's events: a draft is
the referring agency's alone until it is submitted, and submitting is the
disclosure the receiving agency's trail shows."""

from __future__ import annotations

from referral_app.models import Role
from tests.factories import bearer, token_for
from tests.referral_helpers import create, make_world


def events_about(client, auditor_headers, referral_id: str) -> list[str]:
    answer = client.get(
        "/api/v1/audit-events", query_string={"record": referral_id}, headers=auditor_headers
    )
    assert answer.status_code == 200, answer.json
    return [event["action"] for event in answer.json]


def test_the_receiving_auditor_sees_nothing_of_a_draft(client, factory):
    world = make_world(client, factory)
    yjs_auditor = bearer(token_for(client, factory.user(Role.AUDITOR, organisation=world.yjs)))
    police_auditor = bearer(
        token_for(client, factory.user(Role.AUDITOR, organisation=world.police))
    )
    draft = create(client, world.officer, world.yjs)
    assert events_about(client, yjs_auditor, draft["id"]) == []
    assert "referral.create" in events_about(client, police_auditor, draft["id"])
    submitted = client.post(
        f"/api/v1/referrals/{draft['id']}/transitions",
        json={"action": "submit"},
        headers=world.officer.headers,
    )
    assert submitted.status_code == 200, submitted.json
    assert events_about(client, yjs_auditor, draft["id"]) == ["referral.submit"]
