"""Consent as a history, and the lawful bases that apply to an agency.

Every change in the family's consent to a referral is recorded (who gave,
refused or withdrew it, how, when it was said, who recorded it); the
referral's `consent_status` is the latest, kept in step in the same
transaction so that the lists and reports read it as before.

Who records a change: staff with a case role in the referring or receiving
agency of a submitted referral (a draft's consent is edited on the draft).
An agency holding the referral through a share reads the history (consent
matters to what it may do with the referral) but records nothing.

Withdrawal acts (services.consent_decisions): each live share of the
referral is flagged and the agency that granted it gets an action to decide.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import (
    ConsentStatus,
    LawfulBasis,
    OrganisationKind,
    Referral,
    ReferralStatus,
    Share,
    SpecialCategoryCondition,
    User,
    utcnow,
)
from referral_app.models.consent import ConsentChange, ConsentGiver, ConsentMethod
from referral_app.policy import CASE_ROLES
from referral_app.services import audit
from referral_app.services.errors import Conflict, Forbidden, Invalid
from referral_app.services.scoping import Relation, sides

NOTE_LIMIT = 2000
# What retention leaves in place of removed text (as services.retention does).
REMOVED_TEXT = "[removed under the retention policy]"
# The namespace of the ids of first changes (uuid5 of the referral's id).
_FIRST_CHANGE = uuid.UUID("6f1c1f0e-4a43-4c55-9a55-2c0e5e7a9b02")
# A change may be dated a little ahead to allow for clocks that disagree.
CLOCK_SKEW = timedelta(minutes=5)
OBTAINED = frozenset({ConsentStatus.OBTAINED_FROM_CHILD, ConsentStatus.OBTAINED_FROM_PARENT})
# Who said it, when the status itself says so.
_GIVER_OF = {
    ConsentStatus.OBTAINED_FROM_CHILD: ConsentGiver.CHILD,
    ConsentStatus.OBTAINED_FROM_PARENT: ConsentGiver.PARENT_OR_CARER,
}

# DPA 2018 s.30 and Schedule 7: the competent authorities for the law
# enforcement purposes among the agencies here.
COMPETENT_AUTHORITIES = frozenset({OrganisationKind.POLICE, OrganisationKind.YOUTH_JUSTICE})
_GENERAL_BASES = (
    LawfulBasis.PUBLIC_TASK,
    LawfulBasis.LEGAL_OBLIGATION,
    LawfulBasis.VITAL_INTERESTS,
    LawfulBasis.CONSENT,
)


def lawful_bases_for(kind: OrganisationKind) -> tuple[LawfulBasis, ...]:
    """The lawful bases an agency of this kind may rely on: the UK GDPR
    Article 6 bases for everyone, and the law enforcement purposes (DPA
    2018 Part 3) for a competent authority (police, youth justice)."""
    if kind in COMPETENT_AUTHORITIES:
        return (LawfulBasis.LAW_ENFORCEMENT, *_GENERAL_BASES)
    return _GENERAL_BASES


def conditions_for(basis: LawfulBasis | None) -> tuple[SpecialCategoryCondition, ...]:
    """The special category (or sensitive processing) conditions that go with
    a basis: under Part 3, s.35 with Schedule 8 paragraph 4; otherwise
    Article 9 with DPA 2018 Schedule 1 paragraph 18."""
    if basis is LawfulBasis.LAW_ENFORCEMENT:
        return (SpecialCategoryCondition.LAW_ENFORCEMENT_SAFEGUARDING,)
    return (SpecialCategoryCondition.SAFEGUARDING_CHILDREN,)


def basis_errors(
    kind: OrganisationKind,
    basis: LawfulBasis | None,
    condition: SpecialCategoryCondition | None,
) -> dict[str, list[str]]:
    """Field errors for a basis or condition that does not apply to the
    referring agency's kind (what the referral API and form refuse)."""
    errors: dict[str, list[str]] = {}
    if basis is not None and basis not in lawful_bases_for(kind):
        errors["lawful_basis"] = [
            "Only the police and youth justice services process for law enforcement purposes."
        ]
    elif condition is not None and condition not in conditions_for(basis):
        errors["special_category_condition"] = [
            "This condition does not go with the lawful basis: the law enforcement condition "
            "is for law enforcement processing, the safeguarding condition for the others."
        ]
    return errors


def check_basis(referral: Referral) -> None:
    """Refuse (Invalid) a referral whose basis or condition does not apply
    to its referring agency."""
    errors = basis_errors(
        referral.referring_organisation.kind,
        referral.lawful_basis,
        referral.special_category_condition,
    )
    if errors:
        raise Invalid("The lawful basis does not apply to your agency.", errors)


def _first_change(referral: Referral) -> ConsentChange:
    """What the referral said when it was made, as a change (not added to
    the session). Its id is derived from the referral's, so it is the same
    whether read before or after it is written."""
    status = referral.consent_status
    assert status is not None
    return ConsentChange(
        id=uuid.uuid5(_FIRST_CHANGE, str(referral.id)),
        referral_id=referral.id,
        status=status,
        given_by=_GIVER_OF.get(status),
        method=ConsentMethod.ON_THE_REFERRAL,
        note=None,
        occurred_at=referral.created_at,
        recorded_by=referral.referring_user,
        recorded_by_id=referral.referring_user_id,
        recorded_by_organisation=referral.referring_organisation,
        recorded_by_organisation_id=referral.referring_organisation_id,
        recorded_at=referral.created_at,
    )


def _written(referral: Referral) -> list[ConsentChange]:
    return list(
        db.session.scalars(
            select(ConsentChange)
            .where(ConsentChange.referral_id == referral.id)
            .order_by(ConsentChange.recorded_at, ConsentChange.id)
        )
    )


def changes_of(referral: Referral) -> list[ConsentChange]:
    """The consent history, oldest first: the changes written, or, before
    any was, what the referral said when it was made (creating a referral
    writes no change, to keep its statements within their budget: the first
    is written by `keep_first_change` when the status first changes)."""
    written = _written(referral)
    if not written and referral.consent_status is not None:
        return [_first_change(referral)]
    return written


def keep_first_change(referral: Referral) -> None:
    """Before the status changes: write what the referral said when it was
    made as the first change, if nothing has been written yet."""
    if referral.consent_status is None:
        return
    exists = db.session.scalar(
        select(ConsentChange.id).where(ConsentChange.referral_id == referral.id).limit(1)
    )
    if exists is None:
        db.session.add(_first_change(referral))
        db.session.flush()


def history(actor: User, referral: Referral) -> list[ConsentChange]:
    """The consent changes of a held referral, oldest first (`changes_of`),
    read recorded (referral.consent_read)."""
    changes = changes_of(referral)
    audit.record(
        "referral.consent_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[change.id for change in changes],
    )
    return changes


def may_record(actor: User, referral: Referral) -> bool:
    """Case-role staff of the referring or receiving agency, once submitted."""
    return (
        referral.status is not ReferralStatus.DRAFT
        and bool(actor.roles & CASE_ROLES)
        and bool(sides(actor, referral) & {Relation.REFERRING, Relation.RECEIVING})
    )


def _change_errors(
    status: ConsentStatus,
    given_by: ConsentGiver | None,
    method: ConsentMethod,
    note: str | None,
    occurred_at: datetime,
    now: datetime,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    expected = _GIVER_OF.get(status)
    if expected is not None and given_by not in (None, expected):
        errors["given_by"] = ["This does not match who gave consent."]
    elif status in (ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN) and given_by is None:
        errors["given_by"] = ["Select who refused or withdrew consent."]
    if method is ConsentMethod.ON_THE_REFERRAL:
        errors["method"] = ["Select how they told you."]
    if status is ConsentStatus.NOT_SOUGHT and not note:
        errors["note"] = ["Say why consent was not sought."]
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = ["The date must be today or in the past."]
    return errors


@dataclass(frozen=True)
class Recorded:
    change: ConsentChange
    flagged: int  # how many live shares now wait for a decision


def record_change(
    actor: User,
    referral: Referral,
    *,
    status: ConsentStatus,
    method: ConsentMethod,
    occurred_at: datetime,
    given_by: ConsentGiver | None = None,
    note: str | None = None,
) -> Recorded:
    """Record a change in consent on a held referral and make it the
    referral's current status. A withdrawal flags every live share of the
    referral and asks each granting agency to decide (consent_decisions).

    Refuses: an actor who is not case staff of the referring or receiving
    agency (Forbidden); a draft (Conflict); who gave it contradicting the
    status, no one named for a refusal or withdrawal, no reason for not
    seeking it, a date in the future (Invalid)."""
    from referral_app.services import consent_decisions

    if referral.status is ReferralStatus.DRAFT:
        raise Conflict("A draft's consent is recorded on the draft: submit it first.")
    if not may_record(actor, referral):
        raise Forbidden(
            "Only staff of the referring or receiving agency record changes in consent."
        )
    now = utcnow()
    note = (note or "").strip() or None
    errors = _change_errors(status, given_by, method, note, occurred_at, now)
    if errors:
        raise Invalid("The change in consent is not valid.", errors)
    previous = referral.consent_status
    keep_first_change(referral)
    change = _append(
        actor,
        referral,
        status=status,
        given_by=given_by or _GIVER_OF.get(status),
        method=method,
        note=note,
        occurred_at=occurred_at,
        now=now,
    )
    flagged = 0
    if status is ConsentStatus.WITHDRAWN:
        flagged = consent_decisions.on_withdrawal(actor, referral, previous, now)
    return Recorded(change, flagged)


def _append(
    actor: User,
    referral: Referral,
    *,
    status: ConsentStatus,
    given_by: ConsentGiver | None,
    method: ConsentMethod,
    note: str | None,
    occurred_at: datetime,
    now: datetime,
) -> ConsentChange:
    change = ConsentChange(
        referral_id=referral.id,
        status=status,
        given_by=given_by,
        method=method,
        note=note,
        occurred_at=occurred_at,
        recorded_by_id=actor.id,
        recorded_by_organisation_id=actor.organisation_id,
        recorded_at=now,
    )
    db.session.add(change)
    referral.consent_status = status
    db.session.flush()
    audit.record(
        "referral.consent_recorded",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[change.id],
        fields=["status", "given_by", "method", "occurred_at", *(["note"] if note else [])],
    )
    return change


def record_from_referral(actor: User, referral: Referral) -> ConsentChange | None:
    """The referral's own consent status as a change, when it is edited on
    the referral (the caller kept the first change before): how "on the
    referral", when now. Nothing when it has no status."""
    if referral.consent_status is None:
        return None
    now = utcnow()
    return _append(
        actor,
        referral,
        status=referral.consent_status,
        given_by=_GIVER_OF.get(referral.consent_status),
        method=ConsentMethod.ON_THE_REFERRAL,
        note=None,
        occurred_at=now,
        now=now,
    )


def forget_text(referral_ids: list[uuid.UUID]) -> None:
    """Retention: the free text of the referrals' consent changes (notes) and
    of the decisions about their shares (reasons) goes; who, when, how and
    what stay."""
    if not referral_ids:
        return
    db.session.execute(
        update(ConsentChange)
        .where(ConsentChange.referral_id.in_(referral_ids), ConsentChange.note.is_not(None))
        .values(note=REMOVED_TEXT)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Share)
        .where(Share.referral_id.in_(referral_ids), Share.consent_decision_reason.is_not(None))
        .values(consent_decision_reason=REMOVED_TEXT)
        .execution_options(synchronize_session=False)
    )


__all__ = [
    "COMPETENT_AUTHORITIES",
    "Recorded",
    "basis_errors",
    "changes_of",
    "check_basis",
    "conditions_for",
    "forget_text",
    "history",
    "keep_first_change",
    "lawful_bases_for",
    "may_record",
    "record_change",
    "record_from_referral",
]
