"""Changes to a user that make no sense are refused by the service, so the
API refuses them as the pages do, and nothing changes: a user left with no
role (422), an administrator changing their own roles or disabling
themselves, a role the actor may not give (403)."""

from __future__ import annotations

import uuid

import pytest

from referral_app.extensions import db
from referral_app.models import Role, User
from referral_app.services import users
from referral_app.services.errors import Invalid
from tests.factories import PASSWORD, bearer, token_for


def roles_and_state(app, user_id: uuid.UUID) -> tuple[set[str], bool, str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return {str(role) for role in user.roles}, user.active, user.full_name


@pytest.fixture
def agency(factory):
    return factory.organisation()


@pytest.fixture
def org_admin(factory, agency):
    return factory.user(Role.ORG_ADMIN, organisation=agency)


def test_the_api_refuses_the_same_impossible_changes_and_changes_nothing(
    app, client, factory, agency, org_admin
):
    headers = bearer(token_for(client, org_admin))
    person = factory.user(Role.CASEWORKER, organisation=agency)
    no_roles = client.patch(f"/api/v1/users/{person.id}", json={"roles": []}, headers=headers)
    assert no_roles.status_code == 422
    assert "roles" in no_roles.json["errors"]
    own = f"/api/v1/users/{org_admin.id}"
    assert client.patch(own, json={"roles": ["manager"]}, headers=headers).status_code == 403
    assert client.patch(own, json={"active": False}, headers=headers).status_code == 403
    granted = client.patch(
        f"/api/v1/users/{person.id}", json={"roles": ["system_admin"]}, headers=headers
    )
    assert granted.status_code == 403
    assert roles_and_state(app, person.id)[0] == {"caseworker"}
    assert roles_and_state(app, org_admin.id)[:2] == ({"org_admin"}, True)


def test_the_service_refuses_a_user_with_no_role(app, factory, agency, org_admin):
    person = factory.user(Role.CASEWORKER, organisation=agency)
    with app.app_context():
        actor = db.session.get(User, org_admin.id)
        target = db.session.get(User, person.id)
        with pytest.raises(Invalid) as refused:
            users.update_user(actor, target, roles=[], full_name="Changed")
        assert refused.value.errors == {"roles": [users.NO_ROLE]}
        assert target.full_name != "Changed"  # refused before anything changed
        with pytest.raises(Invalid):
            users.create_user(
                None,
                email="nobody@example.org",
                full_name="No Roles",
                organisation_id=agency.id,
                roles=[],
                password=PASSWORD,
            )
        db.session.rollback()


def test_a_refused_disable_changes_nothing_else(app, factory, agency, org_admin):
    """Disabling oneself is refused before the name or anything else changes."""
    with app.app_context():
        actor = db.session.get(User, org_admin.id)
        with pytest.raises(users.AdminRefusal) as refused:
            users.update_user(actor, actor, full_name="Changed", active=False)
        assert refused.value.field == "active"
        assert actor.full_name != "Changed"
        db.session.rollback()
