"""Sign-in throttling: per account and per address, never global; shared
across workers through Redis."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from referral_app.extensions import db
from tests.conftest import csrf_token, migrated_app
from tests.factories import Factory

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "SIGN_IN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
    "SIGN_IN_LIMIT_PER_ADDRESS": "6 per 15 minutes",
    "LOGIN_MAX_FAILURES": 1000,  # keep the lockout out of the way
}


@pytest.fixture
def throttled_app(fresh_database_url):
    app = migrated_app(fresh_database_url, RATELIMIT_STORAGE_URI="memory://", **LIMITS)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def attempt(app, email, password, address):
    client = app.test_client()
    return client.post(
        "/api/v1/auth/tokens",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_throttle_is_per_account(throttled_app):
    factory = Factory(throttled_app)
    victim, bystander = factory.user(), factory.user()
    for n in range(3):
        assert (
            attempt(throttled_app, victim.email, "wrong guess!", f"10.0.0.{n}").status_code == 401
        )
    # The account is throttled from any address, even with the right password...
    refused = attempt(throttled_app, victim.email.upper(), victim.password, "10.0.0.99")
    assert refused.status_code == 429
    assert refused.json["code"] == "too_many_requests"
    # ...and it is not global: another account signs in from the same address.
    assert (
        attempt(throttled_app, bystander.email, bystander.password, "10.0.0.1").status_code == 201
    )


def test_login_throttle_is_per_address_and_not_global(throttled_app):
    factory = Factory(throttled_app)
    people = [factory.user() for _ in range(4)]
    for n in range(6):
        person = people[n % 3]
        assert attempt(throttled_app, person.email, "wrong guess!", "192.0.2.7").status_code == 401
    # The spraying address is stopped, even for an account it has not tried...
    assert (
        attempt(throttled_app, people[3].email, people[3].password, "192.0.2.7").status_code == 429
    )
    # ...while everyone else, from elsewhere, still signs in.
    assert (
        attempt(throttled_app, people[3].email, people[3].password, "192.0.2.8").status_code == 201
    )


def test_successful_sign_ins_do_not_count(throttled_app):
    user = Factory(throttled_app).user()
    for _ in range(8):
        assert attempt(throttled_app, user.email, user.password, "198.51.100.1").status_code == 201


def test_the_login_page_and_the_api_share_the_account_counter(throttled_app):
    user = Factory(throttled_app).user()
    page = throttled_app.test_client()
    for _ in range(3):
        response = page.post(
            "/login",
            data={"csrf_token": csrf_token(page), "email": user.email, "password": "wrong guess!"},
            environ_base={"REMOTE_ADDR": "203.0.113.5"},
        )
        assert response.status_code == 401
    assert attempt(throttled_app, user.email, user.password, "203.0.113.6").status_code == 429
    blocked_page = page.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": user.email, "password": user.password},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert blocked_page.status_code == 429
    blocked_text = blocked_page.get_data(as_text=True)
    assert "too many attempts" in blocked_text
    # The person is told when they may try again, in UK time.
    assert re.search(r"You can try again after \d{1,2}:\d{2}[ap]m (GMT|BST)\.", blocked_text)


def test_throttling_is_audited(throttled_app):
    from sqlalchemy import select

    from referral_app.models import AuditEvent

    user = Factory(throttled_app).user()
    for _ in range(4):
        attempt(throttled_app, user.email, "wrong guess!", "10.9.9.9")
    with throttled_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "auth.throttled" in actions


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed and unreachable under CI: {error}")
        pytest.skip(f"Redis unreachable: {error}")
    return url


def test_limit_holds_across_two_workers_through_redis(fresh_database_url):
    url = redis_url()
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {**LIMITS, "RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix}
    worker_one = migrated_app(fresh_database_url, **settings)
    worker_two = migrated_app(fresh_database_url, **settings)
    try:
        user = Factory(worker_one).user()
        for _ in range(3):
            assert attempt(worker_one, user.email, "wrong guess!", "10.1.1.1").status_code == 401
        assert attempt(worker_two, user.email, user.password, "10.1.1.2").status_code == 429
    finally:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()
        for app in (worker_one, worker_two):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
