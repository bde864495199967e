"""Documents through the API: upload, list, read, download, and every
refusal (wrong type renamed .pdf, too large, not held, internal, ended share)."""

from __future__ import annotations

import gc
from io import BytesIO

import pytest
from sqlalchemy import func, select

from referral_app.document_checks import PDF, WRONG_TYPE
from referral_app.extensions import db
from referral_app.models.document import Document, DocumentBlob
from referral_app.services.audit import DISCLOSURES
from referral_app.services.audit_search import ACTIONS
from referral_app.services.documents import safe_filename
from tests.actions.conftest import audit_events, end_share
from tests.documents.conftest import download, listed, upload
from tests.documents.samples import DOCX_BYTES, EXE_BYTES, PDF_BYTES, PNG_BYTES
from tests.referral_helpers import create, share_with


def stored_counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Document.id))),
            db.session.scalar(select(func.count(DocumentBlob.key))),
        )


def test_the_referrer_uploads_and_every_holder_lists_reads_and_downloads(client, world, referral):
    rid = referral["id"]
    made = upload(client, world.officer, rid).json
    assert made["title"] == "Signed consent form"
    assert made["kind"] == "consent_form"
    assert made["content_type"] == "application/pdf"
    assert made["filename"] == "consent.pdf"
    assert made["size"] == len(PDF_BYTES)
    assert made["visibility"] == "shared"
    assert made["organisation"]["id"] == str(world.police.id)
    for holder in (world.officer, world.yjs_manager, world.caseworker):
        assert [d["id"] for d in listed(client, holder, rid).json] == [made["id"]]
        one = client.get(f"/api/v1/referrals/{rid}/documents/{made['id']}", headers=holder.headers)
        assert one.status_code == 200
        assert one.json["sha256"] == made["sha256"]
        got = download(client, holder, rid, made["id"])
        assert got.status_code == 200
        assert got.data == PDF_BYTES


def test_a_download_is_an_attachment_of_the_checked_type_never_cached_or_sniffed(
    client, world, referral
):
    rid = referral["id"]
    # A PNG sent as "report.pdf" with a PDF content type: stored and served as a PNG.
    made = upload(client, world.officer, rid, content=PNG_BYTES, filename="report.pdf").json
    assert made["content_type"] == "image/png"
    assert made["filename"] == "report.png"
    got = download(client, world.yjs_manager, rid, made["id"])
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"] == "attachment; filename=report.png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got.headers["Cache-Control"]


def test_a_filename_beyond_ascii_or_with_a_path_is_made_safe(client, world, referral):
    rid = referral["id"]
    made = upload(
        client,
        world.officer,
        rid,
        filename="../../évaluation finale (v2).odt",
        content=DOCX_BYTES,
    ).json
    # The path goes, and the extension is the checked type's.
    assert made["filename"] == "évaluation finale (v2).docx"
    got = download(client, world.officer, rid, made["id"])
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%C3%A9valuation%20finale%20%28v2%29.docx" in disposition


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ('..\\..\\report "final"\r\n.pdf', "report _final.pdf"),
        ("C:\\Users\\me\\consent.PDF", "consent.pdf"),
        ("/etc/passwd", "passwd.pdf"),
        ("", "document.pdf"),
        (".htaccess", "document.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
        ("name\x00with\x1bcontrols.pdf", "namewithcontrols.pdf"),
    ],
)
def test_safe_filename(given, expected):
    assert safe_filename(given, PDF) == expected


def test_a_program_renamed_pdf_is_refused_and_nothing_is_stored(app, client, world, referral):
    before = stored_counts(app)
    refused = upload(
        client,
        world.officer,
        referral["id"],
        content=EXE_BYTES,
        filename="consent.pdf",
        expect=422,
    )
    assert refused.json["code"] == "validation_failed"
    assert refused.json["message"] == WRONG_TYPE
    assert refused.json["errors"] == {"file": [WRONG_TYPE]}
    assert stored_counts(app) == before


def test_an_upload_over_the_limit_is_413_before_the_body_is_read(app, client, world, referral):
    saved = app.config["DOCUMENT_MAX_BYTES"]
    app.config["DOCUMENT_MAX_BYTES"] = 1024
    before = stored_counts(app)
    try:
        big = b"a" * (200 * 1024)
        refused = upload(
            client, world.officer, referral["id"], content=big, filename="big.txt", expect=413
        )
        assert refused.json["status"] == 413
        assert refused.json["message"] == "The file must be smaller than 1 KB"
        # Within the body's allowance but over the file's limit: refused by size too.
        refused = upload(
            client,
            world.officer,
            referral["id"],
            content=b"a" * 2048,
            filename="b.txt",
            expect=413,
        )
        assert refused.json["errors"] == {"file": ["The file must be smaller than 1 KB"]}
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved
    assert stored_counts(app) == before


def test_a_declared_length_over_the_limit_is_refused_without_reading(app, client, world, referral):
    """The body is never read: a stream that fails when read proves it."""

    class Unreadable(BytesIO):
        def read(self, *args):  # pragma: no cover - must not be called
            raise AssertionError("the body was read")

    refused = client.post(
        f"/api/v1/referrals/{referral['id']}/documents",
        input_stream=Unreadable(b""),
        headers={
            **world.officer.headers,
            "Content-Type": "multipart/form-data; boundary=x",
        },
        environ_overrides={"CONTENT_LENGTH": str(11 * 1024 * 1024)},
    )
    assert refused.status_code == 413
    assert refused.json["code"] == "request_entity_too_large"


# werkzeug's form parser leaves the half-read file part's spooled temporary
# file to the garbage collector when the limit stops it: collected here.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_body_without_a_length_is_counted_as_it_is_read(app, client, world, referral):
    saved = app.config["DOCUMENT_MAX_BYTES"]
    app.config["DOCUMENT_MAX_BYTES"] = 1024
    try:
        body = (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
            + b"a" * (100 * 1024)
            + b"\r\n--x--\r\n"
        )
        refused = client.post(
            f"/api/v1/referrals/{referral['id']}/documents",
            input_stream=BytesIO(body),
            headers={
                **world.officer.headers,
                "Content-Type": "multipart/form-data; boundary=x",
                "Transfer-Encoding": "chunked",
            },
            # What a server sets for a chunked body it de-chunks (gunicorn does).
            environ_overrides={"wsgi.input_terminated": True},
        )
        assert refused.status_code == 413
        assert refused.json["status"] == 413
        gc.collect()
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved


def test_missing_file_title_or_kind_is_422_with_field_errors(client, world, referral):
    refused = upload(
        client, world.officer, referral["id"], content=None, title="  ", kind="x", expect=422
    )
    assert set(refused.json["errors"]) >= {"file", "title", "kind"}


def test_an_empty_file_is_refused(client, world, referral):
    refused = upload(client, world.officer, referral["id"], content=b"", expect=422)
    assert refused.json["errors"]["file"] == ["The selected file is empty"]


def test_an_agency_that_does_not_hold_the_referral_gets_404_everywhere(client, world, referral):
    rid = referral["id"]
    made = upload(client, world.officer, rid).json
    outsider = world.stranger_manager
    for response in (
        listed(client, outsider, rid),
        client.get(f"/api/v1/referrals/{rid}/documents/{made['id']}", headers=outsider.headers),
        download(client, outsider, rid, made["id"]),
        upload(client, outsider, rid, expect=None),
    ):
        assert response.status_code == 404
        assert response.json["message"] == "No such referral."


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_share_that_ended_downloads_nothing(app, client, world, referral, ending):
    rid = referral["id"]
    share = share_with(client, world, rid, world.charity)
    made = upload(client, world.officer, rid).json
    assert download(client, world.charity_worker, rid, made["id"]).status_code == 200
    if ending == "revoked":
        revoked = client.delete(
            f"/api/v1/referrals/{rid}/shares/{share['id']}", headers=world.yjs_manager.headers
        )
        assert revoked.status_code == 200
    else:
        end_share(app, share["id"])
    assert download(client, world.charity_worker, rid, made["id"]).status_code == 404
    assert listed(client, world.charity_worker, rid).status_code == 404


def test_an_internal_document_is_seen_by_the_uploading_agency_alone(client, world, referral):
    rid = referral["id"]
    internal = upload(client, world.yjs_manager, rid, visibility="internal").json
    shared = upload(client, world.officer, rid).json
    assert {d["id"] for d in listed(client, world.caseworker, rid).json} == {
        internal["id"],
        shared["id"],
    }
    assert [d["id"] for d in listed(client, world.officer, rid).json] == [shared["id"]]
    for response in (
        client.get(
            f"/api/v1/referrals/{rid}/documents/{internal['id']}", headers=world.officer.headers
        ),
        download(client, world.officer, rid, internal["id"]),
    ):
        assert response.status_code == 404
        assert response.json["message"] == "No such document."
    assert download(client, world.caseworker, rid, internal["id"]).status_code == 200


def test_a_document_of_another_referral_is_404_under_this_one(client, world, referral):
    other = create(client, world.stranger_manager, world.yjs)
    theirs = upload(client, world.stranger_manager, other["id"]).json
    got = download(client, world.officer, referral["id"], theirs["id"])
    assert got.status_code == 404


def test_a_draft_takes_documents_from_its_referrer_only(client, world):
    draft = create(client, world.officer, world.yjs)
    upload(client, world.officer, draft["id"])
    assert upload(client, world.yjs_manager, draft["id"], expect=None).status_code == 404


def test_roles_without_case_work_cannot_upload_or_read(client, factory, world, referral):
    from referral_app.models import Role
    from tests.factories import bearer, token_for

    auditor = factory.user(Role.AUDITOR, organisation=world.police)
    headers = bearer(token_for(client, auditor))
    rid = referral["id"]
    assert client.get(f"/api/v1/referrals/{rid}/documents", headers=headers).status_code == 403
    refused = client.post(
        f"/api/v1/referrals/{rid}/documents",
        data={"title": "x", "kind": "other", "file": (BytesIO(PDF_BYTES), "a.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert refused.status_code == 403


def test_uploads_reads_and_downloads_are_audited_and_downloads_are_disclosures(
    app, client, world, referral
):
    rid = referral["id"]
    made = upload(client, world.officer, rid).json
    listed(client, world.caseworker, rid)
    client.get(f"/api/v1/referrals/{rid}/documents/{made['id']}", headers=world.caseworker.headers)
    download(client, world.yjs_manager, rid, made["id"])
    added = audit_events(app, "referral.document_added", world.officer)
    assert [e.record_ids for e in added] == [[made["id"]]]
    assert "content" in added[0].fields
    assert len(audit_events(app, "referral.documents_read", world.caseworker)) == 1
    assert len(audit_events(app, "referral.document_read", world.caseworker)) == 1
    downloaded = audit_events(app, "referral.document_downloaded", world.yjs_manager)
    assert [e.record_ids for e in downloaded] == [[made["id"]]]
    assert "referral.document_downloaded" in DISCLOSURES
    for action in (
        "referral.document_added",
        "referral.documents_read",
        "referral.document_read",
        "referral.document_downloaded",
    ):
        assert action in ACTIONS
