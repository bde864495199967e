"""The clamd hook: a small server on a Unix socket that speaks clamd's
INSTREAM protocol (it answers FOUND for the EICAR test string) stands in
for clamd. A flagged file is refused with 422; a scanner that is configured
but not answering refuses every upload with 503 (fail closed)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from referral_app.document_checks import INFECTED
from referral_app.extensions import db
from referral_app.models.document import Document
from tests.documents.conftest import upload
from tests.documents.samples import EICAR, PDF_BYTES


class FakeClamd:
    """Reads `zINSTREAM\\0`, then length-prefixed chunks up to a zero
    length, and answers as clamd does. Keeps what it was sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed early")
            data += chunk
        return data

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                command = self._read(connection, len(b"zINSTREAM\0"))
                assert command == b"zINSTREAM\0"
                content = b""
                while True:
                    (length,) = struct.unpack("!L", self._read(connection, 4))
                    if length == 0:
                        break
                    content += self._read(connection, length)
                self.received.append(content)
                verdict = (
                    b"stream: Eicar-Test-Signature FOUND\0"
                    if EICAR in content
                    else (b"stream: OK\0")
                )
                connection.sendall(verdict)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def clamd(app, tmp_path_factory) -> Iterator[FakeClamd]:
    # A short path: Unix socket paths are limited to about 100 characters.
    path = Path(tmp_path_factory.mktemp("clamd", numbered=True)) / "s"
    server = FakeClamd(path)
    saved = app.config.get("CLAMD_SOCKET")
    app.config["CLAMD_SOCKET"] = str(path)
    yield server
    app.config["CLAMD_SOCKET"] = saved
    server.close()


def count_documents(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Document.id)))


def test_a_clean_file_is_scanned_then_stored(app, client, world, referral, clamd):
    upload(client, world.officer, referral["id"])
    assert clamd.received == [PDF_BYTES]


def test_a_file_the_scanner_flags_is_refused(app, client, world, referral, clamd):
    before = count_documents(app)
    refused = upload(
        client, world.officer, referral["id"], content=EICAR, filename="eicar.txt", expect=422
    )
    assert refused.json["message"] == INFECTED
    assert refused.json["errors"] == {"file": [INFECTED]}
    assert clamd.received == [EICAR]
    assert count_documents(app) == before


def test_an_unreachable_scanner_refuses_every_upload_with_503(
    app, client, world, referral, tmp_path
):
    saved = app.config.get("CLAMD_SOCKET")
    app.config["CLAMD_SOCKET"] = str(tmp_path / "nobody-listens")
    before = count_documents(app)
    try:
        refused = upload(client, world.officer, referral["id"], expect=503)
    finally:
        app.config["CLAMD_SOCKET"] = saved
    assert refused.json["status"] == 503
    assert "virus checker cannot be reached" in refused.json["message"]
    assert count_documents(app) == before


def test_no_scanner_configured_means_no_scan(app, client, world, referral):
    assert not app.config.get("CLAMD_SOCKET")
    assert not app.config.get("CLAMD_HOST")
    upload(client, world.officer, referral["id"])


def test_the_upload_page_says_the_file_did_not_pass_the_virus_check(app, world, referral, clamd):
    from tests.blueprints.web.test_referral_detail_pages import sign_in
    from tests.documents.test_documents_pages import send_upload
    from tests.page_errors import assert_plain_errors

    browser = sign_in(app, world.officer.user)
    refused = send_upload(browser, referral["id"], content=EICAR)
    assert refused.status_code == 422
    assert_plain_errors(refused.get_data(as_text=True), INFECTED)
