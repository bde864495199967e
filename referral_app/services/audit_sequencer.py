"""The audit sequencer: seals the events requests wrote into the gap-free,
hash-chained trail, in the order their transactions became visible.

A request writes its events unsealed (services/audit.py), holding no lock
that others wait for. `seal()` then, in one short transaction of its own,
takes the chain lock, reads the head of the chain and the committed events
still waiting (by id: only committed rows are visible, so the chain follows
commit order), checks each one's MAC, gives each the next seq and its hash,
and writes them back in one statement.

The chain lock is `pg_try_advisory_xact_lock` on PostgreSQL: any number of
app hosts may run a sealer, one seals at a time (the one that holds the lock
is the elected leader for that pass) and the others return 0 at once. On
SQLite every transaction begins IMMEDIATE (referral_app/__init__.py), which
already serialises sealers. A second sealer can never fork the chain: the
lock, the UPDATE's `seq IS NULL` guard and the unique index on seq each
refuse it.

`watch()` (`flask audit seal --watch`; `make run` starts it) seals whenever
there is anything to seal, and `verify` fails on an event left unsealed
longer than AUDIT_SEAL_BOUND.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from referral_app.models import AuditEvent
from referral_app.models.audit import GENESIS_HASH, chain_hash
from referral_app.services import audit
from referral_app.services.audit_verify import hmac_key, mac_holds

log = logging.getLogger("referral_app.audit_sequencer")

# Any constant distinct from other advisory locks of the database ("AUDT").
CHAIN_LOCK_KEY = 0x41554454
# Seal a row whose MAC fails? Never: it is reported (once per process) and
# left for verify to name.
_reported: set[int] = set()

_SEAL_POSTGRESQL = text(
    "UPDATE audit_event AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), "
    "CAST(:prev_hashes AS text[]), CAST(:hashes AS text[])) AS v(id, seq, prev_hash, hash) "
    "WHERE e.id = v.id AND e.seq IS NULL"
)
_SEAL_ONE_BY_ONE = text(
    "UPDATE audit_event SET seq = :seq, prev_hash = :prev_hash, hash = :hash "
    "WHERE id = :id AND seq IS NULL"
)


class ChainForked(RuntimeError):
    """Another sealer sealed some of the same rows: nothing of this pass is kept."""


def _take_chain_lock(session: Session | scoped_session[Any], *, wait: bool) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        session.connection()  # BEGIN IMMEDIATE: the write lock, until commit
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
        return True
    return bool(
        session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    )


def head(session: Session | scoped_session[Any]) -> tuple[int, str]:
    """The newest sealed event's seq and hash; (0, GENESIS_HASH) for an empty chain."""
    newest = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return (int(newest[0] or 0), str(newest[1])) if newest else (0, GENESIS_HASH)


def seal(session: Session | scoped_session[Any], *, limit: int = 5000, wait: bool = False) -> int:
    """Seal up to `limit` committed events, oldest first, and commit. Returns
    how many were sealed: 0 when there was nothing to seal, or when another
    sealer holds the chain lock (PostgreSQL; with `wait`, it waits for it
    instead). An event whose MAC does not match is not sealed (it is
    logged; verify names it). Commits whatever the session had begun; rolls
    back and re-raises on failure."""
    try:
        if not _take_chain_lock(session, wait=wait):
            session.rollback()
            return 0
        seq, prev_hash = head(session)
        waiting = session.execute(
            select(AuditEvent.__table__)
            .where(AuditEvent.seq.is_(None))
            .order_by(AuditEvent.id)
            .limit(limit)
        ).all()
        key = hmac_key()
        sealed: list[dict[str, Any]] = []
        for row in waiting:
            if not mac_holds(row, key):
                _report_refused(row.id)
                continue
            seq += 1
            row_hash = chain_hash(row, prev_hash, key, seq=seq)
            sealed.append({"id": row.id, "seq": seq, "prev_hash": prev_hash, "hash": row_hash})
            prev_hash = row_hash
        if sealed:
            _write(session, sealed)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return len(sealed)


def seal_what_was_written(session: Session | scoped_session[Any]) -> int:
    """Seal at once if this session's transactions wrote events (the request
    boundary under AUDIT_SEAL_AFTER_REQUEST); otherwise touch nothing. Waits
    for a sealer that holds the lock, so the events are sealed on return
    (one that began before they were committed may not have seen them)."""
    if not session.info.pop(audit.WRITTEN, False):
        return 0
    return seal(session, wait=True)


def _write(session: Session | scoped_session[Any], sealed: list[dict[str, Any]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # One statement of constant text whatever the number of rows.
        result = session.execute(
            _SEAL_POSTGRESQL.bindparams(
                bindparam("ids", [item["id"] for item in sealed]),
                bindparam("seqs", [item["seq"] for item in sealed]),
                bindparam("prev_hashes", [item["prev_hash"] for item in sealed]),
                bindparam("hashes", [item["hash"] for item in sealed]),
            )
        )
        updated = result.rowcount  # type: ignore[attr-defined]
    else:
        updated = session.connection().execute(_SEAL_ONE_BY_ONE, sealed).rowcount
    if updated != len(sealed):
        raise ChainForked(f"sealed {updated} of {len(sealed)} events: another sealer ran")


def _report_refused(event_id: int) -> None:
    if event_id in _reported:
        return
    _reported.add(event_id)
    log.error(
        "audit event id %s has been changed since it was written (its MAC does not "
        "match): not sealed; `flask audit verify` will fail on it",
        event_id,
    )


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT end the loop cleanly (after the pass in hand),
    when watching from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def watch(
    app: Flask,
    interval: float = 0.2,
    stop_event: threading.Event | None = None,
    *,
    limit: int = 5000,
) -> int:
    """Seal until stopped (`stop_event`, SIGTERM or SIGINT): at once again
    while a full batch was sealed, otherwise every `interval` seconds. A
    lost database connection (or any failed pass) is logged and retried,
    waiting a little longer each time (at most 5 s). Returns how many
    events were sealed."""
    from referral_app.extensions import db

    stop = stop_event or threading.Event()
    total = 0
    failures = 0
    with _stopped_by_signals(stop), app.app_context():
        log.info("audit sequencer started")
        try:
            while not stop.is_set():
                try:
                    sealed = seal(db.session, limit=limit)
                except Exception as error:  # a service: it goes on, and says why
                    failures += 1
                    pause = min(interval * 2**failures, 5.0)
                    if isinstance(error, DBAPIError):
                        log.warning(
                            "audit sequencer: database error (%s); retrying in %.1f s",
                            type(error.orig).__name__,
                            pause,
                        )
                    else:
                        log.exception("audit sequencer: pass failed; retrying in %.1f s", pause)
                    db.session.remove()
                    stop.wait(pause)
                    continue
                if failures:
                    log.info("audit sequencer: database reachable again")
                failures = 0
                total += sealed
                if sealed < limit:
                    stop.wait(interval)
        finally:
            db.session.remove()
            log.info("audit sequencer stopped after sealing %s events", total)
    return total
