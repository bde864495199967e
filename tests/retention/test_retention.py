"""Retention: past the period, children's identifying details and case text
are anonymised, unless on legal hold; the counts and the audit trail stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from referral_app.extensions import db
from referral_app.models import AuditEvent, Child, Note, Referral, StatusChange, utcnow
from referral_app.services import audit
from tests.referral_helpers import advance, create, make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def age(app, referral_id: str, days: int) -> None:
    """Pretend the referral ended `days` ago."""
    with app.app_context():
        db.session.execute(
            update(StatusChange)
            .where(StatusChange.referral_id == uuid.UUID(referral_id))
            .values(at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def child_of(app, referral) -> Child:
    with app.app_context():
        child = db.session.get(Child, uuid.UUID(referral["child"]["id"]))
        db.session.expunge(child)
        return child


def snapshot(app) -> dict:
    with app.app_context():
        return {
            "children": sorted(
                (str(c.id), c.first_name, c.last_name, str(c.date_of_birth), c.postcode)
                for c in db.session.scalars(select(Child))
            ),
            "notes": sorted(n.body for n in db.session.scalars(select(Note))),
            "reasons": sorted(str(r.reason) for r in db.session.scalars(select(Referral))),
        }


@pytest.fixture
def cases(app, client, world):
    """Four children: ended long ago; ended long ago but on legal hold;
    ended recently; long ago but one referral still live."""
    made = {}
    for name in ("old", "held", "recent", "live"):
        referral = create(client, world.officer, world.yjs)
        advance(client, world, referral["id"], "closed")
        client.post(
            f"/api/v1/referrals/{referral['id']}/notes",
            json={"body": f"Visited {name} at home.", "visibility": "shared"},
            headers=world.caseworker.headers,
        )
        made[name] = referral
    age(app, made["old"]["id"], 7 * 365)
    age(app, made["held"]["id"], 7 * 365)
    age(app, made["recent"]["id"], 30)
    age(app, made["live"]["id"], 7 * 365)
    # A second referral about the "live" child, still being worked.
    second = client.post(
        "/api/v1/referrals",
        json={
            "child_id": made["live"]["child"]["id"],
            "receiving_organisation_id": str(world.yjs.id),
            "reason": "Seen again with older males.",
            "risk_level": "high",
            "consent_status": "obtained_from_parent",
            "lawful_basis": "public_task",
        },
        headers=world.officer.headers,
    )
    assert second.status_code == 201
    hold = client.post(
        f"/api/v1/referrals/{made['held']['id']}/legal-hold",
        json={"legal_hold": True, "reason": "Court proceedings."},
        headers=world.yjs_manager.headers,
    )
    assert hold.status_code == 200
    assert hold.json["legal_hold"] is True
    return made


def test_dry_run_changes_nothing(app, cases):
    before = snapshot(app)
    with app.app_context():
        events_before = db.session.scalar(select(func.count(AuditEvent.seq)))
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run"])
    assert result.exit_code == 0
    assert "would anonymise 1 children" in result.output
    assert cases["old"]["child"]["id"] in result.output
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.seq))) == events_before


def test_apply_anonymises_exactly_what_is_past_retention_and_not_held(app, client, world, cases):
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert "anonymised 1 children" in result.output
    old = child_of(app, cases["old"])
    assert (old.first_name, old.last_name, old.postcode, old.school) == (
        "Anonymised",
        "Child",
        None,
        None,
    )
    assert (old.date_of_birth.month, old.date_of_birth.day) == (1, 1)
    assert old.anonymised_at is not None
    for name in ("held", "recent", "live"):
        kept = child_of(app, cases[name])
        assert kept.first_name == "Jayden", name
        assert kept.anonymised_at is None
    # The text is gone, the numbers the reports need are not.
    seen = client.get(f"/api/v1/referrals/{cases['old']['id']}", headers=world.officer.headers)
    assert seen.json["status"] == "closed"
    assert seen.json["outcome"] == "engaged_and_completed"
    assert seen.json["risk_level"] == "high"
    assert "removed under the retention policy" in seen.json["reason"]
    notes = client.get(
        f"/api/v1/referrals/{cases['old']['id']}/notes", headers=world.officer.headers
    ).json
    assert all("Visited" not in n["body"] for n in notes)
    kept_notes = client.get(
        f"/api/v1/referrals/{cases['recent']['id']}/notes", headers=world.officer.headers
    ).json
    assert [n["body"] for n in kept_notes] == ["Visited recent at home."]
    # Audited, and the chain still verifies.
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.anonymised")
        ).all()
        assert [e.record_id for e in events] == [cases["old"]["child"]["id"]]
        assert audit.verify(db.session).ok
    # Running again finds nothing more.
    again = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert "anonymised 0 children" in again.output


def test_lifting_the_hold_lets_retention_proceed(app, client, world, cases):
    lifted = client.post(
        f"/api/v1/referrals/{cases['held']['id']}/legal-hold",
        json={"legal_hold": False, "reason": "Proceedings ended."},
        headers=world.yjs_manager.headers,
    )
    assert lifted.status_code == 200
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert "anonymised 2 children" in result.output
    assert child_of(app, cases["held"]).anonymised_at is not None


def test_only_managers_of_the_two_agencies_set_a_hold(client, world, cases):
    rid = cases["recent"]["id"]
    body = {"legal_hold": True, "reason": "x"}
    assert (
        client.post(
            f"/api/v1/referrals/{rid}/legal-hold", json=body, headers=world.caseworker.headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/referrals/{rid}/legal-hold", json=body, headers=world.stranger_manager.headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/referrals/{rid}/legal-hold", json=body, headers=world.police_manager.headers
        ).status_code
        == 200
    )
