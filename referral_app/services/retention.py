"""Retention: children's data is not kept longer than the law allows.

A child is past retention when every referral about them ended (closed,
declined or withdrawn) more than RETENTION_DAYS ago and none is on legal
hold. Their identifying details are replaced, and the free text of their
referrals, status changes, notes, actions and meeting discussions removed;
the statuses, risk levels, outcomes and dates that the reports count are
kept, and so is the audit
trail (which never held the values). A draft or a live referral keeps
the child's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ScalarSelect, case, exists, func, or_, select, update

from referral_app.extensions import db
from referral_app.models import (
    Action,
    AgendaItem,
    Child,
    Note,
    Referral,
    ReferralStatus,
    Screening,
    StatusChange,
    User,
    utcnow,
)
from referral_app.services import audit, consent, documents
from referral_app.services.errors import Forbidden
from referral_app.services.scoping import Relation, relations

ENDED = (ReferralStatus.CLOSED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN)
REMOVED = "[removed under the retention policy]"


@dataclass
class RetentionReport:
    children: list[uuid.UUID] = field(default_factory=list)
    referrals: int = 0
    notes: int = 0
    documents: int = 0
    cutoff: datetime | None = None


def _ended_at() -> ScalarSelect[datetime]:
    """When each referral ended: its last status change into an ended status."""
    return (
        select(func.max(StatusChange.at))
        .where(StatusChange.referral_id == Referral.id, StatusChange.to_status.in_(ENDED))
        .correlate(Referral)
        .scalar_subquery()
    )


def due_children(now: datetime | None = None) -> tuple[list[uuid.UUID], datetime]:
    """Children whose every referral ended before the cutoff, none on hold."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config["RETENTION_DAYS"]))
    keeps_data = exists().where(
        Referral.child_id == Child.id,
        or_(
            Referral.status.not_in(ENDED),
            Referral.legal_hold.is_(True),
            _ended_at() >= cutoff,
        ),
    )
    has_referral = exists().where(Referral.child_id == Child.id)
    ids = db.session.scalars(
        select(Child.id).where(Child.anonymised_at.is_(None), has_referral, ~keeps_data)
    ).all()
    return list(ids), cutoff


def _forget_screening_text(referral_ids: list[uuid.UUID]) -> None:
    """The evidence written for each screening answer and the reason for a
    judgement go; the answers (yes, no, not known) and the levels stay."""
    for screening in db.session.scalars(
        select(Screening).where(Screening.referral_id.in_(referral_ids))
    ):
        screening.answers = {
            indicator: {**answer, "evidence": REMOVED} if answer.get("evidence") else answer
            for indicator, answer in screening.answers.items()
        }
        if screening.judgement_reason:
            screening.judgement_reason = REMOVED


def apply(*, dry_run: bool) -> RetentionReport:
    """Anonymise what is past retention (or, with dry_run, only say what would
    be). Writes one audit event per child anonymised."""
    child_ids, cutoff = due_children()
    report = RetentionReport(children=child_ids, cutoff=cutoff)
    referral_ids = (
        list(db.session.scalars(select(Referral.id).where(Referral.child_id.in_(child_ids))))
        if child_ids
        else []
    )
    report.referrals = len(referral_ids)
    report.notes = (
        db.session.scalar(
            select(func.count(Note.id)).where(
                Note.referral_id.in_(referral_ids), Note.redacted_at.is_(None)
            )
        )
        or 0
        if referral_ids
        else 0
    )
    if dry_run or not child_ids:
        return report
    now = utcnow()
    for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids))):
        child.first_name = "Anonymised"
        child.last_name = "Child"
        # The year stays (reports by age band); the day and month go.
        child.date_of_birth = date(child.date_of_birth.year, 1, 1)
        child.gender = child.address = child.postcode = child.school = None
        child.aliases = []
        child.anonymised_at = now
    # Plain UPDATEs: retention is not a change a caseworker made, so no
    # version bump; the audit events below record it.
    db.session.execute(
        update(Referral)
        .where(Referral.id.in_(referral_ids))
        .values(
            reason=REMOVED,
            consent_notes=None,
            decline_reason=None,
            outcome_summary=REMOVED,
            legal_hold_reason=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(StatusChange)
        .where(StatusChange.referral_id.in_(referral_ids), StatusChange.reason.is_not(None))
        .values(reason=REMOVED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Note)
        .where(Note.referral_id.in_(referral_ids), Note.redacted_at.is_(None))
        .values(body=REMOVED, redacted_at=now)
        .execution_options(synchronize_session=False)
    )
    # What partners wrote about the child after the referral: the actions
    # agreed (what to do and how it ended) and the meetings' discussions.
    db.session.execute(
        update(Action)
        .where(Action.referral_id.in_(referral_ids))
        .values(
            description=REMOVED,
            closing_note=case((Action.closing_note.is_(None), None), else_=REMOVED),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(AgendaItem)
        .where(AgendaItem.referral_id.in_(referral_ids), AgendaItem.discussion.is_not(None))
        .values(discussion=REMOVED)
        .execution_options(synchronize_session=False)
    )
    _forget_screening_text(referral_ids)
    consent.forget_text(referral_ids)
    # Documents: the content leaves storage; the title and filename (which
    # may name the child) go; kind, type, size and dates stay for reports.
    report.documents = documents.remove_content(referral_ids)
    db.session.flush()
    for child_id in child_ids:
        audit.record(
            "retention.anonymised",
            None,
            record_type="child",
            record_id=child_id,
            record_ids=[
                str(rid)
                for rid in db.session.scalars(
                    select(Referral.id).where(Referral.child_id == child_id)
                )
            ],
            fields=[
                "first_name",
                "last_name",
                "date_of_birth",
                "gender",
                "address",
                "postcode",
                "school",
                "aliases",
                "referral.reason",
                "referral.consent_notes",
                "referral.decline_reason",
                "referral.outcome_summary",
                "status_change.reason",
                "note.body",
                "action.description",
                "action.closing_note",
                "agenda_item.discussion",
                "screening.evidence",
                "document.content",
                "document.title",
                "document.filename",
                "screening.judgement_reason",
                "consent_change.note",
                "share.consent_decision_reason",
            ],
            reason=f"ended before {cutoff.date().isoformat()}",
        )
    return report


def set_legal_hold(actor: User, referral: Referral, *, on: bool, reason: str) -> None:
    """Put a referral on legal hold (retention skips it and its child) or
    lift it. Managers of the referring or receiving agency only (Forbidden)."""
    held_as = relations(actor, referral)
    if "manager" not in actor.roles or not held_as & {Relation.REFERRING, Relation.RECEIVING}:
        raise Forbidden("Only a manager of the referring or receiving agency can do that.")
    if referral.legal_hold == on:
        return
    referral.legal_hold = on
    referral.legal_hold_reason = reason
    db.session.flush()
    # The reason is free text that may name people: kept on the referral,
    # where retention can reach it; the trail records that one was given.
    audit.record(
        "referral.legal_hold_set" if on else "referral.legal_hold_lifted",
        actor,
        record_type="referral",
        record_id=referral.id,
        fields=["legal_hold", "legal_hold_reason"],
    )
