"""The signed agreement: uploaded by a manager of a party (PDF, DOCX or ODT
recognised by content), downloaded by the parties as an attachment (each
download a disclosure), 404 for any other agency."""

from __future__ import annotations

from io import BytesIO

from referral_app.services.audit import DISCLOSURES
from referral_app.services.audit_search import ACTIONS
from tests.actions.conftest import audit_events
from tests.agreements.conftest import make_agreement
from tests.documents.samples import DOCX_BYTES, EXE_BYTES, PDF_BYTES, PNG_BYTES


def _upload(client, actor, agreement_id, content, filename="agreement.pdf"):
    return client.post(
        f"/api/v1/agreements/{agreement_id}/document",
        data={"file": (BytesIO(content), filename, "application/pdf")},
        content_type="multipart/form-data",
        headers=actor.headers,
    )


def test_a_party_manager_uploads_and_the_parties_download_it(client, app, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    uploaded = _upload(client, world.yjs_manager, made["id"], PDF_BYTES, "ISA signed.pdf")
    assert uploaded.status_code == 200, uploaded.json
    assert uploaded.json["document_filename"] == "ISA signed.pdf"
    got = client.get(
        f"/api/v1/agreements/{made['id']}/document", headers=world.charity_worker.headers
    )
    assert got.status_code == 200
    assert got.data == PDF_BYTES
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    downloads = audit_events(app, "agreement.document_downloaded", world.charity_worker)
    assert [str(e.record_id) for e in downloads] == [made["id"]]
    assert "agreement.document_downloaded" in DISCLOSURES
    assert "agreement.document_added" in ACTIONS
    replaced = _upload(client, world.charity_manager, made["id"], DOCX_BYTES, "v2.docx")
    assert replaced.status_code == 200
    again = client.get(
        f"/api/v1/agreements/{made['id']}/document", headers=world.yjs_manager.headers
    )
    assert again.data == DOCX_BYTES


def test_another_agency_gets_404_uploading_or_downloading(client, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    _upload(client, world.yjs_manager, made["id"], PDF_BYTES)
    path = f"/api/v1/agreements/{made['id']}/document"
    assert client.get(path, headers=world.police_manager.headers).status_code == 404
    refused = _upload(client, world.police_manager, made["id"], PDF_BYTES)
    assert refused.status_code == 404
    assert _upload(client, world.charity_worker, made["id"], PDF_BYTES).status_code == 403


def test_a_picture_or_a_program_renamed_as_pdf_is_refused(client, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    for content in (PNG_BYTES, EXE_BYTES):
        refused = _upload(client, world.yjs_manager, made["id"], content, "agreement.pdf")
        assert refused.status_code == 422
        assert "file" in refused.json["errors"]
    nothing = client.get(
        f"/api/v1/agreements/{made['id']}/document", headers=world.yjs_manager.headers
    )
    assert nothing.status_code == 404


def test_an_oversized_upload_is_refused_with_413(client, app, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    before = app.config.get("DOCUMENT_MAX_BYTES")
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    try:
        refused = _upload(client, world.yjs_manager, made["id"], PDF_BYTES + b" " * 5000)
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = before
    assert refused.status_code == 413
