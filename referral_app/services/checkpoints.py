"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain shows an edited, inserted or deleted row anywhere before the
newest one; it cannot show that the newest rows are gone (delete the tail,
or truncate the table, and what is left is a valid, shorter chain). So the
head (its seq and hash) is signed with an Ed25519 key that is not in the
database and appended to a file the database owner cannot reach (the
operator chooses where: another volume, another host, WORM storage). Verify
then checks the chain against the newest checkpoint whose signature holds:
the event at its seq must be there, with its hash. Certificate
Transparency's signed tree heads do the same for its logs.

A line whose signature does not hold is itself a finding (someone wrote to
the store without the key) and fails verification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from referral_app.models import AuditEvent, utcnow

FILE_NAME = "checkpoints.jsonl"
DOMAIN = b"referral-audit-checkpoint/v1\n"


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # 0: the chain was empty
    hash: str
    at: datetime
    key_id: str
    signature: str  # base64

    def message(self) -> bytes:
        return DOMAIN + f"{self.seq}\n{self.hash}\n{self.at.isoformat()}\n".encode()

    def to_line(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at.isoformat(),
                "key_id": self.key_id,
                "signature": self.signature,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        data: dict[str, Any] = json.loads(line)
        return cls(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=datetime.fromisoformat(str(data["at"])),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def _seed(setting: str) -> bytes:
    raw = base64.b64decode(setting, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 key is 32 bytes, given base64-encoded")
    return raw


def signing_key() -> Ed25519PrivateKey:
    """From AUDIT_CHECKPOINT_KEY: the base64 of a 32-byte Ed25519 seed."""
    return Ed25519PrivateKey.from_private_bytes(
        _seed(str(current_app.config["AUDIT_CHECKPOINT_KEY"]))
    )


def verifying_key() -> Ed25519PublicKey:
    """AUDIT_CHECKPOINT_PUBLIC_KEY when set (a verifier needs no private
    key), or the public half of the signing key."""
    public = current_app.config.get("AUDIT_CHECKPOINT_PUBLIC_KEY")
    if public:
        return Ed25519PublicKey.from_public_bytes(_seed(str(public)))
    return signing_key().public_key()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def store() -> Path:
    """The checkpoint file: AUDIT_CHECKPOINT_DIR, by default a folder of the
    instance directory (fine for a demo; in production, somewhere the
    database's administrators cannot write)."""
    folder = current_app.config.get("AUDIT_CHECKPOINT_DIR") or os.path.join(
        current_app.instance_path, "audit-checkpoints"
    )
    return Path(folder) / FILE_NAME


def chain_head(session: Session | scoped_session[Any]) -> tuple[int, str]:
    """The newest sealed event (events still waiting for the sequencer are
    not in the chain yet, and no checkpoint vouches for them)."""
    from referral_app.services.audit_sequencer import head

    seq, head_hash = head(session)
    return (seq, head_hash) if seq else (0, "")


def write_checkpoint(session: Session | scoped_session[Any]) -> Checkpoint:
    """Sign the chain's head as it is now and append it to the store
    (one line, written with O_APPEND and fsync'd before returning)."""
    seq, head_hash = chain_head(session)
    key = signing_key()
    unsigned = Checkpoint(
        seq=seq, hash=head_hash, at=utcnow(), key_id=key_id(key.public_key()), signature=""
    )
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    checkpoint = Checkpoint(**{**unsigned.__dict__, "signature": signature})
    path = store()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (checkpoint.to_line() + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return checkpoint


@dataclass(frozen=True)
class CheckpointCheck:
    ok: bool
    trusted: Checkpoint | None  # the newest checkpoint whose signature holds
    problem: str | None


def _signed(checkpoint: Checkpoint, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return checkpoint.key_id == key_id(key)


def latest_trusted() -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint whose signature holds, and what is wrong with
    any line of the store (a line nobody with the key wrote)."""
    path = store()
    if not path.exists():
        return None, []
    key = verifying_key()
    trusted: Checkpoint | None = None
    problems: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.from_line(line)
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number} of {path} is not a checkpoint")
            continue
        if not _signed(checkpoint, key):
            problems.append(f"line {number} of {path} is not signed with the checkpoint key")
            continue
        if trusted is None or checkpoint.seq >= trusted.seq:
            trusted = checkpoint
    return trusted, problems


def check_chain(session: Session | scoped_session[Any]) -> CheckpointCheck:
    """Does the chain still reach the newest trusted checkpoint? Names what
    is missing when it does not (the chain was cut short)."""
    trusted, problems = latest_trusted()
    if problems:
        return CheckpointCheck(False, trusted, "; ".join(problems))
    if trusted is None:
        return CheckpointCheck(True, None, None)
    if trusted.seq == 0:
        return CheckpointCheck(True, trusted, None)
    at = trusted.at.isoformat(timespec="seconds")
    row_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == trusted.seq))
    if row_hash is None:
        newest = session.scalar(select(func.max(AuditEvent.seq))) or 0
        return CheckpointCheck(
            False,
            trusted,
            f"the chain ends at seq {newest} but the checkpoint of {at} signed seq "
            f"{trusted.seq}: events {newest + 1} to {trusted.seq} are missing",
        )
    if row_hash != trusted.hash:
        return CheckpointCheck(
            False,
            trusted,
            f"event {trusted.seq} is not the one the checkpoint of {at} signed",
        )
    return CheckpointCheck(True, trusted, None)
