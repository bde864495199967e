"""The demo's documents, told through services.documents after the
referrals (services.demo_referrals): the police referrer attaches the
signed consent form, a one-page PDF made here, to the first referral the
police made to the youth justice service and are working."""

from __future__ import annotations

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import NoteVisibility, Organisation, User
from referral_app.models.document import DocumentKind
from referral_app.services import documents
from referral_app.services.demo_meetings import _open_referral

REFERRER = "referrer@essex-police.demo"

CONSENT_LINES = (
    "Consent to share information",
    "I agree that Essex Police may share the information in this referral",
    "with Essex Youth Justice Service, to offer my child support.",
    "Signed: (parent or carer)          Date: (demo)",
)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def one_page_pdf(lines: tuple[str, ...]) -> bytes:
    """A valid one-page A4 PDF showing `lines` in Helvetica (PDF 1.4, with
    its cross-reference table): small, and made without a library."""
    text = "BT /F1 14 Tf 72 770 Td 18 TL " + " ".join(f"({_escaped(line)}) Tj T*" for line in lines)
    stream = (text + " ET").encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return pdf


def load_documents() -> int:
    """Attach the demo's consent form; returns how many documents it made
    (none when the demo referral it needs is not there)."""
    referrer = db.session.scalars(select(User).where(User.email == REFERRER)).one()
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    referral = _open_referral(agencies["essex-police"], agencies["essex-yjs"], 0)
    if referral is None:
        return 0
    documents.upload(
        referrer,
        referral,
        data=one_page_pdf(CONSENT_LINES),
        filename="consent-form.pdf",
        title="Signed consent form",
        kind=DocumentKind.CONSENT_FORM,
        visibility=NoteVisibility.SHARED,
    )
    return 1
