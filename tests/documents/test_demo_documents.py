"""The demo's consent form (services.demo_documents): a real one-page PDF on
the first referral the police are working with the youth justice service,
downloadable by its holders and by nobody else."""

from __future__ import annotations

import re

import filetype
import pytest
from flask import Flask
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Referral
from referral_app.models.document import Document, DocumentKind
from referral_app.services import documents, scoping
from referral_app.services.demo_documents import CONSENT_LINES, one_page_pdf
from referral_app.services.errors import NotFound
from tests.test_demo import person, runner, seeded  # noqa: F401 (fixtures)


def test_the_pdf_is_a_pdf_with_a_consistent_cross_reference_table() -> None:
    pdf = one_page_pdf(CONSENT_LINES)
    assert filetype.guess(pdf).mime == "application/pdf"
    start = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[start : start + 4] == b"xref"
    offsets = [int(found) for found in re.findall(rb"(\d{10}) 00000 n", pdf)]
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Consent to share information) Tj" in pdf


def test_the_demo_attaches_a_consent_form(app: Flask, seeded) -> None:  # noqa: F811
    with app.app_context():
        (document,) = db.session.scalars(select(Document)).all()
        assert document.kind is DocumentKind.CONSENT_FORM
        assert document.content_type == "application/pdf"
        referral = db.session.get(Referral, document.referral_id)
        holder = person("manager@essex-yjs.demo")
        _, content = documents.download(holder, referral, document.id)
        assert content == one_page_pdf(CONSENT_LINES)
        managers = ("manager@safer-futures.demo", "manager@essex-cc.demo")
        outsiders = [
            person(email)
            for email in managers
            if not scoping.organisation_holds(person(email).organisation_id, referral.id)
        ]
        assert outsiders
        with pytest.raises(NotFound):
            scoping.get_held_referral(outsiders[0], referral.id)
        db.session.rollback()
