"""The agency directory: readable by every user, changed by system admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Organisation, Role
from tests.factories import bearer, token_for


def count_organisations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Organisation.id)))


def test_any_user_reads_the_directory(client, factory):
    police = factory.organisation()
    user = factory.user(Role.REFERRER)
    response = client.get("/api/v1/organisations", headers=bearer(token_for(client, user)))
    assert response.status_code == 200
    assert police.code in {org["code"] for org in response.json}
    assert "X-Pagination" in response.headers


def test_system_admin_adds_an_agency(client, factory):
    admin = factory.user(Role.SYSTEM_ADMIN)
    response = client.post(
        "/api/v1/organisations",
        json={"code": "herts-police", "name": "Hertfordshire Constabulary", "kind": "police"},
        headers=bearer(token_for(client, admin)),
    )
    assert response.status_code == 201
    assert response.json["code"] == "herts-police"
    assert response.json["active"] is True


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ORG_ADMIN, Role.AUDITOR])
def test_only_system_admins_add_agencies(app, client, factory, role):
    user = factory.user(role)
    before = count_organisations(app)
    response = client.post(
        "/api/v1/organisations",
        json={"code": "rogue-agency", "name": "Rogue", "kind": "other"},
        headers=bearer(token_for(client, user)),
    )
    assert response.status_code == 403
    assert count_organisations(app) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "Bad Code", "name": "X agency", "kind": "police"}, "code"),
        ({"code": "ok-code", "name": "X agency", "kind": "army"}, "kind"),
        ({"code": "ok-code", "kind": "police"}, "name"),
        ({"code": "ok-code", "name": "X agency", "kind": "police", "active": False}, "active"),
    ],
)
def test_bad_organisation_input_changes_nothing(app, client, factory, body, field):
    admin = factory.user(Role.SYSTEM_ADMIN)
    before = count_organisations(app)
    response = client.post(
        "/api/v1/organisations", json=body, headers=bearer(token_for(client, admin))
    )
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert count_organisations(app) == before


def test_duplicate_code_is_a_conflict(app, client, factory):
    existing = factory.organisation()
    admin = factory.user(Role.SYSTEM_ADMIN)
    before = count_organisations(app)
    response = client.post(
        "/api/v1/organisations",
        json={"code": existing.code, "name": "Another", "kind": "charity"},
        headers=bearer(token_for(client, admin)),
    )
    assert response.status_code == 409
    assert count_organisations(app) == before
