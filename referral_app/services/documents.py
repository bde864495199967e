"""Documents on a referral: consent forms, screening tools, assessments,
meeting minutes.

Any agency that holds the referral uploads to it (as it adds notes: on a
draft too, which only the referring agency holds) and reads its shared
documents; an internal document is seen by the uploading agency alone (as
an internal note). The content is checked by referral_app.document_checks
(type by content, size, virus scan) and kept encrypted by
referral_app.document_storage; the row holds the metadata. Every read of
the list, of one document and every download is recorded; each is a
disclosure (services/audit.DISCLOSURES).
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import ColumnElement, or_, select

from referral_app import document_storage
from referral_app.document_checks import ALLOWED_TYPES
from referral_app.extensions import db
from referral_app.models import NoteVisibility, Referral, User, utcnow
from referral_app.models.document import Document, DocumentKind
from referral_app.services import audit
from referral_app.services.errors import NotFound

FILENAME_LIMIT = 120
REMOVED_TITLE = "[removed under the retention policy]"
# The most document content one subject access export carries inline.
EXPORT_INLINE_BYTES = 50 * 1024 * 1024


def document_is_visible(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The one rule for which documents of a held referral an agency sees:
    shared ones, and internal ones its own people uploaded."""
    return or_(
        Document.visibility == NoteVisibility.SHARED, Document.organisation_id == organisation_id
    )


def safe_filename(given: str | None, content_type: str) -> str:
    """The uploader's filename as shown and sent in Content-Disposition: the
    last part of any path, letters, digits and a few marks only (no control
    characters, quotes or separators), at most FILENAME_LIMIT characters, and
    ending in the extension of the type it was checked as (a PNG named
    consent.pdf downloads as consent.png)."""
    name = PureWindowsPath(PurePosixPath(given or "").name).name
    name = unicodedata.normalize("NFC", name)
    kept = "".join(
        character
        if character.isalnum() or character in " .-_()"
        else ("_" if not unicodedata.category(character).startswith("C") else "")
        for character in name
    )
    stem = kept.rsplit(".", 1)[0] if "." in kept else kept
    stem = " ".join(stem.split()).strip(" ._") or "document"
    extension = ALLOWED_TYPES[content_type]
    return f"{stem[: FILENAME_LIMIT - len(extension) - 1]}.{extension}"


def upload(
    actor: User,
    referral: Referral,
    *,
    data: bytes,
    filename: str | None,
    title: str,
    kind: DocumentKind,
    visibility: NoteVisibility,
) -> Document:
    """Attach a file to a referral the actor's agency holds (the caller read
    it with scoping.get_held_referral). The type stored is the one the
    content was recognised as; the bytes are stored encrypted in the same
    transaction (database storage).

    Refuses (document_checks): a file over the size limit (413); an empty
    file, a type not on the allow-list whatever its name, a file the virus
    scanner flags (422); any upload while a configured scanner is
    unreachable (503). Nothing is stored when it refuses."""
    content_type = document_storage.check_upload(data, filename or "")
    document = Document(
        referral_id=referral.id,
        title=title,
        kind=kind,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        visibility=visibility,
        uploaded_by_id=actor.id,
        organisation_id=actor.organisation_id,
        uploaded_at=utcnow(),
        storage_key=document_storage.put(data),
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        "referral.document_added",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[document.id],
        fields=["title", "kind", "filename", "content", "visibility"],
    )
    return document


def list_documents(actor: User, referral: Referral) -> list[Document]:
    """The documents of a held referral the actor's agency may see, the
    latest first; the read is recorded."""
    found = list(
        db.session.scalars(
            select(Document)
            .where(
                Document.referral_id == referral.id,
                document_is_visible(actor.organisation_id),
            )
            .order_by(Document.uploaded_at.desc(), Document.id)
        )
    )
    audit.record(
        "referral.documents_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[document.id for document in found],
    )
    return found


def get_document(actor: User, referral: Referral, document_id: uuid.UUID) -> Document:
    """A document of this referral the actor's agency may see; NotFound for
    any other id, another referral's, or another agency's internal one."""
    document = db.session.scalar(
        select(Document).where(
            Document.id == document_id,
            Document.referral_id == referral.id,
            document_is_visible(actor.organisation_id),
        )
    )
    if document is None:
        raise NotFound("No such document.")
    return document


def read_document(actor: User, referral: Referral, document_id: uuid.UUID) -> Document:
    """`get_document`, its read recorded."""
    document = get_document(actor, referral, document_id)
    audit.record(
        "referral.document_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[document.id],
    )
    return document


def download(actor: User, referral: Referral, document_id: uuid.UUID) -> tuple[Document, bytes]:
    """A document and its content, the download recorded as a disclosure.
    Refuses (NotFound) what `get_document` refuses, and a document whose
    content retention removed."""
    document = get_document(actor, referral, document_id)
    if document.content_removed or document.storage_key is None:
        raise NotFound("The document's content was removed under the retention policy.")
    content = document_storage.get(document.storage_key)
    audit.record(
        "referral.document_downloaded",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[document.id],
        fields=["content"],
    )
    return document, content


def remove_content(referral_ids: list[uuid.UUID]) -> int:
    """Retention: delete the contents of these referrals' documents from
    storage and blank their titles and filenames (which may name the child);
    kind, type, size, dates and agency stay for the reports. The number of
    documents whose content went."""
    removed = 0
    for document in db.session.scalars(
        select(Document).where(
            Document.referral_id.in_(referral_ids), Document.content_removed.is_(False)
        )
    ):
        if document.storage_key is not None:
            document_storage.delete(document.storage_key)
        document.storage_key = None
        document.content_removed = True
        document.title = REMOVED_TITLE
        document.filename = "removed." + ALLOWED_TYPES.get(document.content_type, "bin")
        removed += 1
    db.session.flush()
    return removed


@dataclass(frozen=True)
class ExportedDocument:
    """A document in a subject access export: its metadata and its content
    (base64), or why the content is not there."""

    document: Document
    content_base64: str | None
    content_note: str | None = None


def for_export(actor: User, referrals: list[Referral]) -> dict[uuid.UUID, list[ExportedDocument]]:
    """Subject access: by referral, the documents of these held referrals the
    actor's agency may see (shared ones and its own internal ones, as for
    notes), oldest first, each with its content in base64, so the export is
    a complete copy the requester can be given as it is, not links that
    need an account. Up to EXPORT_INLINE_BYTES of content in all; past that
    (and where retention removed it) a document is listed with a note
    instead, to be downloaded separately. Reads are audited by the export."""
    found: dict[uuid.UUID, list[ExportedDocument]] = {referral.id: [] for referral in referrals}
    if not referrals:
        return found
    budget = EXPORT_INLINE_BYTES
    for document in db.session.scalars(
        select(Document)
        .where(
            Document.referral_id.in_(list(found)),
            document_is_visible(actor.organisation_id),
        )
        .order_by(Document.uploaded_at, Document.id)
    ):
        if document.content_removed or document.storage_key is None:
            exported = ExportedDocument(document, None, "Removed under the retention policy.")
        elif document.size > budget:
            exported = ExportedDocument(
                document,
                None,
                "Too large to include with the rest: download it from the referral's documents.",
            )
        else:
            content = document_storage.get(document.storage_key)
            budget -= len(content)
            exported = ExportedDocument(document, base64.b64encode(content).decode("ascii"))
        found[document.referral_id].append(exported)
    return found
