"""Information sharing agreements as data, and the check that a share is
covered by one (or says why it is made without one).

An agreement is seen by its parties alone: every user of a party agency
with a case role and its auditors read it; another agency's agreement does
not exist for them (NotFound). Managers of a party agency create, change
and end the agreements their agency is a party to (Permission.
AGREEMENTS_MANAGE); org admins do not: they run accounts, not decisions
about what the agency shares.

A share of a referral (casework.share) cites an agreement in force on the
UK day it is made, naming both the sharing agency and the recipient agency
as parties and listing the share's lawful basis; or it gives the reason it
is made without one, which is recorded on the share, audited, and told to
the auditors of both agencies (notifications.notify_about_share: the
agencies, the purpose and the reason, never the child).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import LawfulBasis, Organisation, Role, Share, User, uk_today, utcnow
from referral_app.models.agreement import Agreement, AgreementParty
from referral_app.services import audit, notifications
from referral_app.services.errors import Forbidden, Invalid, NotFound

# A reason for sharing without an agreement says something: a few words.
REASON_MIN_WORDS = 3
NEITHER = (
    "Choose the information sharing agreement that covers this share, "
    "or say why you are sharing without one"
)
EDITABLE = (
    "title",
    "reference",
    "purposes",
    "lawful_bases",
    "data_categories",
    "party_ids",
    "starts_on",
    "review_on",
    "ends_on",
    "document_reference",
)


def is_party(organisation_id: uuid.UUID, agreement: Agreement) -> bool:
    return organisation_id in agreement.party_ids


def may_manage(actor: User, agreement: Agreement | None = None) -> bool:
    """A manager of a party agency (of any agency, for a new agreement)."""
    if not actor.has_role(Role.MANAGER):
        return False
    return agreement is None or is_party(actor.organisation_id, agreement)


def _party_of(organisation_id: uuid.UUID) -> Any:
    return Agreement.id.in_(
        select(AgreementParty.agreement_id).where(AgreementParty.organisation_id == organisation_id)
    )


def party_agreements(organisation_id: uuid.UUID) -> list[Agreement]:
    """The agreements the agency is a party to, newest start first (no statement)."""
    return list(
        db.session.scalars(
            select(Agreement)
            .where(_party_of(organisation_id))
            .order_by(Agreement.starts_on.desc(), Agreement.title, Agreement.id)
        )
    )


def list_agreements(actor: User) -> list[Agreement]:
    """The agreements the actor's agency is a party to, newest start first."""
    found = party_agreements(actor.organisation_id)
    audit.record(
        "agreement.list",
        actor,
        record_type="agreement",
        record_ids=[agreement.id for agreement in found],
    )
    return found


def get_agreement(actor: User, agreement_id: uuid.UUID) -> Agreement:
    """An agreement the actor's agency is a party to; NotFound otherwise."""
    agreement = db.session.scalar(
        select(Agreement).where(Agreement.id == agreement_id, _party_of(actor.organisation_id))
    )
    if agreement is None:
        raise NotFound("No such agreement.")
    return agreement


def read_agreement(actor: User, agreement_id: uuid.UUID) -> Agreement:
    """`get_agreement`, its read recorded."""
    agreement = get_agreement(actor, agreement_id)
    audit.record("agreement.read", actor, record_type="agreement", record_id=agreement.id)
    return agreement


def _errors(actor: User, values: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with an agreement's values (all of them, as they
    would stand after the change)."""
    errors: dict[str, list[str]] = {}
    party_ids: set[uuid.UUID] = set(values["party_ids"])
    active = set(
        db.session.scalars(
            select(Organisation.id).where(
                Organisation.id.in_(party_ids), Organisation.active.is_(True)
            )
        )
    )
    if party_ids - active:
        errors["party_ids"] = ["Choose agencies that are still active."]
    elif len(party_ids) < 2:
        errors["party_ids"] = ["Choose at least two agencies: yours and another."]
    elif actor.organisation_id not in party_ids:
        errors["party_ids"] = ["Your agency must be a party to the agreement."]
    if not values["lawful_bases"]:
        errors["lawful_bases"] = ["Choose at least one lawful basis."]
    if not values["data_categories"]:
        errors["data_categories"] = ["Choose at least one category of data."]
    starts_on, review_on, ends_on = values["starts_on"], values["review_on"], values["ends_on"]
    if review_on < starts_on:
        errors["review_on"] = ["The review date must be on or after the start date."]
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = ["The end date must be on or after the start date."]
    return errors


def _apply(agreement: Agreement, values: dict[str, Any]) -> None:
    for name in EDITABLE:
        if name == "party_ids":
            wanted = set(values["party_ids"])
            agreement.parties = [p for p in agreement.parties if p.organisation_id in wanted]
            have = agreement.party_ids
            for organisation_id in sorted(wanted - have):
                agreement.parties.append(AgreementParty(organisation_id=organisation_id))
        elif name in ("lawful_bases", "data_categories"):
            setattr(agreement, name, [str(value) for value in values[name]])
        else:
            setattr(agreement, name, values[name])


def create(actor: User, **values: Any) -> Agreement:
    """A new agreement. `values`: title, reference, purposes, lawful_bases
    (LawfulBasis), data_categories (DataCategory), party_ids, starts_on,
    review_on, ends_on (optional), document_reference (optional).

    Refuses: anyone but a manager (Forbidden); fewer than two parties, the
    actor's agency not a party, an inactive agency, no basis or category,
    a review or end date before the start (Invalid)."""
    if not may_manage(actor):
        raise Forbidden("Only a manager records an information sharing agreement.")
    values = {"ends_on": None, "document_reference": None, **values}
    errors = _errors(actor, values)
    if errors:
        raise Invalid("The agreement is not valid.", errors)
    now = utcnow()
    agreement = Agreement(
        created_by_id=actor.id,
        created_by_organisation_id=actor.organisation_id,
        created_at=now,
        updated_at=now,
        parties=[],
    )
    _apply(agreement, values)
    db.session.add(agreement)
    db.session.flush()
    audit.record(
        "agreement.created",
        actor,
        record_type="agreement",
        record_id=agreement.id,
        fields=sorted(name for name in EDITABLE if values.get(name) is not None),
    )
    return agreement


def update(actor: User, agreement: Agreement, **changes: Any) -> Agreement:
    """Change an agreement the actor's agency is a party to (read with
    get_agreement): any of the values `create` takes; ending it is setting
    `ends_on`. The change is audited with the names of the fields changed
    (the history of the agreement). Refuses what `create` refuses, and an
    actor who is not a manager of a party agency (Forbidden)."""
    if not may_manage(actor, agreement):
        raise Forbidden("Only a manager of a party agency changes the agreement.")
    current = {
        name: (sorted(agreement.party_ids) if name == "party_ids" else getattr(agreement, name))
        for name in EDITABLE
    }
    values = {**current, **changes}
    errors = _errors(actor, values)
    if errors:
        raise Invalid("The agreement is not valid.", errors)
    changed = sorted(
        name
        for name in changes
        if (
            set(values[name]) != set(current[name])
            if name in ("party_ids", "lawful_bases", "data_categories")
            else values[name] != current[name]
        )
    )
    if changed:
        _apply(agreement, values)
        agreement.updated_at = utcnow()
        db.session.flush()
        audit.record(
            "agreement.updated",
            actor,
            record_type="agreement",
            record_id=agreement.id,
            fields=changed,
        )
    return agreement


def in_force_between(
    first: uuid.UUID, second: uuid.UUID, *, day: date | None = None
) -> list[Agreement]:
    """Agreements in force on `day` (UK today) naming both agencies, the
    newest start first."""
    day = day or uk_today()
    return list(
        db.session.scalars(
            select(Agreement)
            .where(
                _party_of(first),
                _party_of(second),
                Agreement.starts_on <= day,
                (Agreement.ends_on.is_(None)) | (Agreement.ends_on >= day),
            )
            .order_by(Agreement.starts_on.desc(), Agreement.created_at.desc(), Agreement.id)
        )
    )


def in_force_for(organisation_id: uuid.UUID) -> list[Agreement]:
    """Agreements in force today that the agency is a party to (what the
    share form offers; no statement: the form shows titles and parties)."""
    day = uk_today()
    return list(
        db.session.scalars(
            select(Agreement)
            .where(
                _party_of(organisation_id),
                Agreement.starts_on <= day,
                (Agreement.ends_on.is_(None)) | (Agreement.ends_on >= day),
            )
            .order_by(Agreement.title, Agreement.id)
        )
    )


NOT_A_PARTY = "Choose an agreement your agency is a party to."
NOT_IN_FORCE = "This agreement is not in force today."
NOT_THE_RECIPIENT = "This agreement does not name the agency you are sharing with."
NOT_THE_BASIS = "This agreement does not cover sharing on this lawful basis."
REASON_TOO_SHORT = "Say in a few words why you are sharing without an agreement."
SHARE_MESSAGES = (
    NEITHER + ".",
    NOT_A_PARTY,
    NOT_IN_FORCE,
    NOT_THE_RECIPIENT,
    NOT_THE_BASIS,
    REASON_TOO_SHORT,
)


@dataclass(frozen=True)
class Citation:
    """What a share cites: an agreement, or the reason for having none."""

    agreement_id: uuid.UUID | None
    no_agreement_reason: str | None


def check_share(
    actor: User,
    *,
    organisation_id: uuid.UUID,
    lawful_basis: LawfulBasis,
    agreement_id: uuid.UUID | None,
    no_agreement_reason: str | None,
) -> tuple[Citation | None, dict[str, list[str]]]:
    """The citation of a share by the actor's agency to `organisation_id`,
    or the errors naming the field: neither an agreement nor a reason (on
    `agreement_id`); an agreement the actor's agency is not a party to
    (as unknown), not in force today, not naming the recipient, or not
    listing the lawful basis; a reason of fewer than a few words."""
    reason = (no_agreement_reason or "").strip() or None
    if agreement_id is None and reason is None:
        return None, {"agreement_id": [NEITHER + "."]}
    if agreement_id is None:
        if len((reason or "").split()) < REASON_MIN_WORDS:
            return None, {"no_agreement_reason": [REASON_TOO_SHORT]}
        return Citation(None, reason), {}
    agreement = db.session.scalar(
        select(Agreement).where(Agreement.id == agreement_id, _party_of(actor.organisation_id))
    )
    problem = None
    if agreement is None:
        problem = NOT_A_PARTY
    elif not agreement.in_force_on(uk_today()):
        problem = NOT_IN_FORCE
    elif not is_party(organisation_id, agreement):
        problem = NOT_THE_RECIPIENT
    elif str(lawful_basis) not in agreement.lawful_bases:
        problem = NOT_THE_BASIS
    if problem:
        return None, {"agreement_id": [problem]}
    return Citation(agreement_id, None), {}


def on_shared(actor: User, grant: Share) -> None:
    """After a share is made: one without an agreement is audited as such
    and told to the auditors of both agencies. (The reason itself stays on
    the share, where retention reaches it; the append-only audit trail
    records that one was given.)"""
    if grant.agreement_id is not None:
        return
    audit.record(
        "referral.shared_without_agreement",
        actor,
        record_type="referral",
        record_id=grant.referral_id,
        record_ids=[grant.id],
        recipient_organisation_id=grant.organisation_id,
        fields=["no_agreement_reason"],
    )
    notifications.on_share_without_agreement(actor, grant)


def citation_for(
    sharing: uuid.UUID, recipient: uuid.UUID, lawful_basis: LawfulBasis, *, reason: str
) -> dict[str, Any]:
    """What a share made by the system on someone's behalf cites (one for a
    multi-agency meeting, a demo share): the newest agreement in force
    naming both agencies and listing the basis, otherwise `reason`
    (reported like any share without an agreement)."""
    for agreement in in_force_between(sharing, recipient):
        if str(lawful_basis) in agreement.lawful_bases:
            return {"agreement_id": agreement.id, "no_agreement_reason": None}
    return {"agreement_id": None, "no_agreement_reason": reason}


__all__ = [
    "NEITHER",
    "Citation",
    "check_share",
    "citation_for",
    "create",
    "get_agreement",
    "in_force_between",
    "in_force_for",
    "is_party",
    "list_agreements",
    "may_manage",
    "on_shared",
    "party_agreements",
    "read_agreement",
    "update",
]
