"""Document pages: a referral's documents with their download links, the
upload form, and the download itself. The rules are services/documents.py's.

The upload page's POST is exempt from Flask-WTF's automatic CSRF check and
checks the token itself: the automatic check runs before any view and reads
the form, so it would read (or refuse with the app's small body limit) a
document-sized body before this view could refuse one that is too large
with its own page, or allow one within the documents' limit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import ValidationError as CsrfValidationError

from blueprints.web import form_fields, validate
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.document_checks import (
    DocumentTooLarge,
    describe_size,
    max_bytes,
    upload_body_limit,
)
from referral_app.document_storage import as_download
from referral_app.extensions import csrf
from referral_app.models import User
from referral_app.models.document import DocumentKind
from referral_app.policy import Permission, requires
from referral_app.services import documents, referrals
from referral_app.services.errors import Invalid, ServiceError
from schemas.document import DocumentUploadSchema

blp = Blueprint("web_documents", __name__)

KIND_WORDS = {
    DocumentKind.CONSENT_FORM.value: "Consent form",
    DocumentKind.SCREENING_TOOL.value: "Screening tool",
    DocumentKind.ASSESSMENT.value: "Assessment",
    DocumentKind.MEETING_MINUTES.value: "Meeting minutes",
    DocumentKind.OTHER.value: "Other",
}
TYPE_WORDS = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.oasis.opendocument.text": "OpenDocument",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "text/plain; charset=utf-8": "Text",
}

UPLOAD_FIELDS = (
    Field("file", "The file", "Select a file", anchor="file"),
    Field("title", "Title", "Enter a title for the document", anchor="title"),
    Field("kind", "Kind of document", "Select what kind of document it is", anchor="kind"),
    Field("visibility", "Who can see it", "Select who can see the document", anchor="visibility"),
)


def _too_large() -> str:
    return f"The selected file must be smaller than {describe_size(max_bytes())}"


# --- a referral's documents -------------------------------------------------------


@blp.get("/referrals/<uuid:referral_id>/documents")
@requires(Permission.REFERRALS_READ)
def document_list(referral_id: uuid.UUID) -> str:
    """The documents of a held referral the agency may see, with download links."""
    actor: User = current_user
    referral = referrals.read_referral(actor, referral_id)
    return render_template(
        "documents/list.html",
        referral=referral,
        documents=documents.list_documents(actor, referral),
        kind_words=KIND_WORDS,
        type_words=TYPE_WORDS,
    )


@blp.get("/referrals/<uuid:referral_id>/documents/<uuid:document_id>/download")
@requires(Permission.REFERRALS_READ)
def document_download(referral_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """The content, as an attachment (recorded as a disclosure)."""
    referral = referrals.read_referral(current_user, referral_id)
    document, content = documents.download(current_user, referral, document_id)
    return as_download(content, document.content_type, document.filename)


# --- uploading one ----------------------------------------------------------------


def _render_form(
    referral_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    referral = referrals.read_referral(current_user, referral_id)
    return render_template(
        "documents/new.html",
        referral=referral,
        kind_words=KIND_WORDS,
        largest=describe_size(max_bytes()),
        errors=errors or page_errors({}, UPLOAD_FIELDS),
        form=form or {},
    ), status


@blp.get("/referrals/<uuid:referral_id>/documents/new")
@requires(Permission.NOTES_CREATE)
def document_form(referral_id: uuid.UUID) -> tuple[str, int]:
    return _render_form(referral_id)


@blp.post("/referrals/<uuid:referral_id>/documents/new")
@requires(Permission.NOTES_CREATE)
def document_upload(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """Refuse a body over the limit before reading it (the form again, 413),
    then check the CSRF token and upload."""
    too_large = page_errors({"file": [_too_large()]}, UPLOAD_FIELDS)
    limit = upload_body_limit()
    if request.content_length is not None and request.content_length > limit:
        return _render_form(referral_id, errors=too_large, status=413)
    request.max_content_length = limit
    try:
        token = request.form.get("csrf_token")
    except RequestEntityTooLarge:  # a body without a length, counted as read
        return _render_form(referral_id, errors=too_large, status=413)
    try:
        validate_csrf(token)
    except CsrfValidationError as refusal:
        raise CSRFError(refusal.args[0]) from None
    return _upload_once(referral_id)


csrf.exempt(document_upload)


@sent_once
def _upload_once(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    data = form_fields(request.form)
    if "file" in request.files and request.files["file"].filename:
        data["file"] = request.files["file"]
    loaded, errors = validate(DocumentUploadSchema(), data)
    shown_form = {key: value for key, value in request.form.items() if key != "csrf_token"}
    if loaded is None:
        shown = page_errors(errors, UPLOAD_FIELDS)
        return _render_form(referral_id, errors=shown, form=shown_form, status=422)
    referral = referrals.read_referral(current_user, referral_id)
    upload = loaded["file"]
    try:
        document = documents.upload(
            current_user,
            referral,
            data=upload.stream.read(max_bytes() + 1),
            filename=upload.filename,
            title=loaded["title"],
            kind=loaded["kind"],
            visibility=loaded["visibility"],
        )
    except (DocumentTooLarge, Invalid) as refusal:
        shown = page_errors(refusal.errors or {"file": [refusal.message]}, UPLOAD_FIELDS)
        return _render_form(referral_id, errors=shown, form=shown_form, status=refusal.status)
    except ServiceError as refusal:
        if refusal.status != 503:
            raise
        shown = page_errors({"file": [refusal.message]}, UPLOAD_FIELDS)
        return _render_form(referral_id, errors=shown, form=shown_form, status=503)
    flash(f"Document uploaded: {document.title}")
    return redirect(f"/referrals/{referral_id}/documents")
