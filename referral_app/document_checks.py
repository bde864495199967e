"""What an uploaded file must pass before it is stored: a size limit, a type
on the allow-list recognised from its content (never its name or the
client's Content-Type), and, when a scanner is configured, clamd's verdict.

Types are recognised by `filetype` (magic numbers; it looks inside the zip
for DOCX and ODT). No library recognises plain text, so that check is here:
UTF-8 that decodes, without NULs or control characters other than tab, line
feed, form feed and carriage return.

clamd: no maintained Python client exists (`clamd` and `pyclamd` have had no
release since 2014 and 2017), so the INSTREAM command is spoken here. Its
protocol (clamd(8)): send `zINSTREAM\\0`, then chunks each preceded by its
length as a 4-byte big-endian number, then a zero length; clamd answers one
NUL-terminated line, `stream: OK`, `stream: <signature> FOUND` or
`... ERROR`. A scanner that is configured but unreachable, or answers an
error, refuses the upload (fail closed).
"""

from __future__ import annotations

import socket
import struct

import filetype
from flask import current_app

from referral_app.services.errors import Invalid, ServiceError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain; charset=utf-8"

# Each accepted type and the extension a download of it is given.
ALLOWED_TYPES = {PDF: "pdf", DOCX: "docx", ODT: "odt", PNG: "png", JPEG: "jpg", TEXT: "txt"}

WRONG_TYPE = "The file is not a PDF, Word, OpenDocument, PNG, JPEG or plain text document"
EMPTY = "The selected file is empty"
INFECTED = "The file did not pass the virus check"
SCANNER_DOWN = (
    "The virus checker cannot be reached, so no file can be uploaded now. Try again later"
)

# What a multipart body may add to the file: the boundaries, part headers and
# the form's other fields (title, kind, visibility, the tokens).
FORM_OVERHEAD = 64 * 1024
_CHUNK = 64 * 1024
# Tab, line feed, form feed, carriage return: the control characters of text.
_TEXT_CONTROLS = {"\t", "\n", "\x0c", "\r"}


class DocumentRefused(Invalid):
    """A file of a type not on the allow-list, empty, or one the scanner flagged (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {"file": [message]})


class DocumentTooLarge(ServiceError):
    """A file over DOCUMENT_MAX_BYTES (413)."""

    status = 413
    code = "request_entity_too_large"

    def __init__(self, limit: int) -> None:
        message = f"The file must be smaller than {describe_size(limit)}"
        super().__init__(message, {"file": [message]})


class ScannerUnavailable(ServiceError):
    """The configured virus scanner did not answer (503): nothing is stored unscanned."""

    status = 503
    code = "service_unavailable"

    def __init__(self) -> None:
        super().__init__(SCANNER_DOWN)


def max_bytes() -> int:
    """The largest file accepted (config DOCUMENT_MAX_BYTES, default 10 MB)."""
    return int(current_app.config.get("DOCUMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def upload_body_limit() -> int:
    """The largest request body an upload route reads: the file's limit and
    room for the form around it. Only the upload routes raise the request's
    limit to this (the app's MAX_CONTENT_LENGTH is far smaller)."""
    return max_bytes() + FORM_OVERHEAD


def describe_size(size: int) -> str:
    """A size for people: 10 MB, 512 KB, 300 bytes."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


def is_plain_text(data: bytes) -> bool:
    """UTF-8 (a byte order mark allowed) without NULs or control characters
    other than tab, line feed, form feed and carriage return."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(
        (ord(character) < 32 and character not in _TEXT_CONTROLS) or 0x7F <= ord(character) < 0xA0
        for character in text
    )


def sniff(data: bytes) -> str | None:
    """The allow-listed type the content is, or None."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    return TEXT if is_plain_text(data) else None


def check_upload(data: bytes, filename: str) -> str:
    """The content type of an acceptable upload, checked by content: refuses
    (DocumentTooLarge, 413) a file over the limit, (DocumentRefused, 422) an
    empty file, one whose content is not an allowed type whatever its name
    (`filename` is not trusted for the type), or one the virus scanner flags;
    (ScannerUnavailable, 503) when a configured scanner cannot be reached."""
    del filename  # the name says nothing about the content
    limit = max_bytes()
    if len(data) > limit:
        raise DocumentTooLarge(limit)
    if not data:
        raise DocumentRefused(EMPTY)
    content_type = sniff(data)
    if content_type is None:
        raise DocumentRefused(WRONG_TYPE)
    scan(data)
    return content_type


def _scanner_address() -> tuple[int, str | tuple[str, int]] | None:
    config = current_app.config
    if config.get("CLAMD_SOCKET"):
        return socket.AF_UNIX, str(config["CLAMD_SOCKET"])
    if config.get("CLAMD_HOST"):
        return socket.AF_INET, (str(config["CLAMD_HOST"]), int(config.get("CLAMD_PORT") or 3310))
    return None


def scan(data: bytes) -> None:
    """Send the file to clamd when CLAMD_SOCKET or CLAMD_HOST is configured;
    refuse it (DocumentRefused) when clamd finds something, and refuse the
    upload (ScannerUnavailable) when clamd cannot be reached or errs."""
    address = _scanner_address()
    if address is None:
        return
    family, where = address
    timeout = float(current_app.config.get("CLAMD_TIMEOUT") or 30)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(where)
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), _CHUNK):
                chunk = data[start : start + _CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            answer = _read_answer(connection)
    except OSError:
        current_app.logger.warning("clamd at %s could not be reached", where)
        raise ScannerUnavailable() from None
    if answer.endswith("FOUND"):
        current_app.logger.warning("clamd refused an upload: %s", answer)
        raise DocumentRefused(INFECTED)
    if not answer.endswith("OK"):
        current_app.logger.warning("clamd answered %r", answer)
        raise ScannerUnavailable()


def _read_answer(connection: socket.socket) -> str:
    answer = b""
    while not answer.endswith(b"\0"):
        received = connection.recv(4096)
        if not received:
            break
        answer += received
    return answer.rstrip(b"\0").decode("utf-8", "replace").strip()
