"""Matching and merging with the application connected as a plain role, so
PostgreSQL's row-level security binds (README, "Row-level security"). The
count of matches held elsewhere and the merge's check of other agencies'
referrals look beyond the agency's holdings on purpose; everything else stays
within them."""

from __future__ import annotations

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from tests import test_row_level_security
from tests.children.conftest import child, refer, refer_about
from tests.factories import Factory
from tests.referral_helpers import make_world

# The database migrated by its owner, and a URL for a role RLS binds.
app_role_url = test_row_level_security.app_role_url
AS_THE_WEB_ROLE = test_row_level_security.AS_THE_WEB_ROLE


def test_matching_and_merging_under_row_level_security(app_role_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client = app.test_client()
        world = make_world(client, Factory(app))
        ours = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
        again = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
        refer(client, world.stranger, world.charity, child("Jayden", "Miller", "2011-03-14"))

        found = client.post(
            "/api/v1/children/matches",
            json={"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"},
            headers=world.officer.headers,
        )
        assert found.status_code == 200, found.json
        assert {match["child"]["id"] for match in found.json["matches"]} == {
            ours["child"]["id"],
            again["child"]["id"],
        }
        assert found.json["held_elsewhere"] == 1

        merged = client.post(
            f"/api/v1/children/{ours['child']['id']}/merge",
            json={"duplicate_id": again["child"]["id"]},
            headers=world.police_manager.headers,
        )
        assert merged.status_code == 201, merged.json
        moved = client.get(f"/api/v1/referrals/{again['id']}", headers=world.officer.headers)
        assert moved.json["child"]["id"] == ours["child"]["id"]
        undone = client.post(
            f"/api/v1/children/merges/{merged.json['id']}/undo",
            headers=world.police_manager.headers,
        )
        assert undone.status_code == 200, undone.json
        back = client.get(f"/api/v1/referrals/{again['id']}", headers=world.officer.headers)
        assert back.json["child"]["id"] == again["child"]["id"]
        shown = client.get(
            f"/api/v1/children/{again['child']['id']}", headers=world.officer.headers
        )
        assert shown.status_code == 200

        # The charity's record of a child it also referred on to the stranger
        # agency: the police see it (the charity referred him to them too)
        # but may not merge it away, though row-level security hides the
        # onward referral from them.
        charity_record = refer(
            client, world.charity_worker, world.police, child("Kai", "Jones", "2010-01-01")
        )
        refer_about(client, world.charity_worker, world.stranger_org, charity_record["child"]["id"])
        refused = client.post(
            f"/api/v1/children/{ours['child']['id']}/merge",
            json={"duplicate_id": charity_record["child"]["id"]},
            headers=world.police_manager.headers,
        )
        assert refused.status_code == 409

        export = client.get(
            f"/api/v1/children/{ours['child']['id']}/export", headers=world.police_manager.headers
        )
        assert export.status_code == 200
        assert [item["referral"]["id"] for item in export.json["referrals"]] == [ours["id"]]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_without_the_lift_row_level_security_hides_the_count(app_role_url, monkeypatch):
    """The control: without `beyond_holdings` the database shows the request
    only what the agency holds, so `held_elsewhere` would always be 0 (and the
    test above can fail)."""
    from contextlib import nullcontext

    from referral_app.services import child_matching

    monkeypatch.setattr(child_matching, "beyond_holdings", nullcontext)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client = app.test_client()
        world = make_world(client, Factory(app))
        refer(client, world.stranger, world.charity, child("Jayden", "Millar", "2011-03-14"))
        found = client.post(
            "/api/v1/children/matches",
            json={"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"},
            headers=world.officer.headers,
        )
        assert found.json == {"matches": [], "held_elsewhere": 0}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_lift_ends_with_its_statements(postgres_url):
    """After the block (and after an error in it) the request is scoped again."""
    import uuid

    import pytest
    from sqlalchemy import text

    from referral_app import rls
    from referral_app.services import children
    from tests.conftest import migrated_app

    app = migrated_app(postgres_url)
    try:
        with app.app_context():
            token = rls.scope_to(db.session, uuid.uuid4())

            def bypass() -> str:
                return db.session.execute(text("SELECT current_setting('app.rls_bypass')")).scalar()

            assert bypass() == "off"
            with children.beyond_holdings():
                assert bypass() == "on"
            assert bypass() == "off"
            with pytest.raises(RuntimeError), children.beyond_holdings():
                raise RuntimeError("a bug in the block")
            assert bypass() == "off"
            rls.unscope(token)
            db.session.rollback()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
