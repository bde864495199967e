"""Demo information sharing agreements between the demo agencies, loaded
before the demo referrals so that their shares cite them: the Essex
exploitation prevention partnership (police, youth justice, children's
services), due for review in three weeks, and the youth justice mentoring
agreement with Safer Futures. Shares between the police and Safer Futures
have no agreement: they give a reason (and show in the report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import LawfulBasis, Organisation, User, uk_today, utcnow
from referral_app.models.agreement import Agreement, AgreementParty, DataCategory

B, C = LawfulBasis, DataCategory


@dataclass(frozen=True)
class DemoAgreement:
    title: str
    reference: str
    purposes: str
    parties: tuple[str, ...]
    bases: tuple[LawfulBasis, ...]
    categories: tuple[DataCategory, ...]
    started_days_ago: int
    review_in_days: int


AGREEMENTS = [
    DemoAgreement(
        title="Essex exploitation prevention partnership",
        reference="ISA-ESX-2025-03",
        purposes=(
            "Identifying children at risk of criminal exploitation and county lines, "
            "and agreeing a multi-agency response (MACE)."
        ),
        parties=("essex-police", "essex-yjs", "essex-cc-childrens"),
        bases=(B.PUBLIC_TASK, B.LEGAL_OBLIGATION, B.VITAL_INTERESTS),
        categories=(
            C.IDENTITY_AND_CONTACT,
            C.FAMILY_AND_HOUSEHOLD,
            C.EDUCATION,
            C.OFFENDING_AND_POLICE_INTELLIGENCE,
            C.SOCIAL_CARE,
            C.SPECIAL_CATEGORY,
        ),
        started_days_ago=600,
        review_in_days=21,  # near its review date: its managers are told
    ),
    DemoAgreement(
        title="Youth justice mentoring referrals to Safer Futures",
        reference="ISA-YJS-SF-2026-01",
        purposes="Places on Safer Futures' mentoring and football programmes.",
        parties=("essex-yjs", "safer-futures"),
        bases=(B.PUBLIC_TASK, B.CONSENT),
        categories=(C.IDENTITY_AND_CONTACT, C.EDUCATION),
        started_days_ago=200,
        review_in_days=165,
    ),
]


def load_agreements() -> list[Agreement]:
    """The demo agreements, recorded by the youth justice manager."""
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    author = db.session.scalars(select(User).where(User.email == "manager@essex-yjs.demo")).one()
    today, now = uk_today(), utcnow()
    made = []
    for spec in AGREEMENTS:
        agreement = Agreement(
            title=spec.title,
            reference=spec.reference,
            purposes=spec.purposes,
            lawful_bases=[str(basis) for basis in spec.bases],
            data_categories=[str(category) for category in spec.categories],
            starts_on=today - timedelta(days=spec.started_days_ago),
            review_on=today + timedelta(days=spec.review_in_days),
            document_reference=f"Partnerships shared drive: {spec.reference} (signed).pdf",
            created_by_id=author.id,
            created_by_organisation_id=author.organisation_id,
            created_at=now,
            updated_at=now,
            parties=[AgreementParty(organisation_id=agencies[code].id) for code in spec.parties],
        )
        db.session.add(agreement)
        made.append(agreement)
    db.session.flush()
    return made
