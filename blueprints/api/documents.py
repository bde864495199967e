"""Documents on a referral: upload (multipart), list, read the metadata,
download the content. Seen by the agencies that hold the referral (an
internal document by its own agency only); uploaded by any of them."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import flask_smorest
from flask import Response, request
from flask.views import MethodView
from flask_login import current_user
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.document_checks import DocumentTooLarge, max_bytes, upload_body_limit
from referral_app.document_storage import as_download
from referral_app.models.document import Document
from referral_app.policy import Permission, accepts_uploads, requires
from referral_app.services import documents
from referral_app.services.scoping import get_held_referral
from schemas.document import DocumentSchema, DocumentUploadSchema


class MultipartParser(FlaskParser):
    """webargs' parser with one more location: a multipart form's fields and
    files together, so that one schema (and one OpenAPI request body) says
    what an upload sends."""

    __location_map__ = {  # noqa: RUF012 (webargs declares it so)
        **FlaskParser.__location_map__,
        "form_and_files": "load_form_and_files",
    }

    def load_form_and_files(self, req: Any, schema: Any) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class UploadBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }


blp = UploadBlueprint(
    "documents",
    __name__,
    description="Documents on a referral (consent forms, screening tools, assessments, "
    "meeting minutes): checked by content, stored encrypted, served only as downloads.",
)

UPLOAD_EXAMPLE = {
    "file": "(the file's bytes)",
    "title": "Signed consent form",
    "kind": "consent_form",
    "visibility": "shared",
}


@blp.before_request
def allow_a_document_sized_body() -> None:
    """Before anything reads the body: refuse a declared length over the
    limit (413, nothing read or stored), and let an upload's body be as large
    as a document; werkzeug counts a body without a length as it is read and
    stops at the same limit (413)."""
    if request.endpoint != "documents.ReferralDocuments" or request.method != "POST":
        return
    limit = upload_body_limit()
    if request.content_length is not None and request.content_length > limit:
        raise DocumentTooLarge(max_bytes())
    request.max_content_length = limit


@blp.route("/referrals/<uuid:referral_id>/documents")
class ReferralDocuments(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, DocumentSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> list[Document]:
        """The documents of a referral the caller's agency holds (its shared
        ones and its own agency's internal ones), the latest first."""
        referral = get_held_referral(current_user, referral_id)
        return documents.list_documents(current_user, referral)

    @accepts_uploads
    @requires(Permission.NOTES_CREATE)
    @blp.arguments(DocumentUploadSchema, location="form_and_files", example=UPLOAD_EXAMPLE)
    @blp.response(201, DocumentSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415, 503)
    def post(self, data: dict[str, Any], referral_id: uuid.UUID) -> Document:
        """Upload a document (multipart/form-data). Its type is recognised
        from the content: PDF, DOCX, ODT, PNG, JPEG or UTF-8 text (422 for
        anything else, whatever its name); 413 over the size limit, refused
        before the body is read when Content-Length says so; 422 when the
        virus scanner flags it, 503 while a configured scanner is unreachable."""
        referral = get_held_referral(current_user, referral_id)
        upload = data["file"]
        content = upload.stream.read(max_bytes() + 1)
        return documents.upload(
            current_user,
            referral,
            data=content,
            filename=upload.filename,
            title=data["title"],
            kind=data["kind"],
            visibility=data["visibility"],
        )


@blp.route("/referrals/<uuid:referral_id>/documents/<uuid:document_id>")
class DocumentDetail(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.response(200, DocumentSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID, document_id: uuid.UUID) -> Document:
        """One document's metadata (404 for another agency's internal one)."""
        referral = get_held_referral(current_user, referral_id)
        return documents.read_document(current_user, referral, document_id)


@blp.route("/referrals/<uuid:referral_id>/documents/<uuid:document_id>/content")
class DocumentContent(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.doc(
        responses={
            200: {
                "description": "The content, as an attachment of the checked type.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    )
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID, document_id: uuid.UUID) -> Response:
        """Download a document's content (recorded as a disclosure); 404 once
        retention removed it."""
        referral = get_held_referral(current_user, referral_id)
        document, content = documents.download(current_user, referral, document_id)
        return as_download(content, document.content_type, document.filename)
