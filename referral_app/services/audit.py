"""The audit trail: every read and change of case data, sign-ins and
administration, written in the same transaction as what it records.

Services call `record()`; the events wait in the session and are written
just before the transaction commits, all of them in one INSERT, each with
its own HMAC (`mac`) and no place in the chain yet. No lock is taken: a
request never waits for another's audit events. If the events cannot be
written the commit fails and the change with it; if the change rolls back,
so do its events. The sequencer (services/audit_sequencer.py) seals them
into the gap-free chain shortly after the commit; `verify` fails on one
left unsealed longer than AUDIT_SEAL_BOUND.

Refusals (403, and 404s that hide other agencies' records) are recorded with
`record_denial()`: they survive the rollback of the refused request and are
committed on their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from referral_app.extensions import db
from referral_app.models import AuditEvent, User, utcnow
from referral_app.models.audit import event_mac
from referral_app.services import paging
from referral_app.services.audit_verify import Verification, hmac_key, verify

PENDING = "audit_pending"
# Set on the session when events were written (what sealing after a request
# looks at: a request that wrote none has nothing to seal).
WRITTEN = "audit_written"


# Reads of case data: each is a disclosure, recorded whatever becomes of the
# rest of the request (a refused form re-shows the referral it was on; the
# read happened, so its record stays when the change is rolled back).
DISCLOSURES = frozenset(
    {
        "referral.read",
        "referral.list",
        "referral.search",
        "referral.notes_read",
        "referral.history_read",
        "referral.shares_read",
        "referral.access_log_read",
        "referral.create_replayed",
        "referral.actions_read",
        "referral.chronology_read",
        "referral.screenings_read",
        "referral.consent_read",
        "referral.documents_read",
        "referral.document_read",
        "referral.document_downloaded",
        "referral.fhir_exported",
        "report.screening_themes",
        "report.agreements",
        "agreement.document_downloaded",
        "action.list",
        "meeting.read",
        "meeting.list",
        "child.read",
        "event.feed_read",
        "event.delivered",
        "child.match",
        "child.export",
        "report.summary",
        "report.csv_export",
    }
)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None
    # Events that stay however the request ends: refusals and disclosures.
    denials: list[PendingEvent] = field(default_factory=list)
    disclosures: list[PendingEvent] = field(default_factory=list)


_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def bind_request(request_id: str, client_ip: str | None) -> object:
    """Called by the request boundary; the events of this request carry these."""
    return _request.set(RequestContext(request_id=request_id, client_ip=client_ip))


def unbind_request(token: Any) -> None:
    _request.reset(token)


def current_request_id() -> str | None:
    context = _request.get()
    return context.request_id if context else None


@dataclass(frozen=True)
class PendingEvent:
    action: str
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    actor_organisation_id: uuid.UUID | None
    actor_role: str | None
    record_type: str | None
    record_id: str | None
    record_ids: list[str] | None
    fields: list[str] | None
    recipient_organisation_id: uuid.UUID | None
    reason: str | None
    outcome: str
    request_id: str | None
    client_ip: str | None


def _role_of(actor: User | None) -> str | None:
    """The actor's roles; "system" for a system account (models.user.UserKind)."""
    if actor is None:
        return None
    return "system" if actor.is_system else ",".join(sorted(actor.roles))


def _event(
    action: str,
    actor: User | None,
    *,
    record_type: str | None = None,
    record_id: object = None,
    record_ids: Iterable[object] | None = None,
    fields: Iterable[str] | None = None,
    recipient_organisation_id: uuid.UUID | None = None,
    reason: str | None = None,
    outcome: str = "success",
) -> PendingEvent:
    context = _request.get()
    return PendingEvent(
        action=action,
        occurred_at=utcnow(),
        actor_user_id=actor.id if actor is not None else None,
        actor_organisation_id=actor.organisation_id if actor is not None else None,
        actor_role=_role_of(actor),
        record_type=record_type,
        record_id=str(record_id) if record_id is not None else None,
        record_ids=[str(item) for item in record_ids] if record_ids is not None else None,
        fields=sorted(fields) if fields is not None else None,
        recipient_organisation_id=recipient_organisation_id,
        reason=reason,
        outcome=outcome,
        request_id=context.request_id if context else None,
        client_ip=context.client_ip if context else None,
    )


def record(action: str, actor: User | None, **details: Any) -> None:
    """Record an event in the current transaction. `details`: record_type,
    record_id, record_ids, fields (names only), recipient_organisation_id,
    reason, outcome. Never pass values of personal data, passwords or tokens.

    A disclosure (DISCLOSURES) is also kept aside, so that it is recorded even
    when the request's transaction rolls back (see the request boundary)."""
    pending = _event(action, actor, **details)
    db.session.info.setdefault(PENDING, []).append(pending)
    context = _request.get()
    if context is not None and action in DISCLOSURES:
        context.disclosures.append(pending)


def record_denial(action: str, actor: User | None, **details: Any) -> None:
    """Record a refusal; it is committed even though the request rolls back."""
    context = _request.get()
    if context is not None:
        context.denials.append(_event(action, actor, outcome="denied", **details))


def take_denials() -> list[PendingEvent]:
    context = _request.get()
    if context is None:
        return []
    denials = list(context.denials)
    context.denials.clear()
    return denials


def take_kept(*, rolled_back: bool) -> list[PendingEvent]:
    """What must be recorded however the request ended: its refusals, and,
    when its transaction was rolled back (taking the pending events with
    it), its disclosures. Empties both lists."""
    context = _request.get()
    if context is None:
        return []
    kept = take_denials()
    if rolled_back:
        kept = [*context.disclosures, *kept]
    context.disclosures.clear()
    return kept


def add_pending(session: Session | scoped_session[Any], events: list[PendingEvent]) -> None:
    session.info.setdefault(PENDING, []).extend(events)


@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    """All of the transaction's events in one INSERT (Core, not the ORM's
    unit of work: nothing is read back), unsealed, each with its MAC."""
    events: list[PendingEvent] = session.info.pop(PENDING, [])
    if not events:
        return
    key = hmac_key()
    written_at = utcnow()
    values: dict[str, Any] = {}
    for number, pending in enumerate(events):
        row = {**pending.__dict__, "written_at": written_at}
        row["mac"] = event_mac(pending, written_at, key)
        values.update({f"{name}_{number}": value for name, value in row.items()})
    session.connection().execute(_insert_of(len(events)), values)
    session.info[WRITTEN] = True


_WRITTEN_COLUMNS = (*PendingEvent.__dataclass_fields__, "written_at", "mac")


@cache
def _insert_of(count: int) -> Any:
    """The INSERT of `count` events in one statement, built once per count
    (a request writes one or two): its values are parameters `<column>_<n>`."""
    table = cast(Table, AuditEvent.__table__)
    return insert(table).values(
        [
            {name: bindparam(f"{name}_{n}", type_=table.c[name].type) for name in _WRITTEN_COLUMNS}
            for n in range(count)
        ]
    )


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only when the whole transaction rolls back; a savepoint's rollback
    # keeps the events recorded before it.
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


@dataclass(frozen=True)
class EventFilters:
    actor_user_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> EventFilters:
        """From the loaded AuditEventQuerySchema (API query or web form)."""
        return cls(
            actor_user_id=data.get("actor"),
            organisation_id=data.get("organisation"),
            action=data.get("action"),
            record_type=data.get("record_type"),
            record_id=data.get("record"),
            since=data.get("since"),
            until=data.get("until"),
        )


def _scoped_events(actor: User) -> Any:
    """System admins read the whole trail; an auditor reads the events of
    their organisation: what its people did, and what was disclosed to it."""
    query = select(AuditEvent)
    if "system_admin" not in actor.roles:
        org = actor.organisation_id
        query = query.where(
            (AuditEvent.actor_organisation_id == org)
            | (AuditEvent.recipient_organisation_id == org)
        )
    return query


def list_events(
    actor: User, filters: EventFilters, *, page: int, page_size: int
) -> tuple[list[AuditEvent], int]:
    """Audit events the actor may read, newest written first (those not yet
    sealed too, their seq still None). The read is itself audited."""
    query = _scoped_events(actor)
    if filters.actor_user_id:
        query = query.where(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.organisation_id:
        query = query.where(AuditEvent.actor_organisation_id == filters.organisation_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.record_type:
        query = query.where(AuditEvent.record_type == filters.record_type)
    if filters.record_id:
        query = query.where(AuditEvent.record_id == filters.record_id)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = list(
        db.session.scalars(
            query.order_by(AuditEvent.id.desc())
            .limit(page_size)
            .offset(paging.offset(page, page_size))
        )
    )
    record(
        "audit.read",
        actor,
        record_type="audit_event",
        fields=[name for name, value in filters.__dict__.items() if value],
    )
    return events, total


def verify_for(actor: User | None) -> Verification:
    """Verify the chain, and that it still reaches the newest signed
    checkpoint (a cut tail); record that it was checked."""
    from referral_app.services import checkpoints

    chain = verify(db.session)
    reach = checkpoints.check_chain(db.session)
    broken = f"chain broken at seq {chain.first_bad_seq}" if chain.first_bad_seq else None
    problem = broken or chain.problem or reach.problem
    result = Verification(
        ok=chain.ok and reach.ok,
        checked=chain.checked,
        first_bad_seq=chain.first_bad_seq,
        checkpoint_seq=reach.trusted.seq if reach.trusted else None,
        checkpoint_at=reach.trusted.at if reach.trusted else None,
        problem=problem,
        waiting=chain.waiting and not broken,
    )
    record(
        "audit.verify",
        actor,
        record_type="audit_event",
        outcome="success" if result.ok else "failure",
        reason=problem,
    )
    return result
