"""Demo data: the agencies of Operation Sceptre and one user per role.

Idempotent: running it again adds what is missing and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Organisation, OrganisationKind, Role, User
from referral_app.services import organisations, users

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
    DemoUser("orgadmin@essex-yjs.demo", "Alex Morgan", "essex-yjs", (Role.ORG_ADMIN,)),
    DemoUser("auditor@essex-yjs.demo", "Jordan Lee", "essex-yjs", (Role.AUDITOR,)),
    DemoUser("sysadmin@referrals.demo", "Chris Walker", "essex-cc-childrens", (Role.SYSTEM_ADMIN,)),
]


def seed_demo() -> list[DemoUser]:
    """Create the demo agencies and users that are missing. Returns every demo user."""
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
    return DEMO_USERS
