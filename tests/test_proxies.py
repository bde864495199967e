"""Behind a reverse proxy: the client address comes from the configured
number of trusted hops, so the per-address sign-in limit is per client and
not one limit for everyone behind the proxy; without a configured proxy the
forwarding headers (which anyone can send) are ignored. And a client cannot
choose the request id its audit events carry."""

from __future__ import annotations

import json
import logging

import pytest

from referral_app import create_app
from referral_app.config import ConfigurationError, TestingConfig
from referral_app.extensions import db
from referral_app.models import AuditEvent
from tests.conftest import migrated_app
from tests.factories import Factory
from tests.referral_helpers import make_world

PROXY = "10.1.1.1"  # every request reaches the app from the proxy
LIMITS = {
    "RATELIMIT_ENABLED": True,
    "SIGN_IN_LIMIT_PER_ACCOUNT": "100 per 15 minutes",
    "SIGN_IN_LIMIT_PER_ADDRESS": "3 per 15 minutes",
    "LOGIN_MAX_FAILURES": 1000,
}


def proxied_app(url: str, hops: int):
    return migrated_app(url, RATELIMIT_STORAGE_URI="memory://", TRUSTED_PROXY_HOPS=hops, **LIMITS)


def attempt(app, email, password, forwarded_for):
    return app.test_client().post(
        "/api/v1/auth/tokens",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    )


@pytest.fixture
def behind_one_proxy(fresh_database_url):
    app = proxied_app(fresh_database_url, hops=1)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def without_a_proxy(fresh_database_url):
    app = proxied_app(fresh_database_url, hops=0)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_throttle_behind_a_proxy_is_per_client_not_global(behind_one_proxy):
    factory = Factory(behind_one_proxy)
    sprayer_target, someone = factory.user(), factory.user()
    for _ in range(3):
        wrong = attempt(behind_one_proxy, sprayer_target.email, "wrong guess!", "203.0.113.9")
        assert wrong.status_code == 401
    # The spraying client is stopped...
    blocked = attempt(behind_one_proxy, someone.email, someone.password, "203.0.113.9")
    assert blocked.status_code == 429
    # ...and another client behind the same proxy is not.
    assert (
        attempt(behind_one_proxy, someone.email, someone.password, "198.51.100.4").status_code
        == 201
    )


def test_a_spoofed_forwarded_for_is_ignored_without_a_configured_proxy(without_a_proxy):
    factory = Factory(without_a_proxy)
    target, someone = factory.user(), factory.user()
    for n in range(3):
        # A different made-up address each time: all from the one real address.
        assert (
            attempt(without_a_proxy, target.email, "wrong guess!", f"192.0.2.{n}").status_code
            == 401
        )
    assert (
        attempt(without_a_proxy, someone.email, someone.password, "192.0.2.200").status_code == 429
    )


def test_only_the_configured_hops_are_trusted(behind_one_proxy, caplog):
    """A client that prepends its own X-Forwarded-For entry gets the address
    the proxy saw, not the one it wrote."""
    factory = Factory(behind_one_proxy)
    user = factory.user()
    with caplog.at_level(logging.INFO, logger="referral_app.requests"):
        answer = attempt(behind_one_proxy, user.email, user.password, "1.2.3.4, 203.0.113.50")
    assert answer.status_code == 201
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "referral_app.requests"
    ]
    assert lines[-1]["client_ip"] == "203.0.113.50"


def test_proxy_hops_must_be_a_whole_number():
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXY_HOPS"):
        create_app(TestingConfig, TRUSTED_PROXY_HOPS="one")


def test_a_client_cannot_choose_its_audit_request_id(app, client, factory, caplog):
    world = make_world(client, factory)
    chosen = "attacker-chosen-request-id"
    with caplog.at_level(logging.INFO, logger="referral_app.requests"):
        answer = client.get(
            "/api/v1/referrals", headers={**world.officer.headers, "X-Request-ID": chosen}
        )
    assert answer.status_code == 200
    ours = answer.headers["X-Request-ID"]
    assert ours != chosen
    with app.app_context():
        event = (
            db.session.query(AuditEvent)
            .filter_by(action="referral.list")
            .order_by(AuditEvent.seq.desc())
            .first()
        )
        assert event.request_id == ours
        assert db.session.query(AuditEvent).filter_by(request_id=chosen).count() == 0
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "referral_app.requests"
    ]
    assert (lines[-1]["request_id"], lines[-1]["client_request_id"]) == (ours, chosen)
