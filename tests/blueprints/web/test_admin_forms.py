"""The administration and account forms: each refuses empty and bad input in
plain words (never a framework's own text, never a 500), and the changes
that make no sense (a user left with no role, an administrator taking away
their own role or disabling themselves, a role they may not give) are
refused on the page and by the API and change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Organisation, Role, User
from tests.blueprints.api.test_user_changes import roles_and_state
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token
from tests.page_errors import assert_plain_errors, summary_errors


def shown_errors(response) -> list[str]:
    """The error summary's messages, after checking that the page is no
    500, that each message is also beside its field, and that none on the
    page is a framework's own text (tests/page_errors.py)."""
    assert response.status_code < 500
    return assert_plain_errors(response.get_data(as_text=True))


def count(app, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def agency(factory):
    return factory.organisation()


@pytest.fixture
def org_admin(factory, agency):
    return factory.user(Role.ORG_ADMIN, organisation=agency)


@pytest.fixture
def admin(app, org_admin):
    return sign_in(app, org_admin)


def post(client, path, form_path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, form_path), **fields})


# --- Adding a user -------------------------------------------------------------


def test_new_user_form_sent_empty_asks_for_each_answer(app, admin, agency):
    before = count(app, User)
    response = post(admin, "/admin/users", "/admin/users/new", organisation_id=str(agency.id))
    assert response.status_code == 422
    assert shown_errors(response) == [
        "Enter the person's full name",
        "Enter an email address",
        "Select at least one role",
        "Enter a password",
    ]
    assert count(app, User) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "email",
            "not-an-email",
            "Enter an email address in the correct format, like name@example.org",
        ),
        ("full_name", "x" * 201, "Full name must be 200 characters or less"),
        ("roles", "not-a-role", "Select roles from the list"),
        ("password", "short", "Password must be 12 characters or more"),
        ("password", "p" * 129, "Password must be 128 characters or less"),
        ("password", "123456789012", "Password is too common: choose one that is harder to guess"),
    ],
)
def test_new_user_form_says_what_is_wrong_in_plain_words(app, admin, agency, field, value, message):
    before = count(app, User)
    answers = {
        "full_name": "Amina Shah",
        "email": "amina.shah@example.org",
        "organisation_id": str(agency.id),
        "roles": "caseworker",
        "password": "a long enough passphrase",
        field: value,
    }
    response = post(admin, "/admin/users", "/admin/users/new", **answers)
    assert response.status_code == 422
    assert shown_errors(response) == [message]
    assert count(app, User) == before


def test_an_email_in_use_is_refused_beside_the_email(app, admin, agency, org_admin):
    response = post(
        admin,
        "/admin/users",
        "/admin/users/new",
        full_name="Someone Else",
        email=org_admin.email.upper(),
        organisation_id=str(agency.id),
        roles="caseworker",
        password="a long enough passphrase",
    )
    assert response.status_code == 409
    assert shown_errors(response) == ["Someone already uses this email address"]


def test_org_admin_cannot_add_a_user_elsewhere_or_give_a_role_they_may_not(
    app, admin, agency, factory
):
    elsewhere = factory.organisation()
    before = count(app, User)
    answers = {
        "full_name": "Amina Shah",
        "email": "amina.shah@example.org",
        "password": "a long enough passphrase",
    }
    other_agency = post(
        admin,
        "/admin/users",
        "/admin/users/new",
        organisation_id=str(elsewhere.id),
        roles="caseworker",
        **answers,
    )
    assert other_agency.status_code == 403
    # Not a question on the org admin's form: about the form as a whole.
    assert summary_errors(other_agency.get_data(as_text=True)) == [
        "You can only add users to your own organisation"
    ]
    system_admin = post(
        admin,
        "/admin/users",
        "/admin/users/new",
        organisation_id=str(agency.id),
        roles="system_admin",
        **answers,
    )
    assert system_admin.status_code == 403
    assert shown_errors(system_admin)[0].startswith("You may not grant")
    assert count(app, User) == before


def test_system_admin_chooses_the_organisation(app, factory):
    system_admin = sign_in(app, factory.user(Role.SYSTEM_ADMIN))
    page = system_admin.get("/admin/users/new").get_data(as_text=True)
    assert '<select class="govuk-select' in page
    response = post(system_admin, "/admin/users", "/admin/users/new")
    assert "Select an organisation" in shown_errors(response)
    agency = factory.organisation()
    added = post(
        system_admin,
        "/admin/users",
        "/admin/users/new",
        full_name="Priya Nair",
        email="priya.nair@example.org",
        organisation_id=str(agency.id),
        roles="org_admin",
        password="a long enough passphrase",
    )
    assert added.status_code == 302
    shown = system_admin.get(added.location).get_data(as_text=True)
    assert "Priya Nair has been added" in shown
    assert "Organisation administrator" in shown


# --- Changing a user -----------------------------------------------------------


def test_unticking_every_role_is_refused_and_changes_nothing(app, admin, factory, agency):
    person = factory.user(Role.CASEWORKER, Role.MANAGER, organisation=agency)
    page = f"/admin/users/{person.id}"
    response = post(admin, page, page, full_name="User", roles="", active="true")
    assert response.status_code == 422
    assert shown_errors(response) == ["Select at least one role"]
    assert "Changes saved" not in response.get_data(as_text=True)
    assert roles_and_state(app, person.id)[0] == {"caseworker", "manager"}


def test_org_admin_cannot_take_away_their_own_role_or_disable_themselves(app, admin, org_admin):
    page = f"/admin/users/{org_admin.id}"
    own_role = admin.post(
        page,
        data={
            "csrf_token": csrf_token(admin, page),
            "full_name": "Renamed",
            "roles": ["", "manager"],
            "active": "true",
        },
    )
    assert own_role.status_code == 403
    assert shown_errors(own_role) == ["You cannot change your own roles"]
    disable = post(admin, page, page, roles=["", "org_admin"], active="false")
    assert disable.status_code == 403
    assert shown_errors(disable) == ["You cannot disable your own account"]
    assert roles_and_state(app, org_admin.id)[:2] == ({"org_admin"}, True)
    assert roles_and_state(app, org_admin.id)[2] != "Renamed"
    assert admin.get("/admin/users").status_code == 200  # still signed in


def test_a_role_not_offered_is_refused_and_changes_nothing(app, admin, factory, agency):
    person = factory.user(Role.CASEWORKER, organisation=agency)
    page = f"/admin/users/{person.id}"
    response = admin.post(
        page,
        data={"csrf_token": csrf_token(admin, page), "roles": ["", "caseworker", "system_admin"]},
    )
    assert response.status_code == 422
    assert shown_errors(response) == ["Select roles from the list"]
    assert roles_and_state(app, person.id)[0] == {"caseworker"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"full_name": ""}, "Enter the person's full name"),
        ({"full_name": "   "}, "Enter the person's full name"),
        ({"full_name": "x" * 201}, "Full name must be 200 characters or less"),
        ({"active": "perhaps"}, "Select whether this person can sign in"),
        ({"roles": ["", "not-a-role"]}, "Select roles from the list"),
    ],
)
def test_edit_form_says_what_is_wrong_in_plain_words(app, admin, factory, agency, fields, message):
    person = factory.user(Role.CASEWORKER, organisation=agency)
    before = roles_and_state(app, person.id)
    page = f"/admin/users/{person.id}"
    response = admin.post(page, data={"csrf_token": csrf_token(admin, page), **fields})
    assert response.status_code == 422
    assert shown_errors(response) == [message]
    assert roles_and_state(app, person.id) == before


def test_a_change_says_what_changed(app, admin, factory, agency):
    person = factory.user(Role.CASEWORKER, organisation=agency)
    page = f"/admin/users/{person.id}"
    saved = post(
        admin,
        page,
        page,
        full_name="Yusuf Khan",
        roles=["", "caseworker", "manager"],
        active="true",
    )
    assert saved.status_code == 302
    assert saved.location == page
    shown = admin.get(page).get_data(as_text=True)
    assert (
        "Changes saved for Yusuf Khan: name changed to Yusuf Khan; "
        "roles are now Caseworker and Manager."
    ) in shown
    assert roles_and_state(app, person.id) == ({"caseworker", "manager"}, True, "Yusuf Khan")
    unchanged = post(
        admin,
        page,
        page,
        full_name="Yusuf Khan",
        roles=["", "caseworker", "manager"],
        active="true",
    )
    assert unchanged.status_code == 302
    assert "You did not change anything for Yusuf Khan." in admin.get(page).get_data(as_text=True)


def test_org_admin_cannot_change_a_system_admin_of_their_agency(app, admin, factory, agency):
    system_admin = factory.user(Role.SYSTEM_ADMIN, organisation=agency)
    page = f"/admin/users/{system_admin.id}"
    response = post(admin, page, page, full_name="Renamed", roles="", active="true")
    assert response.status_code == 403
    # About the change as a whole: in the summary, beside no field.
    assert summary_errors(response.get_data(as_text=True)) == [
        "This user is managed by the system administrators"
    ]
    assert roles_and_state(app, system_admin.id)[2] != "Renamed"


def test_system_admin_keeps_the_roles_they_cannot_give(app, factory, agency):
    manager = factory.user(Role.MANAGER, organisation=agency)
    system_admin = sign_in(app, factory.user(Role.SYSTEM_ADMIN))
    page = f"/admin/users/{manager.id}"
    shown = system_admin.get(page).get_data(as_text=True)
    assert "They also hold roles you cannot change: Manager." in shown
    response = post(system_admin, page, page, roles=["", "auditor"], active="true")
    assert response.status_code == 302
    assert roles_and_state(app, manager.id)[0] == {"manager", "auditor"}


def test_users_list_is_paginated_and_never_cut(app, admin, factory, agency):
    for _ in range(26):
        factory.user(Role.REFERRER, organisation=agency)
    first = admin.get("/admin/users").get_data(as_text=True)
    assert "Showing 1 to 25 of 27 users" in first
    assert 'href="/admin/users?page=2"' in first
    second = admin.get("/admin/users?page=2").get_data(as_text=True)
    assert "Showing 26 to 27 of 27 users" in second
    assert admin.get("/admin/users?page=3").status_code == 404
    assert admin.get("/admin/users?page=abc").status_code == 200


# --- Organisations ---------------------------------------------------------------


@pytest.fixture
def system_admin(app, factory):
    return sign_in(app, factory.user(Role.SYSTEM_ADMIN))


def test_new_organisation_form_sent_empty_asks_for_each_answer(app, system_admin):
    before = count(app, Organisation)
    response = post(system_admin, "/admin/organisations", "/admin/organisations/new")
    assert response.status_code == 422
    assert shown_errors(response) == [
        "Enter the organisation's name",
        "Enter a code for the organisation",
        "Select the type of organisation",
    ]
    assert count(app, Organisation) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"code": "Not Valid!"},
            "Code must only include lower-case letters, numbers and hyphens, like essex-police",
        ),
        ({"code": "a"}, "Code must be 2 characters or more"),
        ({"code": "c" * 65}, "Code must be 64 characters or less"),
        ({"name": "A"}, "Name must be 2 characters or more"),
        ({"name": "n" * 201}, "Name must be 200 characters or less"),
        ({"kind": "spaceship"}, "Select the type of organisation"),
    ],
)
def test_new_organisation_form_says_what_is_wrong(app, system_admin, fields, message):
    answers = {"name": "Kent Police", "code": "kent-police", "kind": "police", **fields}
    response = post(system_admin, "/admin/organisations", "/admin/organisations/new", **answers)
    assert response.status_code == 422
    assert shown_errors(response) == [message]


def test_a_code_in_use_is_refused(app, system_admin, agency):
    response = post(
        system_admin,
        "/admin/organisations",
        "/admin/organisations/new",
        name="Another",
        code=agency.code,
        kind="charity",
    )
    assert response.status_code == 409
    assert shown_errors(response) == ["Another organisation already uses this code"]


def test_organisations_list_is_paginated(app, system_admin, factory):
    for _ in range(26):
        factory.organisation()
    first = system_admin.get("/admin/organisations").get_data(as_text=True)
    assert re.search(r"Showing 1 to 25 of [\d,]+ organisations", first)
    assert 'href="/admin/organisations?page=2"' in first


def test_the_new_user_form_sent_twice_adds_one_user(app, admin, agency):
    page = admin.get("/admin/users/new").get_data(as_text=True)
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    answers = {
        "csrf_token": csrf_token(admin, "/admin/users/new"),
        "form_token": form_token,
        "full_name": "Amina Shah",
        "email": "amina.shah.twice@example.org",
        "organisation_id": str(agency.id),
        "roles": "caseworker",
        "password": "a long enough passphrase",
    }
    before = count(app, User)
    first = admin.post("/admin/users", data=answers)
    second = admin.post("/admin/users", data=answers)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    assert count(app, User) == before + 1
