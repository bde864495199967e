"""No 5xx from hostile input: JSON nested thousands deep, lone surrogates
and NUL characters in strings, control characters anywhere, through every
JSON endpoint that takes a body, as a signed-in user. Hypothesis makes the
bodies (deep structures and the whole of Unicode, surrogates included).
The fixed cases run on both databases (what a database refuses differs);
the Hypothesis one is marked `fuzz`."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral_app.boundary import MAX_JSON_DEPTH, json_depth_exceeds
from referral_app.models import Role
from tests.factories import bearer, token_for

BODY_ENDPOINTS = [
    ("POST", "/api/v1/referrals"),
    ("POST", "/api/v1/referrals/search"),
    ("POST", "/api/v1/children/matches"),
    ("POST", "/api/v1/auth/tokens"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/organisations"),
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))

# Every code point, lone surrogates and NUL included.
hostile_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)
field_names = st.sampled_from(
    ["q", "email", "password", "first_name", "date_of_birth", "reason", "child", "name", "code"]
)
hostile_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(field_names | hostile_text, children, max_size=4)
    ),
    max_leaves=30,
)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture
def headers(client, factory):
    return bearer(token_for(client, factory.user(Role.MANAGER)))


@pytest.fixture
def admin_headers(client, factory):
    return bearer(token_for(client, factory.user(Role.SYSTEM_ADMIN)))


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_json_nested_thousands_deep_is_refused_plainly(client, headers, method, path):
    for body in (deep(5000), '{"q": ' + deep(3000) + "}"):
        answer = client.open(
            path, method=method, data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == 400, (path, answer.status_code)
        assert "nested more than" in answer.json["message"]


def test_the_depth_check_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds(json.dumps({"q": "[" * 5000}).encode())
    assert not json_depth_exceeds(deep(MAX_JSON_DEPTH).encode())
    assert json_depth_exceeds(deep(MAX_JSON_DEPTH + 1).encode())
    assert json_depth_exceeds(('{"a": "\\\\\\"", "b": ' + deep(100) + "}").encode())


def well_formed(path: str, text: str) -> dict:
    """A body the endpoint would take, but for `text` in its string fields."""
    return {
        "/api/v1/referrals": {
            "child": {"first_name": text, "last_name": text, "date_of_birth": "2011-03-14"},
            "receiving_organisation_id": "00000000-0000-0000-0000-000000000000",
            "reason": text,
        },
        "/api/v1/referrals/search": {"q": text},
        "/api/v1/children/matches": {
            "first_name": text,
            "last_name": text,
            "date_of_birth": "2011-03-14",
        },
        "/api/v1/auth/tokens": {"email": text, "password": text},
        "/api/v1/users": {"email": text, "full_name": text, "password": text, "roles": []},
        "/api/v1/organisations": {"code": text, "name": text, "kind": "charity"},
    }[path]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_lone_surrogates_and_nul_are_refused_plainly(client, headers, admin_headers, method, path):
    if path in ("/api/v1/users", "/api/v1/organisations"):
        headers = admin_headers  # who may get as far as the checks
    for text in ("\ud800", "\udfff tail", "nul\x00inside"):
        answer = client.open(
            path,
            method=method,
            data=json.dumps(well_formed(path, text)),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert answer.status_code in (400, 422), (path, repr(text), answer.status_code)


@pytest.mark.fuzz
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(endpoint=st.sampled_from(BODY_ENDPOINTS), body=hostile_json)
def test_hostile_json_never_gets_a_5xx(client, headers, endpoint, body):
    method, path = endpoint
    answer = client.open(
        path,
        method=method,
        data=json.dumps(body),  # ensure_ascii: lone surrogates travel as \\ud800
        headers={**headers, "Content-Type": "application/json"},
    )
    assert answer.status_code < 500, (path, body, answer.status_code)
