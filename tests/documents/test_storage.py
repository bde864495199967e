"""The storage interface: both storages keep only ciphertext, give back the
plaintext, refuse tampered bytes, and delete; the upload checks refuse by
content, not by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from referral_app import document_storage
from referral_app.config import ConfigurationError
from referral_app.document_checks import (
    DOCX,
    JPEG,
    ODT,
    PDF,
    PNG,
    TEXT,
    WRONG_TYPE,
    DocumentRefused,
    DocumentTooLarge,
)
from referral_app.extensions import db
from referral_app.models.document import DocumentBlob
from tests.documents.samples import DOCX_BYTES, JPEG_BYTES, ODT_BYTES, PDF_BYTES, PNG_BYTES

PLAINTEXT = b"%PDF-1.4 consent given by the parent of the child named here"


@pytest.fixture
def directory_storage(app: Flask, tmp_path: Path):
    settings = {"DOCUMENT_STORAGE": "directory", "DOCUMENT_DIRECTORY": str(tmp_path / "docs")}
    saved = {name: app.config.get(name) for name in settings}
    app.config.update(settings)
    yield tmp_path / "docs"
    app.config.update(saved)


def test_database_storage_keeps_ciphertext_and_gives_back_the_plaintext(app: Flask) -> None:
    with app.app_context():
        key = document_storage.put(PLAINTEXT)
        stored = db.session.get(DocumentBlob, key).ciphertext
        assert PLAINTEXT not in stored
        assert b"consent" not in stored
        assert document_storage.get(key) == PLAINTEXT


def test_directory_storage_writes_a_file_named_by_the_key_holding_ciphertext(
    app: Flask, directory_storage: Path
) -> None:
    with app.app_context():
        key = document_storage.put(PLAINTEXT)
        files = list(directory_storage.iterdir())
        assert [file.name for file in files] == [key]
        assert b"consent" not in files[0].read_bytes()
        assert document_storage.get(key) == PLAINTEXT
        assert db.session.get(DocumentBlob, key) is None
        document_storage.delete(key)
        assert list(directory_storage.iterdir()) == []
        with pytest.raises(KeyError):
            document_storage.get(key)


def test_directory_storage_refuses_a_key_that_is_a_path(
    app: Flask, directory_storage: Path
) -> None:
    with app.app_context(), pytest.raises(KeyError):
        document_storage.get("../../etc/passwd")


def test_a_tampered_ciphertext_is_refused(app: Flask) -> None:
    with app.app_context():
        key = document_storage.put(PLAINTEXT)
        blob = db.session.get(DocumentBlob, key)
        flipped = bytearray(blob.ciphertext)
        flipped[-1] ^= 1
        blob.ciphertext = bytes(flipped)
        db.session.flush()
        with pytest.raises(document_storage.StoredDocumentUnreadable):
            document_storage.get(key)


def test_a_tampered_file_is_refused(app: Flask, directory_storage: Path) -> None:
    with app.app_context():
        key = document_storage.put(PLAINTEXT)
        path = directory_storage / key
        data = bytearray(path.read_bytes())
        data[20] ^= 0x80
        path.write_bytes(bytes(data))
        with pytest.raises(document_storage.StoredDocumentUnreadable):
            document_storage.get(key)


def test_ciphertext_moved_to_another_key_does_not_decrypt(app: Flask) -> None:
    with app.app_context():
        first = document_storage.put(PLAINTEXT)
        second = document_storage.put(b"another document")
        moved = db.session.get(DocumentBlob, first).ciphertext
        db.session.get(DocumentBlob, second).ciphertext = moved
        db.session.flush()
        with pytest.raises(document_storage.StoredDocumentUnreadable):
            document_storage.get(second)


def test_another_encryption_key_cannot_read_the_bytes(app: Flask) -> None:
    with app.app_context():
        key = document_storage.put(PLAINTEXT)
        saved = app.config["DOCUMENT_ENCRYPTION_KEY"]
        app.config["DOCUMENT_ENCRYPTION_KEY"] = document_storage.generate_encryption_key()
        try:
            with pytest.raises(document_storage.StoredDocumentUnreadable):
                document_storage.get(key)
        finally:
            app.config["DOCUMENT_ENCRYPTION_KEY"] = saved


def test_a_malformed_encryption_key_is_a_configuration_error(app: Flask) -> None:
    with app.app_context():
        saved = app.config["DOCUMENT_ENCRYPTION_KEY"]
        app.config["DOCUMENT_ENCRYPTION_KEY"] = "too-short"
        try:
            with pytest.raises(ConfigurationError, match="32 random bytes"):
                document_storage.put(PLAINTEXT)
        finally:
            app.config["DOCUMENT_ENCRYPTION_KEY"] = saved


def test_outside_production_a_key_is_generated_once_into_the_instance_folder(
    app: Flask, tmp_path: Path
) -> None:
    saved = app.config["DOCUMENT_ENCRYPTION_KEY"], app.instance_path
    app.config["DOCUMENT_ENCRYPTION_KEY"] = None
    app.instance_path = str(tmp_path)
    try:
        with app.app_context():
            key = document_storage.put(PLAINTEXT)
            written = (tmp_path / "document-encryption.key").read_text()
            assert document_storage.get(key) == PLAINTEXT
            assert (tmp_path / "document-encryption.key").read_text() == written
            assert (tmp_path / "document-encryption.key").stat().st_mode & 0o077 == 0
    finally:
        app.config["DOCUMENT_ENCRYPTION_KEY"], app.instance_path = saved


def test_production_without_an_encryption_key_refuses_to_store(app: Flask) -> None:
    saved = app.config["DOCUMENT_ENCRYPTION_KEY"], app.config["NAME"]
    app.config["DOCUMENT_ENCRYPTION_KEY"], app.config["NAME"] = None, "production"
    try:
        with app.app_context(), pytest.raises(ConfigurationError, match="DOCUMENT_ENCRYPTION_KEY"):
            document_storage.put(PLAINTEXT)
    finally:
        app.config["DOCUMENT_ENCRYPTION_KEY"], app.config["NAME"] = saved


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF_BYTES, PDF),
        (DOCX_BYTES, DOCX),
        (ODT_BYTES, ODT),
        (PNG_BYTES, PNG),
        (JPEG_BYTES, JPEG),
        ("Notes from the visit: café, 5 £.\r\n\tEnd.".encode(), TEXT),
    ],
    ids=["pdf", "docx", "odt", "png", "jpeg", "text"],
)
def test_allowed_types_are_recognised_by_content(app: Flask, data: bytes, expected: str) -> None:
    with app.app_context():
        assert document_storage.check_upload(data, "anything.bin") == expected


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode",
        b"PK\x03\x04" + b"\x00" * 26 + b"evil.sh",
        b"text with a NUL \x00 inside",
        b"text with an escape \x1b[31m inside",
        b"\xff\xfe not utf-8 \xc3",
        b"GIF89a" + b"\x00" * 20,
    ],
    ids=["exe", "zip", "nul", "escape", "not-utf8", "gif"],
)
def test_other_content_named_pdf_is_refused(app: Flask, data: bytes) -> None:
    with app.app_context(), pytest.raises(DocumentRefused) as refused:
        document_storage.check_upload(data, "consent.pdf")
    assert refused.value.status == 422
    assert refused.value.message == WRONG_TYPE


def test_an_empty_file_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(DocumentRefused, match="empty"):
        document_storage.check_upload(b"", "empty.txt")


def test_a_file_over_the_limit_is_refused_with_413(app: Flask) -> None:
    saved = app.config["DOCUMENT_MAX_BYTES"]
    app.config["DOCUMENT_MAX_BYTES"] = 1024
    try:
        with app.app_context(), pytest.raises(DocumentTooLarge) as refused:
            document_storage.check_upload(b"a" * 1025, "big.txt")
        assert refused.value.status == 413
        assert "1 KB" in refused.value.message
        with app.app_context():
            assert document_storage.check_upload(b"a" * 1024, "fits.txt") == TEXT
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved
