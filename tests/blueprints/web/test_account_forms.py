"""The account forms: changing the password and setting up an authenticator
app refuse empty and bad input in plain words (never a framework's text);
signing out everywhere else ends the other sessions and tokens and keeps
this browser."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role
from tests.blueprints.web.test_admin_forms import post, shown_errors
from tests.blueprints.web.test_referral_pages import sign_in
from tests.factories import PASSWORD, bearer, token_for


@pytest.fixture
def person(app, factory):
    user = factory.user(Role.CASEWORKER)
    return user, sign_in(app, user)


def test_password_form_sent_empty_asks_for_each_answer(person):
    _, browser = person
    response = post(browser, "/account", "/account")
    assert response.status_code == 422
    assert shown_errors(response) == [
        "Enter your current password",
        "Enter a new password",
        "Enter your new password again",
    ]


@pytest.mark.parametrize(
    ("new", "confirm", "current", "message"),
    [
        ("short", "short", PASSWORD, "New password must be 12 characters or more"),
        ("p" * 129, "p" * 12, PASSWORD, "New password must be 128 characters or less"),
        ("a long new passphrase", "a different one", PASSWORD, "Enter the same new password twice"),
        (
            "a long new passphrase",
            "a long new passphrase",
            "wrong!",
            "Your current password is not right",
        ),
    ],
)
def test_password_form_says_what_is_wrong(person, new, confirm, current, message):
    _, browser = person
    response = post(
        browser,
        "/account",
        "/account",
        current_password=current,
        new_password=new,
        confirm_password=confirm,
    )
    assert response.status_code == 422
    assert shown_errors(response) == [message]


def test_totp_form_says_what_is_wrong(person):
    _, browser = person
    empty = post(browser, "/account/totp", "/account/totp")
    assert empty.status_code == 422
    assert shown_errors(empty) == [
        "Enter your current password",
        "Enter the 6-digit code from your authenticator app",
    ]
    letters = post(browser, "/account/totp", "/account/totp", current_password=PASSWORD, otp="12ab")
    assert shown_errors(letters) == ["Enter the 6-digit code from your authenticator app"]
    wrong = post(browser, "/account/totp", "/account/totp", current_password=PASSWORD, otp="000000")
    assert shown_errors(wrong) in (
        ["The code is not right: enter the 6-digit code your app shows now"],
        # 000000 may, once in a million, be the code of the moment.
        [],
    )
    bad_password = post(
        browser, "/account/totp", "/account/totp", current_password="nope", otp="123456"
    )
    assert shown_errors(bad_password) == ["Your current password is not right"]


def test_signing_out_everywhere_else_keeps_this_browser(app, factory, client):
    user = factory.user(Role.CASEWORKER)
    here = sign_in(app, user)
    elsewhere = sign_in(app, user)
    token = token_for(client, user)
    response = post(here, "/account/sign-out-everywhere", "/account")
    assert response.status_code == 302
    assert "You have been signed out everywhere else" in here.get("/account").get_data(as_text=True)
    assert elsewhere.get("/").status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with app.app_context():
        recorded = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_user_id == user.id)
        ).all()
    assert "user.signed_out_everywhere" in recorded
