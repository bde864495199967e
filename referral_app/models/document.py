"""Documents on a referral (consent forms, screening tools, assessments,
meeting minutes) and the encrypted bytes behind them.

A `Document` row is the metadata; its content lives in storage under
`storage_key` (referral_app.document_storage): by default the
`document_blob` table, so the bytes are in the same transaction, backups and
erasure as the rest of the case. Both hold only ciphertext.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.referral import NoteVisibility, Referral
from referral_app.models.types import UTCDateTime, new_uuid, utcnow
from referral_app.models.user import User


class DocumentKind(enum.StrEnum):
    CONSENT_FORM = "consent_form"
    SCREENING_TOOL = "screening_tool"
    ASSESSMENT = "assessment"
    MEETING_MINUTES = "meeting_minutes"
    OTHER = "other"


class Document(Model):
    """One uploaded file of a referral. `filename` is the uploader's name,
    sanitised (it is shown and sent in Content-Disposition); `content_type`
    is the type the content was checked as, never the client's claim;
    `sha256` is of the plaintext. Visibility as a note's: shared with the
    referral's holders, or internal to the uploading agency. After retention
    the content is deleted from storage (`content_removed`) and the title and
    filename are blanked; kind, type, size and dates stay for reports."""

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_referral_uploaded", "referral_id", "uploaded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[NoteVisibility] = mapped_column(
        enum_column(NoteVisibility, "document_visibility")
    )
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    storage_key: Mapped[str | None] = mapped_column(String(100))
    content_removed: Mapped[bool] = mapped_column(Boolean, default=False)

    referral: Mapped[Referral] = relationship(lazy="joined", innerjoin=True)
    uploaded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Document {self.id}>"


class DocumentBlob(Model):
    """The ciphertext of one stored file (the database storage): a random
    key, never the uploader's filename; nonce and AES-GCM ciphertext with
    its tag, bound to the key (referral_app.document_storage)."""

    __tablename__ = "document_blob"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<DocumentBlob {self.key}>"
