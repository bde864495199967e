"""The command line: `orgs create`, `users create` and `seed-demo`. Each
command commits when it succeeds and changes nothing when it is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from referral_app.extensions import db
from referral_app.models import Organisation, OrganisationKind, Role, User
from referral_app.services.demo import DEMO_ORGANISATIONS, DEMO_PASSWORD, DEMO_USERS
from tests.factories import Factory, OrgInfo

PASSPHRASE = "a long enough passphrase"


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    """Close the shared app's pooled connections when this module is done: the
    session fixture never disposes its engine, and psycopg warns (an error
    under filterwarnings=error) about connections still open at exit."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def org(factory: Factory) -> OrgInfo:
    return factory.organisation(OrganisationKind.YOUTH_JUSTICE, code="cli-yjs")


def create_org(runner: FlaskCliRunner, code: str, name: str, kind: str = "police") -> Result:
    return runner.invoke(args=["orgs", "create", "--code", code, "--name", name, "--kind", kind])


def create_user(
    runner: FlaskCliRunner,
    *options: str,
    email: str = "A@Example.org",
    org: str = "cli-yjs",
    password: str = PASSPHRASE,
) -> Result:
    return runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            email,
            "--name",
            "Ada Example",
            "--org",
            org,
            "--role",
            "manager",
            "--role",
            "caseworker",
            "--password-stdin",
            *options,
        ],
        input=password + "\n",
    )


def organisation_by_code(app: Flask, code: str) -> tuple[str, OrganisationKind] | None:
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
        return None if organisation is None else (organisation.name, organisation.kind)


def count_organisations(app: Flask, code: str | None = None) -> int:
    with app.app_context():
        query = select(func.count(Organisation.id))
        if code is not None:
            query = query.where(Organisation.code == code)
        return db.session.scalar(query) or 0


def count_users(app: Flask, email: str | None = None) -> int:
    with app.app_context():
        query = select(func.count(User.id))
        if email is not None:
            query = query.where(func.lower(User.email) == email.lower())
        return db.session.scalar(query) or 0


def sign_in(
    client: FlaskClient, email: str, password: str = PASSPHRASE, otp: str | None = None
) -> TestResponse:
    return client.post(
        "/api/v1/auth/tokens", json={"email": email, "password": password, "otp": otp}
    )


def wrong_code(totp: pyotp.TOTP) -> str:
    """A six-digit code that is not valid in the current window (one step either way)."""
    valid = {totp.at(time.time() + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


# --- orgs create --------------------------------------------------------------


def test_orgs_create_adds_an_organisation(app: Flask, runner: FlaskCliRunner) -> None:
    result = create_org(runner, "cli-police", "CLI Police", "police")
    assert result.exit_code == 0, result.output
    assert "cli-police" in result.stdout
    assert organisation_by_code(app, "cli-police") == ("CLI Police", OrganisationKind.POLICE)


def test_orgs_create_duplicate_code_is_refused_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert create_org(runner, "cli-dup", "First Agency").exit_code == 0
    before = count_organisations(app)

    result = create_org(runner, "cli-dup", "Second Agency", "charity")

    assert result.exit_code != 0
    assert "already exists" in result.stderr
    assert count_organisations(app) == before
    assert count_organisations(app, "cli-dup") == 1
    assert organisation_by_code(app, "cli-dup") == ("First Agency", OrganisationKind.POLICE)


def test_orgs_create_unknown_kind_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    before = count_organisations(app)
    result = create_org(runner, "cli-pirates", "Pirate Agency", "pirates")
    assert result.exit_code != 0
    assert "--kind" in result.stderr
    assert count_organisations(app) == before
    assert organisation_by_code(app, "cli-pirates") is None


@pytest.mark.parametrize(
    ("code", "name"),
    [("x", "Valid Name"), ("Not A Slug", "Valid Name"), ("valid-code", "X")],
)
def test_orgs_create_invalid_code_or_name_is_refused(
    app: Flask, runner: FlaskCliRunner, code: str, name: str
) -> None:
    before = count_organisations(app)
    result = create_org(runner, code, name)
    assert result.exit_code != 0
    assert result.stderr.startswith("error:")
    assert count_organisations(app) == before


# --- users create -------------------------------------------------------------


def test_users_create_stores_a_lower_cased_email_and_the_user_can_get_a_token(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, org: OrgInfo
) -> None:
    result = create_user(runner, email="A@Example.org")
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "a@example.org"))
        assert user is not None
        assert user.organisation_id == org.id
        assert user.roles == {Role.MANAGER, Role.CASEWORKER}
        assert user.totp_secret is None
        assert PASSPHRASE not in user.password_hash
    assert count_users(app, "A@Example.org") == 1
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.email == "A@Example.org")) is None

    response = sign_in(client, "A@Example.org")
    assert response.status_code == 201, response.json
    assert response.json["token"]
    assert response.json["user"]["email"] == "a@example.org"
    assert response.json["user"]["roles"] == ["caseworker", "manager"]


def test_users_create_duplicate_email_in_other_case_is_refused(
    app: Flask, runner: FlaskCliRunner, org: OrgInfo
) -> None:
    assert create_user(runner, email="dup@example.org").exit_code == 0
    result = create_user(runner, email="DUP@Example.ORG")
    assert result.exit_code != 0
    assert "already exists" in result.stderr
    assert count_users(app, "dup@example.org") == 1


def test_users_create_short_password_is_refused_and_creates_nobody(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, org: OrgInfo
) -> None:
    before = count_users(app)
    result = create_user(runner, email="short@example.org", password="elevenchars")
    assert result.exit_code != 0
    assert "password" in result.stderr
    assert count_users(app) == before
    assert count_users(app, "short@example.org") == 0
    assert sign_in(client, "short@example.org", "elevenchars").status_code == 401


def test_users_create_password_of_exactly_twelve_characters_is_accepted(
    app: Flask, runner: FlaskCliRunner, org: OrgInfo
) -> None:
    result = create_user(runner, email="twelve@example.org", password="twelve-chars")
    assert result.exit_code == 0, result.output
    assert count_users(app, "twelve@example.org") == 1


def test_users_create_unknown_org_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    before = count_users(app)
    result = create_user(runner, email="orphan@example.org", org="no-such-agency")
    assert result.exit_code != 0
    assert "no-such-agency" in result.stderr
    assert count_users(app) == before


def test_users_create_unknown_role_is_refused(
    app: Flask, runner: FlaskCliRunner, org: OrgInfo
) -> None:
    before = count_users(app)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "god@example.org",
            "--name",
            "God Mode",
            "--org",
            org.code,
            "--role",
            "superuser",
            "--password-stdin",
        ],
        input=PASSPHRASE + "\n",
    )
    assert result.exit_code != 0
    assert "--role" in result.stderr
    assert count_users(app) == before


@pytest.mark.parametrize(
    "secret",
    [
        "not-base32!!",  # not the base32 alphabet
        "ABCDEFGH01890189",  # 0, 1, 8 and 9 are not base32 digits
        "ABCDEFGH",  # valid base32 but only 40 bits
    ],
)
def test_users_create_invalid_totp_secret_is_refused(
    app: Flask, runner: FlaskCliRunner, org: OrgInfo, secret: str
) -> None:
    before = count_users(app)
    result = create_user(runner, "--totp-secret", secret, email="totp@example.org")
    assert result.exit_code != 0
    assert "--totp-secret" in result.stderr
    assert count_users(app) == before


def test_users_create_with_totp_secret_requires_a_current_code_for_a_token(
    runner: FlaskCliRunner, client: FlaskClient, org: OrgInfo
) -> None:
    secret = pyotp.random_base32()
    result = create_user(runner, "--totp-secret", secret, email="mfa@example.org")
    assert result.exit_code == 0, result.output
    assert secret not in result.output

    totp = pyotp.TOTP(secret)
    assert sign_in(client, "mfa@example.org").status_code == 401
    assert sign_in(client, "mfa@example.org", otp=wrong_code(totp)).status_code == 401
    response = sign_in(client, "mfa@example.org", otp=pyotp.TOTP(secret).now())
    assert response.status_code == 201, response.json
    assert response.json["user"]["totp_enabled"] is True


def test_users_create_accepts_a_lower_case_spaced_totp_secret(
    runner: FlaskCliRunner, client: FlaskClient, org: OrgInfo
) -> None:
    secret = pyotp.random_base32()
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()
    result = create_user(runner, "--totp-secret", spaced, email="spaced@example.org")
    assert result.exit_code == 0, result.output
    response = sign_in(client, "spaced@example.org", otp=pyotp.TOTP(secret).now())
    assert response.status_code == 201, response.json


# --- seed-demo ----------------------------------------------------------------


def test_seed_demo_twice_prints_the_logins_and_creates_no_duplicates(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    # seed-demo is a plain click command: the `flask` CLI pushes the app
    # context for it; the test runner does not, so the test does.
    with app.app_context():
        first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users_after_first = count_users(app)
    organisations_after_first = count_organisations(app)

    with app.app_context():
        second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output

    for result in (first, second):
        assert DEMO_PASSWORD in result.stdout
        for demo_user in DEMO_USERS:
            assert demo_user.email in result.stdout
    assert count_users(app) == users_after_first
    assert count_organisations(app) == organisations_after_first
    for demo_user in DEMO_USERS:
        assert count_users(app, demo_user.email) == 1
    for code, _, _ in DEMO_ORGANISATIONS:
        assert count_organisations(app, code) == 1

    manager = DEMO_USERS[2]
    response = sign_in(client, manager.email, DEMO_PASSWORD)
    assert response.status_code == 201, response.json
