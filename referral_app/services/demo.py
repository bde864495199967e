"""Demo data: the agencies of Operation Sceptre, one user per role, and
about forty referrals at every stage of the loop (services.demo_referrals),
then a multi-agency meeting with its actions and the next one
(services.demo_meetings).

Idempotent: running it again adds the agencies and users that are missing,
and the referrals only if they were never loaded. Refused under the
production configuration: the demo users share a published password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Organisation, OrganisationKind, Role, User
from referral_app.services import (
    demo_agreements,
    demo_consent,
    demo_directory,
    demo_documents,
    demo_meetings,
    demo_referrals,
    demo_screenings,
    organisations,
    users,
)
from referral_app.services.errors import Forbidden

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo; never in production

DEMO_ORGANISATIONS: list[tuple[str, str, OrganisationKind]] = [
    ("essex-police", "Essex Police", OrganisationKind.POLICE),
    ("kent-police", "Kent Police", OrganisationKind.POLICE),
    ("met-police", "Metropolitan Police Service", OrganisationKind.POLICE),
    ("btp", "British Transport Police", OrganisationKind.POLICE),
    ("essex-yjs", "Essex Youth Justice Service", OrganisationKind.YOUTH_JUSTICE),
    ("essex-cc-childrens", "Essex County Council Children's Services", OrganisationKind.COUNCIL),
    ("safer-futures", "Safer Futures Youth Charity", OrganisationKind.CHARITY),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    organisation_code: str
    roles: tuple[Role, ...]


DEMO_USERS: list[DemoUser] = [
    DemoUser("referrer@essex-police.demo", "PC Sam Okafor", "essex-police", (Role.REFERRER,)),
    DemoUser("manager@essex-police.demo", "Insp. Lewis Grant", "essex-police", (Role.MANAGER,)),
    DemoUser("manager@essex-yjs.demo", "Priya Shah", "essex-yjs", (Role.MANAGER,)),
    DemoUser("caseworker@essex-yjs.demo", "Tom Bennett", "essex-yjs", (Role.CASEWORKER,)),
    DemoUser("manager@safer-futures.demo", "Grace Adeyemi", "safer-futures", (Role.MANAGER,)),
    DemoUser("manager@essex-cc.demo", "Helen Carter", "essex-cc-childrens", (Role.MANAGER,)),
    DemoUser("orgadmin@essex-yjs.demo", "Alex Morgan", "essex-yjs", (Role.ORG_ADMIN,)),
    DemoUser("auditor@essex-yjs.demo", "Jordan Lee", "essex-yjs", (Role.AUDITOR,)),
    DemoUser("sysadmin@referrals.demo", "Chris Walker", "essex-cc-childrens", (Role.SYSTEM_ADMIN,)),
]


PRODUCTION_REFUSAL = (
    "seed-demo refuses to run under the production configuration: the demo users "
    "share a published password. Nothing was written."
)


def refuse_in_production() -> None:
    """Forbidden under the production configuration (its NAME, or APP_ENV)."""
    if current_app.config.get("NAME") == "production" or os.environ.get("APP_ENV") == "production":
        raise Forbidden(PRODUCTION_REFUSAL)


@dataclass(frozen=True)
class Seeded:
    users: list[DemoUser]
    # The referrals loaded by this run: none when they were already there.
    referrals: int
    already_loaded: bool


def seed_demo() -> Seeded:
    """Create the demo agencies and users that are missing, then the demo
    referrals unless they were loaded before. Forbidden in production."""
    refuse_in_production()
    by_code: dict[str, Organisation] = {}
    for code, name, kind in DEMO_ORGANISATIONS:
        existing = db.session.scalar(select(Organisation).where(Organisation.code == code))
        by_code[code] = existing or organisations.create_organisation(
            None, code=code, name=name, kind=kind
        )
    for demo in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == demo.email)) is None:
            users.create_user(
                None,
                email=demo.email,
                full_name=demo.full_name,
                organisation_id=by_code[demo.organisation_code].id,
                roles=demo.roles,
                password=DEMO_PASSWORD,
            )
    demo_directory.load_directory()  # services, not case data: loaded once
    if demo_referrals.loaded():
        return Seeded(DEMO_USERS, referrals=0, already_loaded=True)
    demo_agreements.load_agreements()  # before the shares, which cite them
    told = demo_referrals.load_referrals()
    demo_meetings.load_meetings()
    demo_screenings.load_screenings()
    demo_consent.load_consent()
    demo_documents.load_documents()
    return Seeded(DEMO_USERS, referrals=len(told), already_loaded=False)
