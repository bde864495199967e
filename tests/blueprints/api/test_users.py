"""User administration: org admins confined to their agency, system admins
to administration; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Role, User
from tests.factories import bearer, token_for


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


@pytest.fixture
def agency(factory):
    return factory.organisation()


@pytest.fixture
def org_admin(factory, agency):
    return factory.user(Role.ORG_ADMIN, organisation=agency)


def new_user_body(organisation, **overrides):
    body = {
        "email": "New.Person@Example.org",
        "full_name": "New Person",
        "organisation_id": str(organisation),
        "roles": ["caseworker"],
        "password": "a long enough passphrase",
    }
    body.update(overrides)
    return body


def test_org_admin_creates_a_user_in_their_own_organisation(client, org_admin, agency):
    token = token_for(client, org_admin)
    response = client.post("/api/v1/users", json=new_user_body(agency.id), headers=bearer(token))
    assert response.status_code == 201, response.json
    assert response.json["email"] == "new.person@example.org"
    assert response.json["roles"] == ["caseworker"]
    assert "password" not in response.json
    assert "password_hash" not in response.json
    listed = client.get("/api/v1/users", headers=bearer(token))
    assert {u["email"] for u in listed.json} == {org_admin.email, "new.person@example.org"}


def test_org_admin_cannot_create_users_in_another_organisation(app, client, factory, org_admin):
    other = factory.organisation()
    before = count_users(app)
    response = client.post(
        "/api/v1/users", json=new_user_body(other.id), headers=bearer(token_for(client, org_admin))
    )
    assert response.status_code == 403
    assert count_users(app) == before


def test_org_admin_cannot_see_another_organisations_users(client, factory, org_admin):
    stranger = factory.user(Role.MANAGER)
    token = token_for(client, org_admin)
    assert client.get(f"/api/v1/users/{stranger.id}", headers=bearer(token)).status_code == 404
    patch = client.patch(
        f"/api/v1/users/{stranger.id}", json={"active": False}, headers=bearer(token)
    )
    assert patch.status_code == 404
    emails = {u["email"] for u in client.get("/api/v1/users", headers=bearer(token)).json}
    assert stranger.email not in emails
    filtered = client.get(
        f"/api/v1/users?organisation_id={stranger.organisation_id}", headers=bearer(token)
    )
    assert filtered.json == []


def test_org_admin_cannot_grant_system_admin(app, client, org_admin, agency):
    before = count_users(app)
    response = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, roles=["system_admin"]),
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 403
    assert count_users(app) == before


def test_nobody_changes_their_own_roles(client, org_admin):
    response = client.patch(
        f"/api/v1/users/{org_admin.id}",
        json={"roles": ["org_admin", "manager"]},
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 403
    assert "own roles" in response.json["message"]


def test_nobody_disables_themselves(client, org_admin):
    response = client.patch(
        f"/api/v1/users/{org_admin.id}",
        json={"active": False},
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 403


def test_system_admin_manages_org_admins_but_grants_no_case_work_roles(client, factory, agency):
    system_admin = factory.user(Role.SYSTEM_ADMIN)
    token = token_for(client, system_admin)
    admin = client.post(
        "/api/v1/users", json=new_user_body(agency.id, roles=["org_admin"]), headers=bearer(token)
    )
    assert admin.status_code == 201
    case_worker = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, email="cw@example.org", roles=["caseworker"]),
        headers=bearer(token),
    )
    assert case_worker.status_code == 403


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CASEWORKER, Role.MANAGER, Role.AUDITOR])
def test_case_roles_cannot_administer_users(client, factory, agency, role):
    user = factory.user(role, organisation=agency)
    token = token_for(client, user)
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 403
    response = client.post("/api/v1/users", json=new_user_body(agency.id), headers=bearer(token))
    assert response.status_code == 403


def test_duplicate_email_in_another_case_is_a_conflict(app, client, factory, org_admin, agency):
    existing = factory.user(organisation=agency)
    before = count_users(app)
    response = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, email=existing.email.upper()),
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 409
    assert response.json["errors"] == {"email": ["Already in use."]}
    assert count_users(app) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"roles": []}, "roles"),
        ({"roles": ["wizard"]}, "roles"),
        ({"organisation_id": "not-a-uuid"}, "organisation_id"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"is_superuser": True}, "is_superuser"),
    ],
)
def test_bad_user_input_gets_field_errors_and_changes_nothing(
    app, client, org_admin, agency, overrides, field
):
    before = count_users(app)
    response = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, **overrides),
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert count_users(app) == before


def test_unknown_organisation_is_a_field_error(app, client, factory):
    system_admin = factory.user(Role.SYSTEM_ADMIN)
    response = client.post(
        "/api/v1/users",
        json=new_user_body("00000000-0000-4000-8000-000000000000", roles=["org_admin"]),
        headers=bearer(token_for(client, system_admin)),
    )
    assert response.status_code == 422
    assert "organisation_id" in response.json["errors"]


def test_users_list_is_paginated(client, factory, org_admin, agency):
    for _ in range(3):
        factory.user(organisation=agency)
    response = client.get(
        "/api/v1/users?page=1&page_size=2", headers=bearer(token_for(client, org_admin))
    )
    assert response.status_code == 200
    assert len(response.json) == 2
    assert '"total": 4' in response.headers["X-Pagination"]


@pytest.mark.parametrize(
    "password",
    ["password1234", "Password1234", "QWERTYUIOP123", "123456789012", "Liverpool2024"],
)
def test_common_passwords_are_refused(app, client, org_admin, agency, password):
    before = count_users(app)
    response = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, password=password),
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 422
    assert "too common" in response.json["errors"]["password"][0]
    assert count_users(app) == before


@pytest.mark.parametrize(
    "password", ["twelve chars", "x" * 128, "ünïcödé pässwörd ✓", "   spaces are fine   "]
)
def test_long_passphrases_without_composition_rules_are_accepted(
    client, org_admin, agency, password
):
    response = client.post(
        "/api/v1/users",
        json=new_user_body(agency.id, email=f"p{len(password)}@example.org", password=password),
        headers=bearer(token_for(client, org_admin)),
    )
    assert response.status_code == 201, response.json


def test_org_admin_cannot_manage_a_system_admin_of_their_organisation(
    client, factory, agency, org_admin
):
    system_admin = factory.user(Role.SYSTEM_ADMIN, organisation=agency)
    token = token_for(client, org_admin)
    for body in ({"active": False}, {"full_name": "Renamed"}, {"sign_out_everywhere": True}):
        response = client.patch(
            f"/api/v1/users/{system_admin.id}", json=body, headers=bearer(token)
        )
        assert response.status_code == 403, body
    assert (
        client.get("/api/v1/me", headers=bearer(token_for(client, system_admin))).status_code == 200
    )
