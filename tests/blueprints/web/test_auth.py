"""Browser sign-in: the attacks a login page must resist."""

from __future__ import annotations

import pyotp
import pytest

from referral_app.models import Role
from tests.conftest import csrf_token


def sign_in(client, email, password, otp="", next_path=None):
    token = csrf_token(client)
    path = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(
        path, data={"csrf_token": token, "email": email, "password": password, "otp": otp}
    )


def test_login_page_signs_a_user_in(client, factory):
    user = factory.user(Role.CASEWORKER)
    response = sign_in(client, user.email, user.password)
    assert response.status_code == 302
    assert response.location == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, User" in home.get_data(as_text=True)


def test_email_is_case_insensitive_at_sign_in(client, factory):
    user = factory.user()
    assert sign_in(client, user.email.upper(), user.password).status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(client, factory):
    user = factory.user()
    wrong_password = sign_in(client, user.email, "not the password at all")
    unknown_user = sign_in(client, "nobody-here@example.org", "not the password at all")
    assert wrong_password.status_code == unknown_user.status_code == 401
    # The pages differ only in the echoed email address and the form's tokens.
    wrong_text = wrong_password.get_data(as_text=True).replace(user.email, "EMAIL")
    unknown_text = unknown_user.get_data(as_text=True).replace("nobody-here@example.org", "EMAIL")
    strip = __import__("re").compile(r'name="(csrf|form)_token" value="[^"]+"')
    assert strip.sub("", wrong_text) == strip.sub("", unknown_text)
    assert client.get("/").status_code == 302  # still signed out


def test_login_without_csrf_token_is_refused(client, factory):
    user = factory.user()
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_login_gives_a_new_session(client, factory):
    """Session fixation: whatever the cookie held before sign-in is dropped."""
    user = factory.user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, user.email, user.password)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("sid")


def test_logout_invalidates_copied_cookie(app, client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    stolen = client.get_cookie("session").value
    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logout.status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302  # sent to the login page
    assert thief.get("/").location.startswith("/login")


def test_logout_needs_csrf_token(client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # a forged form did not sign us out


def test_password_change_invalidates_copied_cookie_and_tokens(app, client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    stolen = client.get_cookie("session").value
    api_token = (
        app.test_client()
        .post("/api/v1/auth/tokens", json={"email": user.email, "password": user.password})
        .json["token"]
    )
    new_password = "a completely new passphrase"
    response = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current_password": user.password,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this browser carries on
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    assert me.status_code == 401
    assert sign_in(app.test_client(), user.email, new_password).status_code == 302


def test_password_change_refuses_wrong_current_password_and_short_passwords(client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    wrong = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current_password": "not my password",
            "new_password": "a long new passphrase",
            "confirm_password": "a long new passphrase",
        },
    )
    assert wrong.status_code == 422
    assert "There is a problem" in wrong.get_data(as_text=True)
    short = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current_password": user.password,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert short.status_code == 422
    assert sign_in(client, user.email, user.password).status_code == 302  # unchanged


def test_totp_user_needs_a_valid_code_on_the_page(client, factory):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    assert sign_in(client, user.email, user.password).status_code == 401
    assert sign_in(client, user.email, user.password, otp="000000").status_code in (401,)
    code = pyotp.TOTP(secret).now()
    assert sign_in(client, user.email, user.password, otp=code).status_code == 302


def test_rejects_already_used_totp_code(app, factory):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    code = pyotp.TOTP(secret).now()
    assert sign_in(app.test_client(), user.email, user.password, otp=code).status_code == 302
    assert sign_in(app.test_client(), user.email, user.password, otp=code).status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        # Browsers drop tabs and line breaks inside URLs: these become //evil.example.
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/ /evil.example",
        "/%5cevil.example",
        "/\x00/evil.example",
        "/\x7f/evil.example",
    ],
)
def test_login_does_not_redirect_off_site(client, factory, target):
    user = factory.user()
    response = sign_in(client, user.email, user.password, next_path=target)
    assert response.status_code == 302
    assert response.location == "/"


def test_login_returns_to_the_page_asked_for(client, factory):
    user = factory.user()
    assert client.get("/account").location == "/login?next=%2Faccount"
    response = sign_in(client, user.email, user.password, next_path="/account")
    assert response.location == "/account"


def test_account_locks_after_repeated_failures(app, client, factory):
    user = factory.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(client, user.email, "wrong password!").status_code == 401
    # Locked: even the right password is refused, with the same answer.
    assert sign_in(client, user.email, user.password).status_code == 401


def _unlock_after_the_pause(app, user_id):
    """Time passes: the pause is over (the count of failures stays)."""
    from datetime import timedelta

    from referral_app.extensions import db
    from referral_app.models import User

    with app.app_context():
        person = db.session.get(User, user_id)
        person.locked_until = person.locked_until - timedelta(days=2)
        db.session.commit()


def test_a_lockout_pauses_the_account_for_longer_each_round_and_then_lets_it_in(
    app, client, factory
):
    from referral_app.extensions import db
    from referral_app.models import User

    most = app.config["LOGIN_MAX_FAILURES"]
    base = app.config["LOGIN_LOCKOUT"]
    user = factory.user()
    for _ in range(most):
        sign_in(client, user.email, "wrong password!")
    pauses = []
    for _round in range(9):
        with app.app_context():
            person = db.session.get(User, user.id)
            pauses.append(person.locked_until - person.last_failed_login_at)
        _unlock_after_the_pause(app, user.id)
        sign_in(client, user.email, "wrong password!")  # one more guess: a longer pause
    assert pauses == [base * 2**n for n in (0, 1, 2, 3, 4, 5, 6, 6, 6)]
    # The real user, after the pause, gets in with the right password, and
    # the count starts again.
    _unlock_after_the_pause(app, user.id)
    assert sign_in(client, user.email, user.password).status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).failed_login_count == 0


def test_the_failure_message_tells_of_the_pause_without_saying_whether_the_account_exists(
    client, factory
):
    user = factory.user()
    known = sign_in(client, user.email, "wrong password!").get_data(as_text=True)
    unknown = sign_in(client, "nobody@example.org", "wrong password!").get_data(as_text=True)
    for page in (known, unknown):
        assert "an account is paused for a while" in page


def test_disabled_user_cannot_sign_in(app, client, factory):
    from referral_app.extensions import db
    from referral_app.models import User

    user = factory.user()
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert sign_in(client, user.email, user.password).status_code == 401


def _age_sessions(app, **deltas):
    from datetime import timedelta

    from referral_app.extensions import db
    from referral_app.models import AuthSession

    with app.app_context():
        for auth_session in db.session.query(AuthSession):
            for column, delta in deltas.items():
                setattr(auth_session, column, getattr(auth_session, column) - timedelta(**delta))
        db.session.commit()


def test_idle_timeout_ends_the_session(app, client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    assert client.get("/").status_code == 200
    _age_sessions(app, last_seen_at={"minutes": 29})
    assert client.get("/").status_code == 200  # still active: and now seen again
    _age_sessions(app, last_seen_at={"minutes": 31})
    assert client.get("/").status_code == 302


def test_absolute_timeout_ends_an_active_session(app, client, factory):
    user = factory.user()
    sign_in(client, user.email, user.password)
    # Active all along (seen a moment ago), but signed in twelve hours ago.
    _age_sessions(app, expires_at={"hours": 12, "seconds": 1})
    assert client.get("/").status_code == 302
