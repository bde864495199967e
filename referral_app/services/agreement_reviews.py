"""Agreements near their review date: the daily job (referral_app.jobs,
07:10) tells the managers of every party, once per agreement and review
date (services.agreements holds the agreements themselves)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import uk_today
from referral_app.models.agreement import Agreement
from referral_app.services import notifications

REVIEW_NOTICE_DAYS = 30


def notify_reviews_due(today: date | None = None) -> int:
    """The daily job: for every agreement not ended whose review date is
    within REVIEW_NOTICE_DAYS (or past), tell the managers of its parties,
    once per agreement and review date (a new review date is told again).
    Returns how many agreements were notified."""
    today = today or uk_today()
    due = list(
        db.session.scalars(
            select(Agreement).where(
                Agreement.review_on <= today + timedelta(days=REVIEW_NOTICE_DAYS),
                (Agreement.ends_on.is_(None)) | (Agreement.ends_on >= today),
                (Agreement.review_notified_on.is_(None))
                | (Agreement.review_notified_on != Agreement.review_on),
            )
        )
    )
    for agreement in due:
        notifications.notify_agreement_review(agreement)
        agreement.review_notified_on = agreement.review_on
    db.session.flush()
    return len(due)
