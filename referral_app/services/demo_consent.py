"""The demo's consent story, told through services.consent after the
referrals (services.demo_referrals): a referral the police made to the
youth justice service and that service is working, consent given by the
mother when it was made and again by the boy at the first home visit; the
youth justice manager shared it with the youth charity for mentoring, on
consent; then the mother rang to withdraw consent. The share is flagged
and the youth justice service has an action to decide whether to keep
sharing, due in two working days (the decision is left for the demo)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import UK, ConsentStatus, LawfulBasis, Organisation, Share, User
from referral_app.models.consent import ConsentGiver, ConsentMethod
from referral_app.services import agreements, casework, consent
from referral_app.services.demo_meetings import _open_referral

MANAGER = "manager@essex-yjs.demo"
CASEWORKER = "caseworker@essex-yjs.demo"


def _day(days_ago: int, hour: int) -> datetime:
    day = datetime.now(UK).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 0), tzinfo=UK).astimezone(UTC)


def load_consent() -> int:
    """Tell the consent story; returns how many shares wait for a decision
    (none when the demo referral it needs is not there)."""
    manager = db.session.scalars(select(User).where(User.email == MANAGER)).one()
    caseworker = db.session.scalars(select(User).where(User.email == CASEWORKER)).one()
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    police, yjs, charity = (
        agencies["essex-police"],
        agencies["essex-yjs"],
        agencies["safer-futures"],
    )
    referral = _open_referral(police, yjs, 2)
    if referral is None:
        return 0
    consent.record_change(
        caseworker,
        referral,
        status=ConsentStatus.OBTAINED_FROM_CHILD,
        method=ConsentMethod.IN_PERSON,
        occurred_at=_day(12, 16),
        note="Agreed at the first home visit to meet a mentor.",
    )
    live = db.session.scalar(
        select(Share.id).where(
            Share.referral_id == referral.id,
            Share.organisation_id == charity.id,
            Share.revoked_at.is_(None),
        )
    )
    if live is None:
        casework.share(
            manager,
            referral,
            organisation_id=charity.id,
            purpose="Mentoring programme place, agreed with the family",
            lawful_basis=LawfulBasis.CONSENT,
            expires_at=_day(-90, 17),
            **agreements.citation_for(
                yjs.id,
                charity.id,
                LawfulBasis.CONSENT,
                reason="Mentoring offered on the family's consent: no agreement with the charity",
            ),
        )
    recorded = consent.record_change(
        caseworker,
        referral,
        status=ConsentStatus.WITHDRAWN,
        given_by=ConsentGiver.PARENT_OR_CARER,
        method=ConsentMethod.PHONE,
        occurred_at=_day(1, 10),
        note="His mother rang: she no longer wants the charity to know about him.",
    )
    return recorded.flagged
