"""Where documents' bytes are kept, encrypted at rest.

    key = document_storage.put(data)        # encrypts, stores, returns a random key
    data = document_storage.get(key)        # reads, decrypts (refuses tampered bytes)
    document_storage.delete(key)
    content_type = document_storage.check_upload(data, filename)   # document_checks

Two storages behind one interface (`DocumentStore`), chosen by config
DOCUMENT_STORAGE: "database" (the default: the `document_blob` table, so the
bytes are written in the request's transaction, backed up and erased with
the rest of the case) or "directory" (DOCUMENT_DIRECTORY: one file per
document named by its random key, never by the uploader's filename, written
to a temporary file and renamed so a reader never sees half a file).

Encryption: AES-256-GCM with DOCUMENT_ENCRYPTION_KEY (url-safe base64 of 32
bytes), a key kept outside the database: from the environment in
production (the app refuses to start without it), set by the test config,
and in development generated once into the instance folder. Each stored
value is a format byte, a random 96-bit nonce and the ciphertext with its
tag; the storage key is authenticated with it, so bytes moved from one key
to another do not decrypt either.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Response, current_app, send_file

from referral_app.config import ConfigurationError
from referral_app.document_checks import check_upload
from referral_app.extensions import db
from referral_app.models.document import DocumentBlob

__all__ = [
    "DatabaseStore",
    "DirectoryStore",
    "DocumentStore",
    "StoredDocumentUnreadable",
    "as_download",
    "check_upload",
    "delete",
    "get",
    "new_key",
    "put",
]

_FORMAT = b"\x01"
_NONCE_BYTES = 12
_KEY_PATTERN = re.compile(r"[0-9a-f]{40}")
_DEVELOPMENT_KEY_FILE = "document-encryption.key"


class StoredDocumentUnreadable(Exception):
    """Stored bytes that do not decrypt: tampered with, truncated, or
    written under another encryption key."""


class DocumentStore(Protocol):
    """Keeps ciphertext under a key; knows nothing of documents or encryption."""

    def write(self, key: str, ciphertext: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def remove(self, key: str) -> None: ...


class DatabaseStore:
    """The `document_blob` table, in the session's transaction."""

    def write(self, key: str, ciphertext: bytes) -> None:
        db.session.add(DocumentBlob(key=key, ciphertext=ciphertext))
        db.session.flush()

    def read(self, key: str) -> bytes:
        blob = db.session.get(DocumentBlob, key)
        if blob is None:
            raise KeyError(key)
        return blob.ciphertext

    def remove(self, key: str) -> None:
        blob = db.session.get(DocumentBlob, key)
        if blob is not None:
            db.session.delete(blob)
            db.session.flush()


class DirectoryStore:
    """One file per key in a directory. Not transactional: a file written by
    a request that then fails stays behind, unreferenced (and encrypted)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not _KEY_PATTERN.fullmatch(key):
            raise KeyError(key)
        return self.directory / key

    def write(self, key: str, ciphertext: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._path(key)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(ciphertext)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def store() -> DocumentStore:
    """The storage the config chooses (DOCUMENT_STORAGE: database or directory)."""
    choice = current_app.config.get("DOCUMENT_STORAGE") or "database"
    if choice == "database":
        return DatabaseStore()
    if choice == "directory":
        directory = current_app.config.get("DOCUMENT_DIRECTORY")
        if not directory:
            raise ConfigurationError("DOCUMENT_STORAGE=directory needs DOCUMENT_DIRECTORY")
        return DirectoryStore(directory)
    raise ConfigurationError(f"DOCUMENT_STORAGE must be database or directory, not {choice!r}")


def generate_encryption_key() -> str:
    """A new DOCUMENT_ENCRYPTION_KEY value."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def _development_key() -> str:
    """Outside production: a key generated once into the instance folder."""
    path = Path(current_app.instance_path) / _DEVELOPMENT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_encryption_key())
    return path.read_text().strip()


def _cipher() -> AESGCM:
    configured = current_app.config.get("DOCUMENT_ENCRYPTION_KEY")
    if not configured:
        if current_app.config.get("NAME") == "production":
            raise ConfigurationError("DOCUMENT_ENCRYPTION_KEY is not set")
        configured = _development_key()
    try:
        key = base64.urlsafe_b64decode(str(configured))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigurationError(
            "DOCUMENT_ENCRYPTION_KEY must be the url-safe base64 of 32 random bytes"
        )
    return AESGCM(key)


def encrypt(key: str, plaintext: bytes) -> bytes:
    """The stored form of `plaintext` under storage key `key`."""
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT + nonce + _cipher().encrypt(nonce, plaintext, key.encode("ascii"))


def decrypt(key: str, stored: bytes) -> bytes:
    """The plaintext of stored bytes; refuses (StoredDocumentUnreadable) any
    that were altered, truncated, moved from another key or written under
    another encryption key."""
    if not stored.startswith(_FORMAT) or len(stored) < 1 + _NONCE_BYTES + 16:
        raise StoredDocumentUnreadable(key)
    nonce, ciphertext = stored[1 : 1 + _NONCE_BYTES], stored[1 + _NONCE_BYTES :]
    try:
        return _cipher().decrypt(nonce, ciphertext, key.encode("ascii"))
    except InvalidTag:
        raise StoredDocumentUnreadable(key) from None


def new_key() -> str:
    """A random storage key (160 bits, hex): never derived from the file."""
    return secrets.token_hex(20)


def put(data: bytes) -> str:
    """Encrypt and store `data` (check it first with check_upload); the key to
    read it back with. In the database storage the bytes are written in the
    current transaction and committed or rolled back with it."""
    key = new_key()
    store().write(key, encrypt(key, data))
    return key


def get(key: str) -> bytes:
    """The plaintext stored under `key`; KeyError when nothing is, and
    StoredDocumentUnreadable when the stored bytes do not decrypt."""
    return decrypt(key, store().read(key))


def delete(key: str) -> None:
    """Remove what is stored under `key` (nothing happens when nothing is)."""
    store().remove(key)


def as_download(content: bytes, content_type: str, filename: str) -> Response:
    """Stored content as a download, never a page: `attachment` with the
    filename per RFC 6266 (werkzeug adds filename* for names beyond ASCII),
    the type the content was checked as, nosniff, a sandbox, not cached."""
    response = send_file(
        BytesIO(content),
        mimetype=content_type,
        as_attachment=True,
        download_name=filename,
        etag=False,
        last_modified=None,
        max_age=0,
    )
    response.direct_passthrough = False
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
