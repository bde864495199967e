"""Verifying the audit trail: the sealed chain, and the events still waiting
to be sealed.

The sealed events (ordered by seq) must follow one another with no gap, each
`prev_hash` the hash before it, each `hash` the HMAC of its row: an edited,
deleted or inserted row breaks that at its seq. An unsealed event must carry
the MAC it was written with (nobody changed it while it waited), and must not
have waited longer than AUDIT_SEAL_BOUND (a stopped sequencer, or a sealer
that refuses the row, is a finding, not a silent backlog).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from referral_app.models import AuditEvent, utcnow
from referral_app.models.audit import GENESIS_HASH, chain_hash, event_mac


def hmac_key() -> bytes:
    return str(current_app.config["AUDIT_HMAC_KEY"]).encode()


def seal_bound() -> timedelta:
    bound = current_app.config.get("AUDIT_SEAL_BOUND", timedelta(seconds=5))
    return bound if isinstance(bound, timedelta) else timedelta(seconds=float(bound))


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None
    # Against the signed checkpoints (services/checkpoints.py), when checked:
    # the newest one trusted, and what is wrong (events cut off the end, an
    # event changed or left unsealed while it waited).
    checkpoint_seq: int | None = None
    checkpoint_at: datetime | None = None
    problem: str | None = None
    # The problem is an event still waiting to be sealed (changed while it
    # waited, or left waiting too long), not the sealed chain.
    waiting: bool = False


def mac_holds(event: Any, key: bytes) -> bool:
    """Whether an unsealed event is as it was written."""
    if not event.mac or event.written_at is None:
        return False
    return hmac.compare_digest(event.mac, event_mac(event, event.written_at, key))


def _duration(bound: timedelta) -> str:
    seconds = bound.total_seconds()
    if seconds == 1:
        return "1 second"
    return f"{seconds:g} seconds"


def verify(session: Session | scoped_session[Any]) -> Verification:
    """Recompute the sealed chain, then check the unsealed events. Names
    the first seq where the chain fails (an edited, deleted or inserted
    row), or the first unsealed event that was changed or has waited too
    long."""
    key = hmac_key()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    # Streamed in batches (a server-side cursor on PostgreSQL), closed even
    # when verification stops early.
    sealed = session.execute(
        select(AuditEvent.__table__)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=2000)
    )
    with sealed:
        for row in sealed:
            checked += 1
            if (
                row.seq != expected_seq
                or row.prev_hash != prev_hash
                or not hmac.compare_digest(row.hash or "", chain_hash(row, prev_hash, key))
            ):
                return Verification(ok=False, checked=checked, first_bad_seq=expected_seq)
            prev_hash = row.hash
            expected_seq += 1
    bound = seal_bound()
    too_old = utcnow() - bound
    waiting = session.execute(
        select(AuditEvent.__table__)
        .where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=2000)
    )
    with waiting:
        for row in waiting:
            checked += 1
            problem = _waiting_problem(row, key, bound, too_old)
            if problem:
                return Verification(
                    ok=False, checked=checked, first_bad_seq=None, problem=problem, waiting=True
                )
    return Verification(ok=True, checked=checked, first_bad_seq=None)


def _waiting_problem(row: Any, key: bytes, bound: timedelta, too_old: datetime) -> str | None:
    if not mac_holds(row, key):
        return (
            f"event id {row.id} has been changed since it was written "
            "(its MAC does not match): the sequencer will not seal it"
        )
    if row.written_at < too_old:
        return (
            f"event id {row.id} has waited more than {_duration(bound)} "
            "to be sealed: is the sequencer running?"
        )
    return None
