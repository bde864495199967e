"""Creating, changing and finding referrals, always within what the actor's
organisation holds (see services.scoping)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from referral_app.extensions import db
from referral_app.models import (
    Child,
    IdempotencyRecord,
    Organisation,
    ReferenceCounter,
    Referral,
    ReferralStatus,
    User,
    utcnow,
)
from referral_app.services import audit, consent, directory
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound

# Finding referrals has its own module; its names are this service's too.
from referral_app.services.referral_lists import (  # noqa: F401
    REFERENCE,
    Page,
    ReferralFilters,
    ShareTerms,
    first_pages,
    list_referrals,
    search,
)
from referral_app.services.referral_rows import Row, held_row
from referral_app.services.scoping import (
    Relation,
    child_is_visible,
    get_held_referral,
    get_visible_child,
    relations,
)

CHILD_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "school",
    "aliases",
)
REFERRAL_FIELDS = (
    "reason",
    "risk_level",
    "risk_factors",
    "consent_status",
    "consent_notes",
    "lawful_basis",
    "special_category_condition",
    "service_id",  # the directory service it is for (services.directory)
)
TERMINAL = frozenset({ReferralStatus.CLOSED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN})


def _bump(year: int) -> Any:
    """UPDATE ... RETURNING of the year's counter, one more."""
    return (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_value=ReferenceCounter.last_value + 1)
        .returning(ReferenceCounter.last_value)
    )


def next_reference() -> str:
    """The next human reference of the year, e.g. R-2026-000123.

    The counter row is incremented with UPDATE ... RETURNING, which holds its
    lock until commit, so concurrent creators queue instead of colliding."""
    year = utcnow().year
    bump = _bump(year)
    value = db.session.execute(bump).scalar()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(ReferenceCounter).values(year=year, last_value=1))
            value = 1
        except IntegrityError:  # another request made this year's row first
            value = db.session.execute(bump).scalar_one()
    return f"R-{year}-{value:06d}"


def _receiving_and_reference(actor: User, organisation_id: uuid.UUID) -> tuple[Organisation, str]:
    """The receiving organisation (checked as `_receiving_organisation`
    does) and the referral's reference (`next_reference`). On PostgreSQL in
    one statement: the counter's bump is a data-modifying CTE of the
    organisation's read (a refused organisation rolls the bump back with the
    rest of the request)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return _receiving_organisation(actor, organisation_id), next_reference()
    year = utcnow().year
    bump = _bump(year).cte("bump")
    found = db.session.execute(
        select(Organisation, select(bump.c.last_value).scalar_subquery()).where(
            Organisation.id == organisation_id
        )
    ).first()
    organisation, value = found if found is not None else (None, None)
    _check_receiving(actor, organisation)
    assert organisation is not None
    if value is None:  # the year's first referral: its counter row is made
        return organisation, next_reference()
    return organisation, f"R-{year}-{value:06d}"


def _receiving_organisation(actor: User, organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    _check_receiving(actor, organisation)
    assert organisation is not None
    return organisation


def _check_receiving(actor: User, organisation: Organisation | None) -> None:
    if organisation is None or not organisation.active:
        raise Invalid(
            "Choose an active receiving agency.",
            {"receiving_organisation_id": ["Choose an active agency."]},
        )
    if organisation.id == actor.organisation_id:
        raise Invalid(
            "A referral goes to another agency.",
            {"receiving_organisation_id": ["Choose an agency other than your own."]},
        )


def _visible_child(actor: User, child_id: uuid.UUID) -> Child:
    child = db.session.scalar(
        select(Child).where(Child.id == child_id, child_is_visible(actor.organisation_id))
    )
    if child is None:
        # The same answer for a child that does not exist and one held elsewhere.
        raise Invalid("Unknown child.", {"child_id": ["No child with this id is visible to you."]})
    return child


def create_referral(
    actor: User,
    *,
    receiving_organisation_id: uuid.UUID,
    child: dict[str, Any] | None = None,
    child_id: uuid.UUID | None = None,
    **fields: Any,
) -> Referral:
    """A draft referral from the actor's organisation about a new child
    (`child`) or one the organisation can already see (`child_id`).

    Refuses: both or neither of child and child_id, a child the actor cannot
    see, and a receiving organisation that is missing, inactive or the
    actor's own (Invalid)."""
    if (child is None) == (child_id is None):
        raise Invalid(
            "Give the child's details or the id of a known child, not both.",
            {"child": ["Give either child or child_id."]},
        )
    receiving, reference = _receiving_and_reference(actor, receiving_organisation_id)
    if child_id is not None:
        subject = _visible_child(actor, child_id)
    else:
        assert child is not None
        subject = Child(created_by_organisation_id=actor.organisation_id, **child)
        db.session.add(subject)
        db.session.flush()
        audit.record("child.create", actor, record_type="child", record_id=subject.id, fields=child)
    referral = Referral(
        reference=reference,
        child=subject,
        referring_organisation_id=actor.organisation_id,
        referring_user_id=actor.id,
        receiving_organisation=receiving,
        status=ReferralStatus.DRAFT,
        **{name: fields[name] for name in REFERRAL_FIELDS if name in fields},
    )
    if referral.risk_factors is None:
        referral.risk_factors = []
    _check_consent(referral)
    directory.check_named_service(referral)
    db.session.add(referral)
    db.session.flush()
    consent.check_basis(referral)
    audit.record(
        "referral.create",
        actor,
        record_type="referral",
        record_id=referral.id,
        fields=["child", "receiving_organisation_id", *fields],
        # A draft is the referring agency's alone: nothing is disclosed to
        # the receiving agency (nor shown to its auditor) until submission.
    )
    # Its consent status is the first change of its consent history, written
    # when the history first changes (services.consent: no extra statement here).
    return referral


def read_referral(actor: User, referral_id: uuid.UUID) -> Referral:
    """A held referral, its read recorded in the audit trail."""
    referral = get_held_referral(actor, referral_id)
    audit.record("referral.read", actor, record_type="referral", record_id=referral.id)
    return referral


def read_referral_row(actor: User, referral_id: uuid.UUID) -> Row:
    """The same read as `read_referral`, as a row (services.referral_rows):
    for an answer that only shows the referral."""
    row = held_row(actor, referral_id)
    if row is None:
        raise NotFound("No such referral.")
    audit.record("referral.read", actor, record_type="referral", record_id=row["id"])
    return row


def read_child(actor: User, child_id: uuid.UUID) -> Child:
    """A visible child, its read recorded in the audit trail."""
    child = get_visible_child(actor, child_id)
    audit.record("child.read", actor, record_type="child", record_id=child.id)
    return child


def editable_fields(actor: User, referral: Referral) -> frozenset[str]:
    """What the actor may change now: the referring agency edits its referral
    until it is triaged (the receiving agency only while it is a draft); the
    receiving agency's manager or the assignee keeps the risk assessment up
    to date while the referral is worked."""
    held_as = relations(actor, referral)
    if Relation.REFERRING in held_as and referral.status is ReferralStatus.DRAFT:
        return frozenset({*REFERRAL_FIELDS, "receiving_organisation_id"})
    if Relation.REFERRING in held_as and referral.status is ReferralStatus.SUBMITTED:
        return frozenset(REFERRAL_FIELDS)
    working = referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
    is_worker = "manager" in actor.roles or referral.assignee_id == actor.id
    if Relation.RECEIVING in held_as and working and is_worker:
        return frozenset({"risk_level", "risk_factors"})
    return frozenset()


def update_referral(actor: User, referral: Referral, changes: dict[str, Any]) -> list[str]:
    """Change editable fields; returns the names of those that changed.

    Refuses a closed, declined or withdrawn referral (Conflict) and fields the
    actor may not change now (Forbidden)."""
    if referral.status in TERMINAL:
        raise Conflict(f"A {referral.status} referral cannot be changed.")
    allowed = editable_fields(actor, referral)
    refused = sorted(set(changes) - allowed)
    if refused:
        raise Forbidden("You cannot change these fields now: " + ", ".join(refused) + ".")
    if "receiving_organisation_id" in changes:
        changes["receiving_organisation"] = _receiving_organisation(
            actor, changes.pop("receiving_organisation_id")
        )
    if "consent_status" in changes:
        consent.keep_first_change(referral)
    changed = []
    for name, value in changes.items():
        if getattr(referral, name) != value:
            setattr(referral, name, value)
            changed.append(name if name != "receiving_organisation" else name + "_id")
    _check_consent(referral)
    if {"service_id", "receiving_organisation_id"} & set(changed):
        directory.check_named_service(referral)
    db.session.flush()
    if {"lawful_basis", "special_category_condition"} & set(changed):
        consent.check_basis(referral)
    if "consent_status" in changed:
        consent.record_from_referral(actor, referral)
    if changed:
        audit.record(
            "referral.update", actor, record_type="referral", record_id=referral.id, fields=changed
        )
    return changed


def _check_consent(referral: Referral) -> None:
    if str(referral.consent_status) == "not_sought" and not referral.consent_notes:
        raise Invalid(
            "Say why consent was not sought.",
            {"consent_notes": ["Required when consent was not sought."]},
        )


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# How long an Idempotency-Key is remembered (as Stripe's are): enough for a
# client to retry through an outage, short enough to keep little.
IDEMPOTENCY_KEEP_FOR = timedelta(hours=24)


def find_idempotent_response(
    actor: User, key: str, request_fingerprint: str
) -> IdempotencyRecord | None:
    """The record of the first request with this key (its status and the id
    of what it made), or None if the key is new or its record has expired.
    Refuses the same key with a different body (Invalid)."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key
        )
    )
    if record is not None and record.created_at < utcnow() - IDEMPOTENCY_KEEP_FOR:
        db.session.delete(record)
        db.session.flush()
        return None
    if record is not None and record.request_fingerprint != request_fingerprint:
        raise Invalid(
            "This Idempotency-Key was used with a different request.",
            {"Idempotency-Key": ["Already used with a different body."]},
        )
    if record is not None:
        audit.record(
            "referral.create_replayed",
            actor,
            record_type="referral",
            record_id=record.response_body.get("id"),
        )
    return record


def forget_expired_idempotency(now: datetime | None = None) -> int:
    """Delete the records of keys older than IDEMPOTENCY_KEEP_FOR (the job
    runner does this hourly)."""
    cutoff = (now or utcnow()) - IDEMPOTENCY_KEEP_FOR
    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def remember_response(
    actor: User, key: str, request_fingerprint: str, status_code: int, body: Any
) -> None:
    """Remember the first answer to a keyed request, in the request's
    transaction: its status and `body`, which holds only the id of what it
    made (a replay reads the record as it is now, so no copy of personal
    data is kept here for retention to miss). A concurrent request with the
    same key that got here first wins; this one is refused (Conflict) and
    its changes roll back."""
    try:
        with db.session.begin_nested():
            db.session.add(
                IdempotencyRecord(
                    user_id=actor.id,
                    key=key,
                    request_fingerprint=request_fingerprint,
                    status_code=status_code,
                    response_body=body,
                )
            )
    except IntegrityError:
        raise Conflict("A request with this Idempotency-Key is already being processed.") from None
