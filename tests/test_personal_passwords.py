"""A password equal to the person's email address or name is refused, when
an account is made (API, pages, CLI) and when the password is changed."""

from __future__ import annotations

import pytest

from referral_app.extensions import db
from referral_app.models import Role, User
from referral_app.services import users
from referral_app.services.errors import Invalid
from tests.factories import PASSWORD, bearer, token_for


@pytest.mark.parametrize(
    "password",
    [
        "yusuf.khan@essex-yjs.example",
        "YUSUF.KHAN@ESSEX-YJS.EXAMPLE",
        "yusuf.khan",
        "Yusuf Khan",
        "yusuf-khan",
        "  yusufkhan  ",
    ],
)
def test_a_password_that_is_the_email_or_the_name_is_refused(password):
    with pytest.raises(Invalid) as refused:
        users.refuse_personal_password(
            password, email="yusuf.khan@essex-yjs.example", full_name="Yusuf Khan", field="password"
        )
    assert refused.value.errors == {"password": [users.PERSONAL_PASSWORD]}


def test_other_passwords_are_taken():
    users.refuse_personal_password(
        "yusuf khan walks the dog at six",
        email="yusuf.khan@essex-yjs.example",
        full_name="Yusuf Khan",
        field="password",
    )


def test_the_api_refuses_a_new_user_whose_password_is_their_email(app, client, factory):
    admin = factory.user(Role.ORG_ADMIN)
    with app.app_context():
        organisation_id = db.session.get(User, admin.id).organisation_id
    answer = client.post(
        "/api/v1/users",
        json={
            "email": "jordan.taylor.example@essex-yjs.example",
            "full_name": "Jordan Taylor",
            "organisation_id": str(organisation_id),
            "roles": ["caseworker"],
            "password": "jordan.taylor.example@essex-yjs.example",
        },
        headers=bearer(token_for(client, admin)),
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {"password": [users.PERSONAL_PASSWORD]}
    with app.app_context():
        assert db.session.query(User).filter_by(full_name="Jordan Taylor").count() == 0


def test_changing_ones_password_to_ones_name_is_refused(app, factory):
    person = factory.user(Role.CASEWORKER)
    with app.app_context():
        user = db.session.get(User, person.id)
        with pytest.raises(Invalid) as refused:
            users.change_password(user, PASSWORD, user.full_name + " ")
        assert "new_password" in refused.value.errors
