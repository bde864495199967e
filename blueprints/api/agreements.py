"""Information sharing agreements between agencies (services/agreements.py):
read by the case roles and auditors of a party agency (404 for any other
agency), recorded and changed by a party's managers; and the report of
shares per agreement (services/agreement_reports.py)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, documents_errors
from blueprints.api.documents import UploadBlueprint
from referral_app.document_checks import DocumentTooLarge, max_bytes, upload_body_limit
from referral_app.document_storage import as_download
from referral_app.models.agreement import Agreement
from referral_app.policy import Permission, accepts_uploads, requires
from referral_app.services import agreement_documents, agreement_reports, agreements
from referral_app.services.agreement_reports import AgreementReport
from schemas.agreement import (
    AgreementCreateSchema,
    AgreementDocumentSchema,
    AgreementReportSchema,
    AgreementSchema,
    AgreementUpdateSchema,
    PeriodSchema,
)

blp = UploadBlueprint(
    "agreements",
    __name__,
    description="Information sharing agreements between agencies, which shares cite, and "
    "the report of shares per agreement.",
)

EXAMPLE = {
    "title": "Southend exploitation prevention: police and youth justice",
    "reference": "ISA-2026-014",
    "purposes": "Early help for children at risk of criminal exploitation.",
    "lawful_bases": ["public_task"],
    "data_categories": ["identity_and_contact", "offending_and_police_intelligence"],
    "party_ids": [
        "0b6f3c1e-4a5d-4c2b-9d7e-1f2a3b4c5d6e",
        "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
    ],
    "starts_on": "2026-04-01",
    "review_on": "2027-03-31",
    "ends_on": None,
    "document_reference": "Shared drive: Partnerships/ISA-2026-014 (signed).pdf",
}


def etag_data(agreement: Agreement) -> dict[str, Any]:
    """The ETag follows the agreement's last change."""
    return {"id": str(agreement.id), "updated_at": agreement.updated_at.isoformat()}


@blp.route("/agreements")
class Agreements(MethodView):
    @requires(Permission.AGREEMENTS_READ)
    @blp.response(200, AgreementSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> list[Agreement]:
        """The agreements the caller's agency is a party to, the newest first."""
        return agreements.list_agreements(current_user)

    @requires(Permission.AGREEMENTS_MANAGE)
    @blp.arguments(AgreementCreateSchema, example=EXAMPLE)
    @blp.response(201, AgreementSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 413, 415)
    def post(self, data: dict[str, Any]) -> Agreement:
        """Record an agreement: two or more parties, the caller's agency among
        them, a lawful basis and a category of data at least, a review and
        an end date on or after the start (422 otherwise). Managers only."""
        return agreements.create(current_user, **data)


@blp.route("/agreements/<uuid:agreement_id>")
class AgreementDetail(MethodView):
    @requires(Permission.AGREEMENTS_READ)
    @blp.etag
    @blp.response(200, AgreementSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, agreement_id: uuid.UUID) -> Agreement:
        """One agreement the caller's agency is a party to (404 for any other). Sends an ETag."""
        agreement = agreements.read_agreement(current_user, agreement_id)
        blp.set_etag(etag_data(agreement))
        return agreement

    @requires(Permission.AGREEMENTS_MANAGE)
    @blp.etag
    @blp.arguments(AgreementUpdateSchema, example={"ends_on": "2027-03-31"})
    @blp.response(200, AgreementSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 412, 413, 415, 428)
    def patch(self, data: dict[str, Any], agreement_id: uuid.UUID) -> Agreement:
        """Change an agreement (its dates, purposes, parties...); end it by
        setting `ends_on`. Needs `If-Match` with the ETag last read: 428
        without it, 412 when someone else changed it since."""
        agreement = agreements.get_agreement(current_user, agreement_id)
        blp.check_etag(etag_data(agreement))
        agreements.update(current_user, agreement, **data)
        blp.set_etag(etag_data(agreement))
        return agreement


@blp.before_request
def allow_a_document_sized_body() -> None:
    """As for a referral's documents: refuse a declared length over the
    limit before anything is read (413), and let the upload's body be as
    large as a document."""
    if request.endpoint != "agreements.AgreementDocument" or request.method != "POST":
        return
    limit = upload_body_limit()
    if request.content_length is not None and request.content_length > limit:
        raise DocumentTooLarge(max_bytes())
    request.max_content_length = limit


@blp.route("/agreements/<uuid:agreement_id>/document")
class AgreementDocument(MethodView):
    @requires(Permission.AGREEMENTS_READ)
    @blp.doc(
        responses={
            200: {
                "description": "The signed agreement, as an attachment of the checked type.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    )
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, agreement_id: uuid.UUID) -> Response:
        """Download the signed agreement (recorded as a disclosure); 404 when
        none was uploaded or the caller's agency is not a party."""
        agreement = agreements.get_agreement(current_user, agreement_id)
        content, content_type, filename = agreement_documents.download_document(
            current_user, agreement
        )
        return as_download(content, content_type, filename)

    @accepts_uploads
    @requires(Permission.AGREEMENTS_MANAGE)
    @blp.arguments(
        AgreementDocumentSchema, location="form_and_files", example={"file": "(the file's bytes)"}
    )
    @blp.response(200, AgreementSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415, 503)
    def post(self, data: dict[str, Any], agreement_id: uuid.UUID) -> Agreement:
        """Upload the signed agreement (multipart/form-data), replacing any
        earlier one: PDF, DOCX or ODT recognised by content (422 for anything
        else, whatever its name), 413 over the size limit, 422 when the virus
        scanner flags it, 503 while a configured scanner is unreachable."""
        agreement = agreements.get_agreement(current_user, agreement_id)
        upload = data["file"]
        return agreement_documents.attach_document(
            current_user,
            agreement,
            data=upload.stream.read(max_bytes() + 1),
            filename=upload.filename or "agreement",
        )


@blp.route("/reports/agreements")
class AgreementsReport(MethodView):
    @requires(Permission.AGREEMENTS_REPORT)
    @blp.arguments(PeriodSchema, location="query")
    @blp.response(200, AgreementReportSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400)
    def get(self, period: dict[str, Any]) -> AgreementReport:
        """Shares per agreement the caller's agency is a party to (granted in
        the period, by recipient agency and lawful basis; live now) and the
        shares made without an agreement with their reasons: counts only,
        no child data. Managers and auditors."""
        return agreement_reports.report(
            current_user, start=period.get("start"), end=period.get("end")
        )
