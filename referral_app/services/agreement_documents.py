"""The signed document of an information sharing agreement: uploaded by a
manager of a party agency (checked by content, PDF, DOCX or ODT only,
stored encrypted through referral_app.document_storage), downloaded by the
parties as an attachment, each download recorded as a disclosure."""

from __future__ import annotations

from referral_app import document_storage
from referral_app.document_checks import DOCX, ODT, PDF, DocumentRefused
from referral_app.extensions import db
from referral_app.models import User, utcnow
from referral_app.models.agreement import Agreement
from referral_app.services import audit
from referral_app.services.agreements import may_manage
from referral_app.services.errors import Forbidden, NotFound

# The signed agreement: a document, not a picture or a note.
DOCUMENT_TYPES = frozenset({PDF, DOCX, ODT})
NOT_A_DOCUMENT = "The agreement must be a PDF, Word (DOCX) or OpenDocument (ODT) file"


def attach_document(actor: User, agreement: Agreement, *, data: bytes, filename: str) -> Agreement:
    """Store the signed agreement (replacing any earlier upload): checked by
    content (document_storage.check_upload) and allowed only as PDF, DOCX or
    ODT, stored encrypted. Refuses an actor who is not a manager of a party
    (Forbidden), a file too large (413), of another type or flagged by the
    scanner (422), and answers 503 while a configured scanner is unreachable."""
    if not may_manage(actor, agreement):
        raise Forbidden("Only a manager of a party agency uploads the agreement.")
    content_type = document_storage.check_upload(data, filename)
    if content_type not in DOCUMENT_TYPES:
        raise DocumentRefused(NOT_A_DOCUMENT)
    previous = agreement.document_key
    agreement.document_key = document_storage.put(data)
    agreement.document_filename = (filename or "agreement").rsplit("/", 1)[-1][:200]
    agreement.document_content_type = content_type
    agreement.updated_at = utcnow()
    db.session.flush()
    if previous is not None:
        document_storage.delete(previous)
    audit.record(
        "agreement.document_added",
        actor,
        record_type="agreement",
        record_id=agreement.id,
        fields=["document"],
    )
    return agreement


def download_document(actor: User, agreement: Agreement) -> tuple[bytes, str, str]:
    """The signed agreement's content, type and filename, for a party
    (read with get_agreement); the download is recorded as a disclosure.
    NotFound when none was uploaded."""
    if agreement.document_key is None:
        raise NotFound("No document has been uploaded for this agreement.")
    content = document_storage.get(agreement.document_key)
    audit.record(
        "agreement.document_downloaded",
        actor,
        record_type="agreement",
        record_id=agreement.id,
    )
    return (
        content,
        agreement.document_content_type or "application/octet-stream",
        (agreement.document_filename or "agreement"),
    )
