"""Documents through the pages: the referral page links to them, the
referrer uploads with the GOV.UK file upload, the list shows it with a
download link; a wrong type, a missing file or title, and a too-large file
come back as the form with an error summary in our words; another agency
gets 404."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.actions.test_actions_pages import flash_after, form_data
from tests.blueprints.web.test_referral_detail_pages import sign_in
from tests.documents.conftest import upload
from tests.documents.samples import EXE_BYTES, PDF_BYTES
from tests.page_errors import assert_plain_errors, tables


@pytest.fixture
def pages(app, world):
    names = ("officer", "yjs_manager", "caseworker", "stranger_manager")
    return {name: sign_in(app, getattr(world, name).user) for name in names}


def send_upload(browser, rid: str, content: bytes | None = PDF_BYTES, **fields):
    path = f"/referrals/{rid}/documents/new"
    data = {
        **form_data(browser, path, path),
        "title": "Signed consent form",
        "kind": "consent_form",
        "visibility": "shared",
        **fields,
    }
    if content is not None:
        data["file"] = (BytesIO(content), "consent.pdf", "application/pdf")
    return browser.post(path, data=data, content_type="multipart/form-data")


def test_the_referral_page_links_to_its_documents(referral, pages):
    html = pages["officer"].get(f"/referrals/{referral['id']}").get_data(as_text=True)
    assert f'href="/referrals/{referral["id"]}/documents"' in html


def test_the_referrer_uploads_a_consent_form_and_sees_it_listed(referral, pages):
    rid = referral["id"]
    form = pages["officer"].get(f"/referrals/{rid}/documents/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    assert 'class="govuk-file-upload' in form
    sent = send_upload(pages["officer"], rid)
    assert flash_after(pages["officer"], sent) == "Document uploaded: Signed consent form"
    for who in ("officer", "caseworker"):
        page = pages[who].get(f"/referrals/{rid}/documents").get_data(as_text=True)
        rows = tables(page)[0]["rows"]
        assert rows[1][0].startswith("Signed consent form")
        assert rows[1][1] == "Consent form"
        link = f"/referrals/{rid}/documents/"
        assert link in page
        assert "/download" in page
    document_path = page.split(f'href="/referrals/{rid}/documents/')[1].split('"')[0]
    got = pages["caseworker"].get(f"/referrals/{rid}/documents/{document_path}")
    assert got.status_code == 200
    assert got.data == PDF_BYTES
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_a_program_named_pdf_comes_back_with_the_type_error(referral, pages):
    refused = send_upload(pages["officer"], referral["id"], content=EXE_BYTES)
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True),
        "The file is not a PDF, Word, OpenDocument, PNG, JPEG or plain text document",
    )


def test_a_missing_file_and_title_are_asked_for(referral, pages):
    refused = send_upload(pages["officer"], referral["id"], content=None, title="", kind="")
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True),
        "Select a file",
        "Enter a title for the document",
        "Select what kind of document it is",
    )


def test_a_too_large_file_comes_back_as_the_form_with_413(app, referral, pages):
    saved = app.config["DOCUMENT_MAX_BYTES"]
    app.config["DOCUMENT_MAX_BYTES"] = 1024
    try:
        # Within the body's allowance, over the file's limit: the service refuses.
        refused = send_upload(pages["officer"], referral["id"], content=b"a" * 4096)
        assert refused.status_code == 413
        assert_plain_errors(refused.get_data(as_text=True), "The file must be smaller than 1 KB")
        # A body over the allowance: refused before it is read.
        refused = send_upload(pages["officer"], referral["id"], content=b"a" * (200 * 1024))
        assert refused.status_code == 413
        assert_plain_errors(
            refused.get_data(as_text=True), "The selected file must be smaller than 1 KB"
        )
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved


def test_an_upload_without_the_csrf_token_is_refused(referral, pages):
    path = f"/referrals/{referral['id']}/documents/new"
    refused = pages["officer"].post(
        path,
        data={"title": "x", "kind": "other", "file": (BytesIO(PDF_BYTES), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400


def test_another_agency_gets_404_on_every_document_page(client, world, referral, pages):
    rid = referral["id"]
    made = upload(client, world.officer, rid).json
    outsider = pages["stranger_manager"]
    for path in (
        f"/referrals/{rid}/documents",
        f"/referrals/{rid}/documents/new",
        f"/referrals/{rid}/documents/{made['id']}/download",
    ):
        assert outsider.get(path).status_code == 404


def test_an_internal_document_is_not_listed_for_another_holder(client, world, referral, pages):
    rid = referral["id"]
    internal = upload(client, world.yjs_manager, rid, visibility="internal", title="Our notes").json
    page = pages["officer"].get(f"/referrals/{rid}/documents").get_data(as_text=True)
    assert "Our notes" not in page
    got = pages["officer"].get(f"/referrals/{rid}/documents/{internal['id']}/download")
    assert got.status_code == 404
    assert "Our notes" in pages["caseworker"].get(f"/referrals/{rid}/documents").get_data(
        as_text=True
    )
