"""Schemathesis against the published OpenAPI document, signed in as real users.

Every operation in /api/v1/openapi.json is a test of its own, once per
identity in IDENTITIES: a youth justice manager and a system admin; under
FUZZ_IDENTITIES=all a police referrer, an org admin and an auditor too, each
with `Authorization: Bearer <their token>`. Each test sends to the suite's
`app` the coverage cases schemathesis derives from the document (boundary
values, missing required fields and headers, wrong types, unknown properties,
undeclared methods and content types) and FUZZ_EXAMPLES generated cases, valid
and invalid. On every response:

- no 5xx (`not_a_server_error`);
- the status is one the operation documents by name (`documented_status`:
  flask-smorest documents a `default` error response on every operation,
  which makes schemathesis' own `status_code_conformance` accept anything);
- body, headers and content type as documented (`response_schema_conformance`,
  `response_headers_conformance`, `content_type_conformance`, and
  `pagination_header_is_json` for the JSON in X-Pagination);
- invalid input refused with a 4xx, never accepted nor a 5xx
  (`negative_data_rejection`), a missing required header too
  (`missing_required_header`: 428 for PATCH without If-Match);
- no success without credentials (`ignored_auth` repeats each 2xx without a
  token and with a bad one: both must be refused).

`positive_data_acceptance` is off: the document gives the shape of a request,
not the domain rules (a receiving organisation that does not exist, an action
the status does not allow), which are refused with documented 4xx answers.

The world (`make_fuzz_world`): four agencies, a user of each kind, and four
referrals in different states (in progress and shared, incoming, a draft, one
the manager's agency does not hold), made inside the test's rolled-back
transaction (tests/conftest.py); each example runs in a savepoint rolled back
after it (`rolled_back`), so every example starts from that world and nothing
outlives the test. `realise` points most ids in a case at these records and
sometimes sends the referral's current ETag, so the fuzzer reaches the 2xx,
304, 409 and 412 answers as well as the 404s.

Bounded by default: FUZZ_EXAMPLES=15 and a fixed seed, for `make test`.
`make fuzz` runs 500 an operation as every identity with a random seed;
FUZZ_SEED (printed with any failure) repeats a run.
"""

from __future__ import annotations

import json
import os
import random
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
from sqlalchemy.engine import Connection

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from tests.factories import Factory, UserInfo, bearer, token_for
from tests.referral_helpers import SHARE_REASON, Actor, act, create

pytestmark = pytest.mark.fuzz

SPEC_PATH = "/api/v1/openapi.json"
SIGN_IN = "POST /api/v1/auth/tokens"
SIGN_OUT = "DELETE /api/v1/auth/tokens/current"

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# A fixed seed keeps the bounded run in `make test` repeatable; longer runs
# explore afresh unless FUZZ_SEED pins them.
SEED = int(
    os.environ.get("FUZZ_SEED")
    or (random.randrange(2**32) if "FUZZ_EXAMPLES" in os.environ else 20261124)
)
ALL_IDENTITIES = ("manager", "system_admin", "referrer", "org_admin", "auditor")
IDENTITIES = (
    ALL_IDENTITIES if os.environ.get("FUZZ_IDENTITIES") == "all" else ("manager", "system_admin")
)

# Statuses a refusal of invalid input may have: any 4xx the API uses, never a 5xx.
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428"]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # The token is the identity's (see `test_api`); schemathesis does not
        # make up credentials. `ignored_auth` checks the refusals without one.
        "generation": {
            "max-examples": EXAMPLES,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS},
            "missing_required_header": {
                "enabled": True,
                "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"],
            },
            "ignored_auth": {"enabled": True},
        },
    }
)

# pytest makes one test per operation at collection time, so the document is
# loaded at import, from an app built like the suite's but with no database:
# serving the document never touches one. `fuzz_world` checks that the
# suite's `app`, which answers every request, serves the same document.
_document_app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
schema = schemathesis.openapi.from_wsgi(SPEC_PATH, _document_app, config=CONFIG)
DOCUMENT = _document_app.test_client().get(SPEC_PATH).get_json()


# --- the world ---------------------------------------------------------------


@dataclass
class FuzzWorld:
    app: Flask
    client: FlaskClient
    people: dict[str, UserInfo]
    tokens: dict[str, str]
    # Real ids by kind (see ID_KINDS), for `realise` to point cases at.
    pools: dict[str, list[str]] = field(default_factory=dict)

    def headers(self, identity: str) -> dict[str, str]:
        return bearer(self.tokens[identity])


def make_fuzz_world(app: Flask) -> FuzzWorld:
    client = app.test_client()
    factory = Factory(app)
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    council = factory.organisation(OrganisationKind.COUNCIL)
    people = {
        "referrer": factory.user(Role.REFERRER, organisation=police),
        "manager": factory.user(Role.MANAGER, organisation=yjs),
        "caseworker": factory.user(Role.CASEWORKER, organisation=yjs),
        "org_admin": factory.user(Role.ORG_ADMIN, organisation=yjs),
        "auditor": factory.user(Role.AUDITOR, organisation=yjs),
        "system_admin": factory.user(Role.SYSTEM_ADMIN, organisation=council),
        "signer": factory.user(Role.CASEWORKER, organisation=charity),
    }
    tokens = {name: token_for(client, user) for name, user in people.items()}

    def actor(name: str) -> Actor:
        return Actor(people[name], bearer(tokens[name]))

    def step(who: str, referral_id: str, action: str, **fields: object) -> None:
        response = act(client, actor(who), referral_id, action, **fields)
        assert response.status_code == 200, (action, response.json)

    referrer, manager = actor("referrer"), actor("manager")
    active = create(client, referrer, yjs)
    step("referrer", active["id"], "submit")
    step("manager", active["id"], "accept")
    step("manager", active["id"], "assign", assignee_id=str(people["caseworker"].id))
    share = client.post(
        f"/api/v1/referrals/{active['id']}/shares",
        json={
            "organisation_id": str(charity.id),
            "purpose": "Mentoring programme place",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
        },
        headers=manager.headers,
    )
    assert share.status_code == 201, share.json
    incoming = create(client, referrer, yjs, risk_level="low")
    step("referrer", incoming["id"], "submit")
    draft = create(client, manager, charity)
    unheld = create(client, referrer, charity)
    step("referrer", unheld["id"], "submit")
    referrals = {"active": active, "incoming": incoming, "draft": draft, "unheld": unheld}
    return FuzzWorld(
        app=app,
        client=client,
        people=people,
        tokens=tokens,
        pools={
            "referral": [body["id"] for body in referrals.values()],
            "share": [share.json["id"]],
            "child": [active["child"]["id"], unheld["child"]["id"]],
            "user": [str(user.id) for user in people.values()],
            "organisation": [str(org.id) for org in (police, yjs, charity, council)],
        },
    )


@pytest.fixture
def fuzz_world(app: Flask) -> FuzzWorld:
    # Requests go to the suite's `app`: it must publish the document fuzzed.
    assert app.test_client().get(SPEC_PATH).get_json() == DOCUMENT
    # Shown with a failure ("Captured stdout setup"): how to repeat the run.
    print(f"Repeat with FUZZ_SEED={SEED} FUZZ_EXAMPLES={EXAMPLES}")
    return make_fuzz_world(app)


# --- real ids and ETags -----------------------------------------------------------

# Parameter and property names that hold ids, and the kind of record they name.
ID_KINDS = {
    "referral_id": "referral",
    "share_id": "share",
    "child_id": "child",
    "user_id": "user",
    "assignee_id": "user",
    "actor": "user",
    "organisation_id": "organisation",
    "receiving_organisation_id": "organisation",
    "organisation": "organisation",
}
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_sign_in(body: object) -> bool:
    """Credentials of the documented shape (whatever else the body holds)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("email"), str)
        and isinstance(body.get("password"), str)
        and 1 <= len(body["email"]) <= 254
        and 1 <= len(body["password"]) <= 1024
    )


def realise(case: schemathesis.Case, world: FuzzWorld, identity: str) -> dict[str, str]:
    """Point the case at real records, most of the time: well-formed ids in the
    path, query and body become ids of the world's records of the same kind,
    well-formed credentials a real user's, and If-Match / If-None-Match the
    referral's current ETag. Returns the headers to send on top of the case's.

    Done when the case is sent, so the coverage cases (made when pytest
    collects, before the world exists) get real ids too. Only valid values are
    replaced, by valid values: an invalid case stays invalid, a valid one
    valid. The choices are a function of the case, so a failure repeats."""
    drawn = (case.operation.label, case.path_parameters, case.query, case.body)
    rng = random.Random(zlib.crc32(repr(drawn).encode()))
    for values in (case.path_parameters, case.query, case.body):
        if not isinstance(values, dict):
            continue
        for name, value in list(values.items()):
            if name in ID_KINDS and _is_uuid(value):
                values[name] = rng.choice([value, *world.pools[ID_KINDS[name]]])
    if case.operation.label == SIGN_IN and _is_sign_in(case.body) and rng.random() < 0.5:
        signer = world.people["signer"]
        case.body.update(email=signer.email, password=signer.password)
    wanted = [
        name
        for name in CONDITIONAL_HEADERS
        if isinstance((case.headers or {}).get(name), str) and rng.random() < 0.5
    ]
    referral_id = (case.path_parameters or {}).get("referral_id")
    if not wanted or not _is_uuid(referral_id):
        return {}
    current = world.client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers(identity))
    return dict.fromkeys(wanted, current.headers.get("ETag", '"none"'))


# --- checks of our own ---------------------------------------------------------


def documented_status(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """The status is documented for the operation by name, not by `default`."""
    if is_unexpected_http_status_case(case):
        # A request malformed on purpose (an undeclared method or content
        # type): as for schemathesis' own status check, only a 5xx counts.
        return
    documented = {str(status) for status in case.operation.responses.status_codes} - {"default"}
    assert str(response.status_code) in documented, (
        f"{case.operation.label} answered {response.status_code}, "
        f"which it does not document (it documents {', '.join(sorted(documented))})"
    )


PAGINATION_KEYS = {
    "total",
    "total_pages",
    "first_page",
    "last_page",
    "page",
    "previous_page",
    "next_page",
    "total_exact",  # false only, when the list stopped counting (services.paging)
}


def pagination_header_is_json(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """X-Pagination, where sent, is the documented JSON object of integers
    (and `total_exact: false` when the count stopped early)."""
    values = response.headers.get("x-pagination")
    if not values:
        return
    metadata = json.loads(values[0])
    assert isinstance(metadata, dict), metadata
    assert set(metadata) <= PAGINATION_KEYS, metadata
    assert metadata.get("total_exact", False) is False, metadata
    counts = {key: value for key, value in metadata.items() if key != "total_exact"}
    assert all(type(value) is int for value in counts.values()), metadata


EXTRA_CHECKS: list[Callable[..., None]] = [documented_status, pagination_header_is_json]


# --- the test -------------------------------------------------------------------


@contextmanager
def rolled_back(app: Flask) -> Iterator[None]:
    """Run one example in a savepoint of the test's transaction and roll it
    back: every example starts from the same world, so hypothesis replays and
    shrinks a failure faithfully. (Releasing the savepoints instead would keep
    their locks to the end of the test: on PostgreSQL a long run fills the lock
    table, "out of shared memory".)"""
    with app.app_context():
        connection = db.engines[None]  # the test's connection: see tests/conftest.py
    assert isinstance(connection, Connection), "the suite's per-test transaction is not in place"
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


@pytest.mark.parametrize("identity", IDENTITIES)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@schema.parametrize()
def test_api(case: schemathesis.Case, identity: str, fuzz_world: FuzzWorld) -> None:
    """`fuzz_world` is made once per test; each example is rolled back."""
    with rolled_back(fuzz_world.app):
        headers = fuzz_world.headers(identity)
        if case.operation.label == SIGN_OUT:
            # Signing out revokes the token: each case signs out a token of its own.
            headers = bearer(token_for(fuzz_world.client, fuzz_world.people[identity]))
        headers.update(realise(case, fuzz_world, identity))
        case.call_and_validate(app=fuzz_world.app, headers=headers, additional_checks=EXTRA_CHECKS)


# --- what the fuzzer found, pinned -----------------------------------------------

LISTS = [
    ("get", "/api/v1/organisations", "manager"),
    ("get", "/api/v1/users", "system_admin"),
    ("get", "/api/v1/referrals", "manager"),
    ("post", "/api/v1/referrals/search", "manager"),
    ("get", "/api/v1/audit-events", "system_admin"),
    ("get", "/api/v1/notifications", "manager"),
]


@pytest.mark.parametrize(("method", "path", "identity"), LISTS)
def test_a_page_beyond_any_offset_is_refused(
    method: str, path: str, identity: str, fuzz_world: FuzzWorld
) -> None:
    """A page whose OFFSET would not fit a 64-bit integer was a 500 (an
    OverflowError on SQLite, "bigint out of range" on PostgreSQL)."""
    body = {"json": {"q": "Miller"}} if method == "post" else {}
    response = fuzz_world.client.open(
        f"{path}?page={2**63}", method=method.upper(), headers=fuzz_world.headers(identity), **body
    )
    assert response.status_code == 422, response.get_json()
    assert "page" in response.get_json()["errors"]
