"""Documents past retention lose their content (from storage, in both
storages) and their title and filename, keeping what reports count; the
subject access export carries the documents the agency may see, with their
content."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent
from referral_app.models.document import Document, DocumentBlob
from referral_app.services import retention
from tests.documents.conftest import download, listed, upload
from tests.documents.samples import PDF_BYTES, PNG_BYTES
from tests.referral_helpers import advance, create, share_with
from tests.retention.test_retention import age


def closed_referral_with_a_document(app, client, world):
    referral = create(client, world.officer, world.yjs)
    made = upload(client, world.officer, referral["id"], title="Consent of Jayden Miller").json
    advance(client, world, referral["id"], "closed")
    return referral, made


def document_row(app, document_id: str) -> Document:
    with app.app_context():
        document = db.session.get(Document, uuid.UUID(document_id))
        db.session.expunge(document)
        return document


@pytest.mark.parametrize("storage", ["database", "directory"])
def test_retention_removes_the_content_title_and_filename(
    app, client, world, tmp_path: Path, storage
):
    saved = app.config["DOCUMENT_STORAGE"], app.config["DOCUMENT_DIRECTORY"]
    app.config["DOCUMENT_STORAGE"], app.config["DOCUMENT_DIRECTORY"] = storage, str(tmp_path)
    try:
        referral, made = closed_referral_with_a_document(app, client, world)
        kept_referral, kept = closed_referral_with_a_document(app, client, world)
        age(app, referral["id"], 7 * 365)
        age(app, kept_referral["id"], 30)
        key = document_row(app, made["id"]).storage_key
        with app.app_context():
            report = retention.apply(dry_run=False)
            db.session.commit()
        assert report.documents == 1
        gone = document_row(app, made["id"])
        assert gone.content_removed is True
        assert gone.storage_key is None
        assert "Jayden" not in gone.title
        assert gone.filename == "removed.pdf"
        # What reports count stays.
        assert (gone.kind.value, gone.size, gone.content_type) == (
            "consent_form",
            len(PDF_BYTES),
            "application/pdf",
        )
        with app.app_context():
            if storage == "database":
                assert db.session.get(DocumentBlob, key) is None
        if storage == "directory":
            assert not (tmp_path / key).exists()
        refused = download(client, world.officer, referral["id"], made["id"])
        assert refused.status_code == 404
        assert "retention" in refused.json["message"]
        assert listed(client, world.officer, referral["id"]).json[0]["content_removed"] is True
        # The document of the referral that ended recently is untouched.
        assert download(client, world.officer, kept_referral["id"], kept["id"]).data == PDF_BYTES
        with app.app_context():
            event = db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "retention.anonymised")
            ).all()[-1]
            assert "document.content" in event.fields
    finally:
        app.config["DOCUMENT_STORAGE"], app.config["DOCUMENT_DIRECTORY"] = saved


def export(client, actor, child_id):
    return client.get(f"/api/v1/children/{child_id}/export", headers=actor.headers)


def test_the_export_carries_the_documents_the_agency_may_see_with_their_content(client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "accepted")
    share_with(client, world, referral["id"], world.charity)
    shared = upload(client, world.officer, referral["id"]).json
    ours = upload(
        client, world.police_manager, referral["id"], content=PNG_BYTES, visibility="internal"
    ).json
    theirs = upload(client, world.yjs_manager, referral["id"], visibility="internal").json
    body = export(client, world.police_manager, referral["child"]["id"]).json
    (item,) = body["referrals"]
    by_id = {entry["document"]["id"]: entry for entry in item["documents"]}
    assert set(by_id) == {shared["id"], ours["id"]}
    assert theirs["id"] not in str(body)
    assert base64.b64decode(by_id[shared["id"]]["content_base64"]) == PDF_BYTES
    assert base64.b64decode(by_id[ours["id"]]["content_base64"]) == PNG_BYTES
    assert by_id[shared["id"]]["document"]["title"] == "Signed consent form"
    # The charity, through its share, gets the shared document only.
    body = export(client, world.charity_manager, referral["child"]["id"]).json
    (item,) = body["referrals"]
    assert [entry["document"]["id"] for entry in item["documents"]] == [shared["id"]]


def test_the_export_lists_a_document_past_the_inline_limit_without_its_content(
    client, world, monkeypatch
):
    from referral_app.services import documents

    monkeypatch.setattr(documents, "EXPORT_INLINE_BYTES", len(PDF_BYTES))
    referral = create(client, world.officer, world.yjs)
    first = upload(client, world.officer, referral["id"]).json
    second = upload(client, world.officer, referral["id"], title="Second").json
    advance(client, world, referral["id"], "submitted")
    body = export(client, world.police_manager, referral["child"]["id"]).json
    (item,) = body["referrals"]
    by_id = {entry["document"]["id"]: entry for entry in item["documents"]}
    assert base64.b64decode(by_id[first["id"]]["content_base64"]) == PDF_BYTES
    assert by_id[second["id"]]["content_base64"] is None
    assert "download it" in by_id[second["id"]]["content_note"]


def test_the_printable_export_lists_the_documents_with_download_links(app, client, world):
    """The page a manager prints for a subject access request lists each
    document the agency may see, with a link that downloads it."""
    from tests.children.test_pages import page_tokens, sign_in

    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "accepted")
    made = upload(client, world.officer, referral["id"], title="Signed consent form")
    assert made.status_code == 201, made.json
    browser = sign_in(app, world.police_manager.user)
    path = f"/children/{referral['child']['id']}"
    page = browser.post(f"{path}/export", data=page_tokens(browser, path))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Signed consent form" in html
    link = f"/referrals/{referral['id']}/documents/{made.json['id']}/download"
    assert link in html
    download = browser.get(link)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
