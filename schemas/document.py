"""Documents on a referral: the upload (a multipart form: the file and its
title, kind and visibility) and the metadata answered (services/documents.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from referral_app.models import NoteVisibility
from referral_app.models.document import DocumentKind
from schemas.common import InputSchema, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

TITLE_LIMIT = 200
KINDS = tuple(kind.value for kind in DocumentKind)
VISIBILITIES = tuple(visibility.value for visibility in NoteVisibility)


class UploadedFile(Upload):
    """A file part of a multipart request (anything else is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the file as a file part of a multipart form.")
        return value


class DocumentUploadSchema(InputSchema):
    file = UploadedFile(
        required=True,
        metadata={
            "description": "The file: PDF, Word (DOCX), OpenDocument text (ODT), PNG, JPEG "
            "or UTF-8 plain text, recognised by its content (its name and the part's "
            "Content-Type are not trusted); at most DOCUMENT_MAX_BYTES (10 MB by default)."
        },
    )
    title = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=TITLE_LIMIT),
        metadata={"description": "What the document is, for the list."},
    )
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(KINDS),
        metadata={"description": "One of: " + ", ".join(f"`{kind}`" for kind in KINDS) + "."},
    )
    visibility = ma.fields.String(
        load_default=NoteVisibility.SHARED.value,
        validate=ma.validate.OneOf(VISIBILITIES),
        metadata={
            "description": "`shared` (the default: every agency holding the referral) or "
            "`internal` (the uploading agency only)."
        },
    )

    @ma.pre_load
    def strip_title(self, data: Any, **_: Any) -> Any:
        # A multipart form comes as a MultiDictProxy, which the base leaves
        # unstripped: the title is stripped here, so blank is missing.
        if hasattr(data, "get") and isinstance(data.get("title"), str):
            data = dict(data)
            data["title"] = data["title"].strip()
        return data

    @ma.post_load
    def as_enums(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["kind"] = DocumentKind(data["kind"])
        data["visibility"] = NoteVisibility(data["visibility"])
        return data


class DocumentSchema(OutputSchema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    title = ma.fields.String()
    kind = ma.fields.Enum(DocumentKind, by_value=True)
    filename = ma.fields.String(
        metadata={
            "description": "The uploader's name for the file, made safe, ending in the "
            "extension of its checked type."
        }
    )
    content_type = ma.fields.String(
        metadata={"description": "The type the content was recognised as."}
    )
    size = ma.fields.Integer(metadata={"description": "In bytes."})
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the content, in hex."})
    visibility = ma.fields.Enum(NoteVisibility, by_value=True)
    uploaded_by = ma.fields.Nested(PersonSchema)
    organisation = ma.fields.Nested(OrganisationSummarySchema)
    uploaded_at = ma.fields.AwareDateTime()
    content_removed = ma.fields.Boolean(
        metadata={"description": "True once retention removed the content (no download)."}
    )


class ExportedDocumentSchema(OutputSchema):
    """A document in a subject access export (services.documents.for_export)."""

    document = ma.fields.Nested(DocumentSchema)
    content_base64 = ma.fields.String(
        allow_none=True, metadata={"description": "The content, base64-encoded."}
    )
    content_note = ma.fields.String(
        allow_none=True,
        metadata={"description": "Why the content is not included, when it is not."},
    )
