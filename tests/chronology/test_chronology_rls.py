"""The chronology with the application connected as a plain role, so that
PostgreSQL's row-level security binds (README, "Row-level security"): every
agency still sees exactly the events of the referrals it holds, and the
database hides no event the application means to show. Skipped without
PostgreSQL."""

from __future__ import annotations

import json

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from tests import test_row_level_security
from tests.chronology.world import DISCUSSION, HOME_VISIT, INTERNAL, SIGNIFICANT, build
from tests.factories import Factory

app_role_url = test_row_level_security.app_role_url
AS_THE_WEB_ROLE = test_row_level_security.AS_THE_WEB_ROLE

HOLDS = {
    "officer": ("a", "police"),
    "yjs_manager": ("a", "yjs"),
    "charity_manager": ("ab", "charity"),
    "council_manager": ("b", None),
}


def test_the_chronology_under_row_level_security(app_role_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client = app.test_client()
        child = build(app, client, Factory(app))
        for who, (held, own) in HOLDS.items():
            response = client.get(
                f"/api/v1/children/{child.child_id}/chronology", headers=child.headers(who)
            )
            assert response.status_code == 200, response.json
            found = response.json["entries"]
            assert {entry["referral"]["reference"] for entry in found} == {
                getattr(child, name)["reference"] for name in held
            }
            text = json.dumps(found)
            for agency, body in INTERNAL.items():
                assert (body in text) == (agency == own), (who, agency)
            if "a" in held:
                kinds = {entry["kind"] for entry in found}
                assert {"meeting_decision", "action_agreed", "action_completed"} <= kinds
                assert all(body in text for body in (HOME_VISIT, SIGNIFICANT, DISCUSSION))
        stranger = client.get(
            f"/api/v1/children/{child.child_id}/chronology", headers=child.headers("stranger")
        )
        assert stranger.status_code == 404
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
