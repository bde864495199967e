"""Factories: rows made through the services, committed (to the test's
savepoint), returned as plain snapshots so no ORM object outlives its session."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from referral_app.services import audit_sequencer, organisations, users

PASSWORD = "a long test passphrase for the suite"
_sequence = itertools.count(1)


@dataclass(frozen=True)
class OrgInfo:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    email: str
    password: str
    organisation_id: uuid.UUID
    roles: tuple[Role, ...]
    totp_secret: str | None = None


def commit_and_seal(app: Flask) -> None:
    """Commit, and, as a request would under AUDIT_SEAL_AFTER_REQUEST (the
    suite's setting), seal the audit events written."""
    db.session.commit()
    if app.config["AUDIT_SEAL_AFTER_REQUEST"]:
        audit_sequencer.seal_what_was_written(db.session)


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def organisation(
        self, kind: OrganisationKind = OrganisationKind.POLICE, code: str | None = None
    ) -> OrgInfo:
        n = next(_sequence)
        with self.app.app_context():
            organisation = organisations.create_organisation(
                None, code=code or f"agency-{n}", name=f"Agency {n}", kind=kind
            )
            commit_and_seal(self.app)
            return OrgInfo(organisation.id, organisation.code, organisation.name)

    def user(
        self,
        *roles: Role,
        organisation: OrgInfo | None = None,
        password: str = PASSWORD,
        totp_secret: str | None = None,
        email: str | None = None,
    ) -> UserInfo:
        organisation = organisation or self.organisation()
        n = next(_sequence)
        with self.app.app_context():
            user = users.create_user(
                None,
                email=email or f"user{n}@example.org",
                full_name=f"User {n}",
                organisation_id=organisation.id,
                roles=roles or (Role.REFERRER,),
                password=password,
                totp_secret=totp_secret,
            )
            commit_and_seal(self.app)
            return UserInfo(
                user.id,
                user.email,
                password,
                organisation.id,
                tuple(roles or (Role.REFERRER,)),
                totp_secret,
            )


def token_for(client: FlaskClient, user: UserInfo, otp: str | None = None) -> str:
    """Sign in through the API, as another system would."""
    response = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": user.password, "otp": otp}
    )
    assert response.status_code == 201, response.json
    return str(response.json["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
