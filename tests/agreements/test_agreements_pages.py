"""The agreement pages: the list, one agreement, the forms that record and
change one (with the error summary), the report page; a non-party's 404."""

from __future__ import annotations

from datetime import date, timedelta

from tests.agreements.conftest import make_agreement, share
from tests.blueprints.web.test_referral_detail_pages import error_messages, send, sign_in
from tests.referral_helpers import advance, create


def _dates(name: str, day: date) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def test_a_manager_records_an_agreement_through_the_form(app, world):
    manager = sign_in(app, world.yjs_manager.user)
    page = manager.get("/agreements/new")
    assert page.status_code == 200
    today = date.today()
    fields = {
        "title": "Mentoring referrals",
        "reference": "ISA-7",
        "purposes": "Mentoring places for children at risk.",
        "party_ids": [str(world.yjs.id), str(world.charity.id)],
        "lawful_bases": ["public_task"],
        "data_categories": ["identity_and_contact", "education"],
        **_dates("starts_on", today),
        **_dates("review_on", today + timedelta(days=200)),
    }
    done = send(manager, "/agreements/new", "/agreements/new", **fields)
    assert done.status_code == 302, error_messages(done.get_data(as_text=True))
    shown = manager.get(done.location).get_data(as_text=True)
    assert "Mentoring referrals" in shown
    assert world.charity.name in shown
    listed = manager.get("/agreements").get_data(as_text=True)
    assert "ISA-7" in listed
    charity = sign_in(app, world.charity_worker.user)
    assert charity.get(done.location).status_code == 200
    police = sign_in(app, world.police_manager.user)
    assert police.get(done.location).status_code == 404


def test_an_empty_form_is_refused_with_every_question_in_the_summary(app, world):
    manager = sign_in(app, world.yjs_manager.user)
    refused = send(manager, "/agreements/new", "/agreements/new", party_ids=[])
    assert refused.status_code == 422
    messages = error_messages(refused.get_data(as_text=True))
    assert "Enter what the agreement is for" in messages
    assert "Enter the date the agreement starts" in messages
    assert "Enter the date the agreement is to be reviewed" in messages
    assert len(messages) == 5  # title, reference, purposes and the two dates


def test_a_review_before_the_start_is_refused_in_our_words(app, world):
    manager = sign_in(app, world.yjs_manager.user)
    today = date.today()
    refused = send(
        manager,
        "/agreements/new",
        "/agreements/new",
        title="T",
        reference="R",
        purposes="P",
        party_ids=[str(world.yjs.id), str(world.charity.id)],
        lawful_bases=["public_task"],
        data_categories=["health"],
        **_dates("starts_on", today),
        **_dates("review_on", today - timedelta(days=3)),
    )
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == [
        "Review date must be on or after the start date"
    ]


def test_a_manager_of_a_party_ends_the_agreement_from_the_edit_form(client, app, world):
    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    manager = sign_in(app, world.charity_manager.user)
    path = f"/agreements/{made['id']}/edit"
    form = manager.get(path).get_data(as_text=True)
    assert "ISA-2026-014" in form
    today = date.today()
    done = send(
        manager,
        path,
        path,
        title=made["title"],
        reference=made["reference"],
        purposes=made["purposes"],
        party_ids=[str(world.yjs.id), str(world.charity.id)],
        lawful_bases=["public_task"],
        data_categories=["identity_and_contact"],
        **_dates("starts_on", date.fromisoformat(made["starts_on"])),
        **_dates("review_on", date.fromisoformat(made["review_on"])),
        **_dates("ends_on", today - timedelta(days=1)),
    )
    assert done.status_code == 302, error_messages(done.get_data(as_text=True))
    got = client.get(f"/api/v1/agreements/{made['id']}", headers=world.yjs_manager.headers).json
    assert got["in_force"] is False


def test_the_report_page_shows_counts_and_reasons_to_an_auditor(client, app, world, auditors):
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "accepted")
    reason = "Emergency tonight: the charity's outreach team is with him"
    share(client, world.yjs_manager, made["id"], world.charity, no_agreement_reason=reason)
    make_agreement(client, world.yjs_manager, world.yjs, world.police)
    auditor = sign_in(app, auditors["yjs"].user)
    page = auditor.get("/reports/agreements")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert reason.replace("'", "&#39;") in text
    assert "Southend exploitation prevention" in text
    assert "Jayden" not in text
    notices = auditor.get("/notifications").get_data(as_text=True)
    assert "Shared without an agreement" in notices
    assert 'href="/agreements"' in auditor.get("/").get_data(as_text=True)


def test_the_signed_agreement_is_uploaded_and_downloaded_from_its_page(client, app, world):
    from io import BytesIO

    from tests.conftest import csrf_token
    from tests.documents.samples import PDF_BYTES, PNG_BYTES

    made = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    path = f"/agreements/{made['id']}"
    manager = sign_in(app, world.yjs_manager.user)
    assert "Upload the signed agreement" in manager.get(path).get_data(as_text=True)
    picture = manager.post(
        f"{path}/document",
        data={"csrf_token": csrf_token(manager), "file": (BytesIO(PNG_BYTES), "signed.pdf")},
    )
    assert picture.status_code == 422
    assert error_messages(picture.get_data(as_text=True)) == [
        "The agreement must be a PDF, Word (DOCX) or OpenDocument (ODT) file"
    ]
    done = manager.post(
        f"{path}/document",
        data={"csrf_token": csrf_token(manager), "file": (BytesIO(PDF_BYTES), "signed.pdf")},
    )
    assert done.status_code == 302
    charity = sign_in(app, world.charity_worker.user)
    assert "Download signed.pdf" in charity.get(path).get_data(as_text=True)
    assert "Upload the signed agreement" not in charity.get(path).get_data(as_text=True)
    got = charity.get(f"{path}/document")
    assert got.status_code == 200
    assert got.data == PDF_BYTES
    assert got.headers["Content-Disposition"].startswith("attachment")
    police = sign_in(app, world.police_manager.user)
    assert police.get(f"{path}/document").status_code == 404


def test_the_report_downloads_as_csv_with_formulas_neutralised(client, app, world, auditors):
    import csv
    import io

    from tests.conftest import csrf_token

    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "accepted")
    reason = "=HYPERLINK(x) emergency: outreach team with him tonight"
    share(client, world.yjs_manager, made["id"], world.charity, no_agreement_reason=reason)
    make_agreement(client, world.yjs_manager, world.yjs, world.police)
    auditor = sign_in(app, auditors["charity"].user)
    got = auditor.post("/reports/agreements.csv", data={"csrf_token": csrf_token(auditor)})
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    (without,) = [row for row in rows if row["row"] == "without_agreement"]
    assert without["reason"] == "'" + reason
    assert without["recipient_agency"] == world.charity.name
    assert "Jayden" not in got.get_data(as_text=True)
    forged = auditor.post("/reports/agreements.csv", data={})
    assert forged.status_code in (400, 403)
