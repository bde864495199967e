"""The audit trail: every read and change of case data, sign-ins and
administration, written in the same transaction as what it records.

Services call `record()`; the events wait in the session and are sealed just
before the transaction commits: the chain lock is taken (a transaction-level
advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
writers), the head of the chain is read, and each event gets the next `seq`
and its HMAC. The lock is held only for that last step, so the chain is not a
bottleneck for the whole request. If the events cannot be written the commit
fails and the change with it; if the change rolls back, so do its events.

Refusals (403, and 404s that hide other agencies' records) are recorded with
`record_denial()`: they survive the rollback of the refused request and are
committed on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from referral_app.extensions import db
from referral_app.models import AuditEvent, User, utcnow
from referral_app.services import paging

GENESIS_HASH = "0" * 64
# Any constant distinct from other advisory locks of the database ("AUDT").
CHAIN_LOCK_KEY = 0x41554454
PENDING = "audit_pending"


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
        "child.read",
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
        actor_role=",".join(sorted(actor.roles)) if actor is not None else None,
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


def _key() -> bytes:
    return str(current_app.config["AUDIT_HMAC_KEY"]).encode()


def chain_hash(row: AuditEvent, prev_hash: str, key: bytes) -> str:
    canonical = json.dumps(row.canonical(), sort_keys=True, separators=(",", ":"))
    return hmac.new(key, (canonical + prev_hash).encode(), hashlib.sha256).hexdigest()


@event.listens_for(Session, "before_commit")
def _seal_pending_events(session: Session) -> None:
    events: list[PendingEvent] = session.info.pop(PENDING, [])
    if not events:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The chain lock (held until this transaction ends: only the sealing
        # of events is serialised, not the request), then the head, in one
        # statement (the function audit_chain_head, migration 5f0c1d2e9a47).
        head = session.execute(
            text("SELECT seq, hash FROM audit_chain_head(:key)"), {"key": CHAIN_LOCK_KEY}
        ).first()
    else:
        head = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
    seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    key = _key()
    for pending in events:
        seq += 1
        row = AuditEvent(seq=seq, prev_hash=prev_hash, hash="", **pending.__dict__)
        row.hash = chain_hash(row, prev_hash, key)
        prev_hash = row.hash
        session.add(row)
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only when the whole transaction rolls back; a savepoint's rollback
    # keeps the events recorded before it.
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None
    # Against the signed checkpoints (services/checkpoints.py), when checked:
    # the newest one trusted, and what is wrong (events cut off the end).
    checkpoint_seq: int | None = None
    checkpoint_at: datetime | None = None
    problem: str | None = None


def verify(session: Session | scoped_session[Any]) -> Verification:
    """Recompute the chain: each seq follows the last with no gap, each
    prev_hash is the hash before it, each hash is the HMAC of its row.
    Names the first seq where any of these fails (an edited, deleted or
    inserted row)."""
    key = _key()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    # Streamed in batches (a server-side cursor on PostgreSQL), closed even
    # when verification stops early.
    rows = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    )
    with rows:
        for row in rows:
            checked += 1
            if (
                row.seq != expected_seq
                or row.prev_hash != prev_hash
                or not hmac.compare_digest(row.hash, chain_hash(row, prev_hash, key))
            ):
                return Verification(ok=False, checked=checked, first_bad_seq=expected_seq)
            prev_hash = row.hash
            expected_seq += 1
    return Verification(ok=True, checked=checked, first_bad_seq=None)


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
    """Audit events the actor may read, newest first. The read is itself audited."""
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
            query.order_by(AuditEvent.seq.desc())
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
    problem = (
        f"chain broken at seq {chain.first_bad_seq}" if not chain.ok else None
    ) or reach.problem
    result = Verification(
        ok=chain.ok and reach.ok,
        checked=chain.checked,
        first_bad_seq=chain.first_bad_seq,
        checkpoint_seq=reach.trusted.seq if reach.trusted else None,
        checkpoint_at=reach.trusted.at if reach.trusted else None,
        problem=problem,
    )
    record(
        "audit.verify",
        actor,
        record_type="audit_event",
        outcome="success" if result.ok else "failure",
        reason=problem,
    )
    return result
