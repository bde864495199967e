"""One thing per form: the one-time token each page form carries is claimed
once per user; a second sending finds the first, even when both arrive at
the same moment on different connections."""

from __future__ import annotations

import threading
import time

from referral_app.extensions import db
from referral_app.models import FormSubmission, Role, User
from referral_app.services import form_submissions


def _user(user_id):
    return db.session.get(User, user_id)


def test_the_first_sending_claims_the_token_and_a_second_finds_it(app, factory):
    person = factory.user(Role.REFERRER)
    other = factory.user(Role.REFERRER)
    token = form_submissions.new_token()
    assert form_submissions.TOKEN_PATTERN.match(token)
    with app.app_context():
        assert form_submissions.claim(_user(person.id), token) is None
        form_submissions.record_result(_user(person.id), token, "/referrals/made")
        again = form_submissions.claim(_user(person.id), token)
        assert again is not None
        assert again.result_url == "/referrals/made"
        # A token is one user's: the same string from someone else is theirs.
        assert form_submissions.claim(_user(other.id), token) is None


def test_two_sendings_at_the_same_moment_make_one_claim(live_app):
    """The first holds its transaction open while the second arrives: the
    second waits for it (unique index on PostgreSQL, the write lock on
    SQLite) and is then pointed at the first's result."""
    from tests.factories import Factory

    person = Factory(live_app).user(Role.REFERRER)
    token = form_submissions.new_token()
    first_claimed = threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        with live_app.app_context():
            outcomes["first"] = form_submissions.claim(_user(person.id), token)
            first_claimed.set()
            time.sleep(0.5)  # the work of the first sending
            form_submissions.record_result(_user(person.id), token, "/referrals/first")
            db.session.commit()

    def second() -> None:
        first_claimed.wait(5)
        with live_app.app_context():
            earlier = form_submissions.claim(_user(person.id), token)
            outcomes["second"] = earlier.result_url if earlier is not None else None
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcomes == {"first": None, "second": "/referrals/first"}
    with live_app.app_context():
        assert db.session.query(FormSubmission).filter_by(token=token).count() == 1


def test_a_sending_that_made_nothing_can_be_sent_again(app, factory):
    person = factory.user(Role.REFERRER)
    token = form_submissions.new_token()
    with app.app_context():
        assert form_submissions.claim(_user(person.id), token) is None
        form_submissions.release(_user(person.id), token)
        assert form_submissions.claim(_user(person.id), token) is None
