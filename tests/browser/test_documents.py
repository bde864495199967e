"""Issue 16's documents in a real Chromium: the referrer opens the
referral's documents from the referral page, is refused an upload without
a file (the error summary) and a program renamed .pdf, then attaches the
signed consent form and sees it listed; the receiving manager sees it and
downloads it, as an attachment. Every page passes the accessibility checks
at both widths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app.models import OrganisationKind, Role
from referral_app.services.demo_documents import CONSENT_LINES, one_page_pdf
from tests.browser import assert_good_at_both_widths
from tests.browser.test_children_reports import refer
from tests.documents.samples import EXE_BYTES
from tests.factories import Factory, UserInfo

CONSENT_PDF = one_page_pdf(CONSENT_LINES)


@pytest.fixture
def referral_with_people(live_app: Flask, factory: Factory) -> dict[str, Any]:
    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    officer = factory.user(Role.REFERRER, organisation=police)
    manager = factory.user(Role.MANAGER, organisation=yjs)
    referral = refer(live_app, officer, yjs, first_name="Amara", last_name="Bello")
    return {"officer": officer, "manager": manager, "referral": referral}


def choose_file(page: Page, name: str, content: bytes) -> None:
    page.set_input_files(
        "#file", files=[{"name": name, "mimeType": "application/pdf", "buffer": content}]
    )


def test_the_referrer_attaches_a_consent_form_and_the_manager_downloads_it(
    person: Callable[[UserInfo], Page], referral_with_people: dict[str, Any]
) -> None:
    referral = referral_with_people["referral"]
    officer = person(referral_with_people["officer"])
    officer.goto(f"/referrals/{referral['id']}")
    officer.get_by_role("link", name="Documents", exact=True).click()
    expect(officer.get_by_role("heading", name="Documents")).to_be_visible()
    expect(officer.locator("main")).to_contain_text("No documents on this referral yet")
    assert_good_at_both_widths(officer)
    officer.get_by_role("button", name="Upload a document").click()
    expect(officer.get_by_role("heading", name="Upload a document")).to_be_visible()
    assert_good_at_both_widths(officer)

    # Nothing chosen: the error summary asks for the file, the title and the kind.
    officer.get_by_role("button", name="Upload document").click()
    summary = officer.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select a file")
    expect(summary).to_contain_text("Enter a title for the document")
    assert_good_at_both_widths(officer)

    # A program renamed .pdf: refused by its content.
    choose_file(officer, "consent.pdf", EXE_BYTES)
    officer.get_by_label("Title").fill("Signed consent form")
    officer.get_by_label("Consent form").check()
    officer.get_by_role("button", name="Upload document").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text(
        "The file is not a PDF, Word, OpenDocument, PNG, JPEG or plain text document"
    )

    # The real consent form: uploaded and listed.
    choose_file(officer, "consent.pdf", CONSENT_PDF)
    officer.get_by_label("Title").fill("Signed consent form")
    officer.get_by_label("Consent form").check()
    officer.get_by_role("button", name="Upload document").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text(
        "Document uploaded: Signed consent form"
    )
    table = officer.locator("#documents")
    expect(table).to_contain_text("Signed consent form")
    expect(table).to_contain_text("Consent form")
    expect(table).to_contain_text("PDF")
    assert_good_at_both_widths(officer)

    manager = person(referral_with_people["manager"])
    manager.goto(f"/referrals/{referral['id']}/documents")
    expect(manager.locator("#documents")).to_contain_text("Signed consent form")
    with manager.expect_download() as download_info:
        manager.locator("#documents a").first.click()
    download = download_info.value
    assert download.suggested_filename == "consent.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == CONSENT_PDF
