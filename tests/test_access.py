"""Deny by default: the guard, read from the app's URL map so a new route
cannot slip through untested."""

from __future__ import annotations

import re

import pytest

from referral_app import policy
from referral_app.auth_guard import required_permission

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule, method


def concrete_path(rule) -> str:
    path = re.sub(r"<uuid:[^>]+>", "00000000-0000-4000-8000-000000000000", rule.rule)
    path = re.sub(r"<path:[^>]+>", "app.css", path)
    return re.sub(r"<[^>]+>", "x", path)


def test_every_route_outside_the_allow_list_states_a_permission(app):
    unstated = [
        f"{method} {rule.rule}"
        for rule, method in routes(app)
        if rule.endpoint not in policy.PUBLIC_ENDPOINTS
        and required_permission(app, rule.endpoint, method) is None
    ]
    assert unstated == []


def test_every_route_outside_the_allow_list_needs_login(app, client):
    checked = 0
    for rule, method in routes(app):
        if rule.endpoint in policy.PUBLIC_ENDPOINTS:
            continue
        path = concrete_path(rule)
        response = client.open(path, method=method, json={} if method != "GET" else None)
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, f"{method} {path}"
            assert response.json["code"] == "unauthenticated"
        else:
            # A page sends the browser to sign in (a POST without a session
            # fails its CSRF check first; either way nothing happens).
            assert response.status_code in (302, 400), f"{method} {path}"
            if response.status_code == 302:
                assert response.location.startswith("/login")
    assert checked >= 8


@pytest.mark.parametrize("endpoint", sorted(policy.PUBLIC_ENDPOINTS))
def test_the_allow_list_names_real_endpoints(app, endpoint):
    assert endpoint in app.view_functions


def test_unknown_permission_names_raise():
    with pytest.raises(ValueError, match="not a valid Permission"):
        policy.Permission("referrals:read-everything")
    with pytest.raises(TypeError):
        policy.requires("account:self")  # type: ignore[arg-type]
