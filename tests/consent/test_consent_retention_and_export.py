"""The consent history past retention and in the subject access export:
the notes of consent changes and the reasons of decisions go with the rest
of a child's text past retention (who, when, how and what stay); a child
still within it keeps them. The export lists the consent history of each
referral the agency holds."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import Share
from referral_app.models.consent import ConsentChange
from referral_app.services.retention import REMOVED
from tests.consent.conftest import decide, record
from tests.referral_helpers import create, share_with
from tests.retention.test_retention import age, cases  # noqa: F401 (a fixture)


def _texts(app, referral_id: str) -> tuple[list[str | None], list[str | None]]:
    with app.app_context():
        rid = uuid.UUID(referral_id)
        notes = [
            change.note
            for change in db.session.scalars(
                select(ConsentChange)
                .where(ConsentChange.referral_id == rid)
                .order_by(ConsentChange.recorded_at)
            )
        ]
        reasons = [
            grant.consent_decision_reason
            for grant in db.session.scalars(select(Share).where(Share.referral_id == rid))
        ]
        return notes, reasons


def _withdraw_and_decide(client, app, world, referral_id: str, words: str) -> None:
    grant = share_with(client, world, referral_id, world.charity)
    record(client, world.caseworker, referral_id, note=f"{words} rang us")
    decided = decide(
        client,
        world.yjs_manager,
        referral_id,
        grant["id"],
        decision="continue",
        lawful_basis="public_task",
        reason=f"{words} is still at risk",
    )
    assert decided.status_code == 200, decided.json
    with app.app_context():  # the share ends with the case
        db.session.execute(
            update(Share)
            .where(Share.id == uuid.UUID(grant["id"]))
            .values(revoked_at=Share.granted_at)
        )
        db.session.commit()


def test_consent_notes_and_reasons_go_with_the_child_past_retention(app, client, world, cases):  # noqa: F811
    # Closed referrals still take a change in consent and a decision.
    for name in ("old", "recent"):
        _withdraw_and_decide(client, app, world, cases[name]["id"], name.capitalize())
    age(app, cases["old"]["id"], 7 * 365)
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert _texts(app, cases["old"]["id"]) == ([None, REMOVED], [REMOVED])
    assert _texts(app, cases["recent"]["id"]) == (
        [None, "Recent rang us"],
        ["Recent is still at risk"],
    )


def test_the_subject_access_export_includes_the_consent_history(client, world):
    made = create(client, world.officer, world.yjs)
    client.post(
        f"/api/v1/referrals/{made['id']}/transitions",
        json={"action": "submit"},
        headers=world.officer.headers,
    )
    record(client, world.officer, made["id"], note="Dad phoned.")
    exported = client.get(
        f"/api/v1/children/{made['child']['id']}/export", headers=world.police_manager.headers
    )
    assert exported.status_code == 200, exported.json
    [item] = exported.json["referrals"]
    assert [c["status"] for c in item["consent"]] == ["obtained_from_parent", "withdrawn"]
    assert item["consent"][1]["note"] == "Dad phoned."
