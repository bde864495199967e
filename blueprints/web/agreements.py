"""Information sharing agreement pages: the agreements the viewer's agency
is a party to, one agreement, the forms that record and change one
(managers of a party agency), and the report of shares per agreement
(managers and auditors). The rules are services/agreements.py's."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import ValidationError as CsrfValidationError

from blueprints.downloads import csv_attachment
from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.date_input import PARTS, parts_of, read_date
from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.document_checks import describe_size, max_bytes, upload_body_limit
from referral_app.document_storage import as_download
from referral_app.extensions import csrf
from referral_app.models import LawfulBasis
from referral_app.models.agreement import Agreement, DataCategory
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import (
    agreement_documents,
    agreement_reports,
    agreements,
    organisations,
)
from referral_app.services.errors import Invalid, ServiceError
from schemas.agreement import AgreementCreateSchema

blp = Blueprint("web_agreements", __name__)

LISTS = ("party_ids", "lawful_bases", "data_categories")
DATES = ("starts_on", "review_on", "ends_on")
FIELDS = (
    Field("title", "Title", "Enter the agreement's title"),
    Field("reference", "Reference", "Enter the agreement's reference"),
    Field(
        "party_ids",
        "Parties",
        "Select the agencies party to the agreement",
        own={
            "Choose at least two agencies: yours and another.": (
                "Select at least two agencies: yours and another"
            ),
            "Your agency must be a party to the agreement.": (
                "Your agency must be a party to the agreement"
            ),
            "Choose agencies that are still active.": "Select agencies that are still active",
        },
    ),
    Field("purposes", "Purposes", "Enter what the agreement is for"),
    Field(
        "lawful_bases",
        "Lawful bases",
        "Select at least one lawful basis",
        own={"Choose at least one lawful basis.": "Select at least one lawful basis"},
    ),
    Field(
        "data_categories",
        "Categories of data",
        "Select at least one category of data",
        own={"Choose at least one category of data.": "Select at least one category of data"},
    ),
    Field(
        "starts_on",
        "Start date",
        "Enter the date the agreement starts",
        invalid="Start date must be a real date",
        anchor="starts_on-day",
    ),
    Field(
        "review_on",
        "Review date",
        "Enter the date the agreement is to be reviewed",
        invalid="Review date must be a real date",
        anchor="review_on-day",
        own={
            "The review date must be on or after the start date.": (
                "Review date must be on or after the start date"
            )
        },
    ),
    Field(
        "ends_on",
        "End date",
        "Enter the date the agreement ends",
        invalid="End date must be a real date",
        anchor="ends_on-day",
        own={
            "The end date must be on or after the start date.": (
                "End date must be on or after the start date"
            )
        },
    ),
    Field("document_reference", "Where the signed document is kept", "Enter where it is kept"),
)
DOCUMENT_FIELD = Field("file", "The signed agreement", "Select the signed agreement", anchor="file")
CATEGORY_WORDS = {
    DataCategory.IDENTITY_AND_CONTACT: "Identity and contact details",
    DataCategory.FAMILY_AND_HOUSEHOLD: "Family and household",
    DataCategory.EDUCATION: "Education",
    DataCategory.HEALTH: "Health",
    DataCategory.OFFENDING_AND_POLICE_INTELLIGENCE: "Offending and police intelligence",
    DataCategory.SOCIAL_CARE: "Social care",
    DataCategory.SPECIAL_CATEGORY: "Special category data",
    DataCategory.CRIMINAL_OFFENCE: "Criminal offence data",
}


def _input() -> tuple[dict[str, Any], FormErrors]:
    """The form as the API's body: the dates from their three boxes."""
    skip = tuple(f"{name}-{part}" for name in DATES for part in PARTS)
    data = form_fields(request.form, lists=LISTS, skip=skip)
    for name in LISTS:
        data.setdefault(name, [])
    errors: FormErrors = {}
    for question in FIELDS:
        if question.name not in DATES:
            continue
        day, problem = read_date(request.form, question.name, question)
        if problem:
            errors[question.name] = [problem]
        elif day is not None:
            data[question.name] = day.isoformat()
        elif question.name != "ends_on":
            errors[question.name] = [question.missing]
    data.setdefault("ends_on", None)
    return data, errors


def _form_values(agreement: Agreement | None) -> dict[str, Any]:
    """What the form shows: what was typed, or the agreement as it stands."""
    if request.method == "POST":
        values: dict[str, Any] = {key: request.form.get(key, "") for key in request.form}
        for name in LISTS:
            values[name] = request.form.getlist(name)
        return values
    if agreement is None:
        return {"party_ids": [str(current_user.organisation_id)]}
    values = {
        "title": agreement.title,
        "reference": agreement.reference,
        "purposes": agreement.purposes,
        "document_reference": agreement.document_reference or "",
        "party_ids": [str(party) for party in agreement.party_ids],
        "lawful_bases": list(agreement.lawful_bases),
        "data_categories": list(agreement.data_categories),
    }
    for name in DATES:
        for part, typed in parts_of(getattr(agreement, name)).items():
            values[f"{name}-{part}"] = typed
    return values


def _render_form(
    agreement: Agreement | None, errors: PageErrors | None = None, status: int = 200
) -> tuple[str, int]:
    agencies = [
        organisation
        for organisation in organisations.list_organisations(page=1, page_size=500)[0]
        if organisation.active
    ]
    return render_template(
        "agreements/form.html",
        agreement=agreement,
        form=_form_values(agreement),
        errors=errors or page_errors({}, FIELDS),
        agencies=agencies,
        bases=[(str(basis), str(basis).replace("_", " ").capitalize()) for basis in LawfulBasis],
        categories=[(str(category), words) for category, words in CATEGORY_WORDS.items()],
    ), status


@blp.get("/agreements")
@requires(Permission.AGREEMENTS_READ)
def agreement_list() -> str:
    return render_template(
        "agreements/list.html",
        agreements=agreements.list_agreements(current_user),
        may_manage=has_permission(current_user, Permission.AGREEMENTS_MANAGE),
        may_report=has_permission(current_user, Permission.AGREEMENTS_REPORT),
    )


@blp.get("/agreements/new")
@requires(Permission.AGREEMENTS_MANAGE)
def agreement_new() -> tuple[str, int]:
    return _render_form(None)


@blp.post("/agreements/new")
@requires(Permission.AGREEMENTS_MANAGE)
@sent_once
def agreement_create() -> Response | tuple[str, int]:
    data, date_errors = _input()
    loaded, errors = validate(AgreementCreateSchema(), data)
    if loaded is None or date_errors:
        return _render_form(None, page_errors({**errors, **date_errors}, FIELDS), 422)
    try:
        agreement = agreements.create(current_user, **loaded)
    except Invalid as refusal:
        return _render_form(None, page_errors(refusal.errors or {}, FIELDS), 422)
    flash(f"Agreement recorded: {agreement.title}")
    return redirect(f"/agreements/{agreement.id}")


def _render_detail(
    agreement_id: uuid.UUID, errors: PageErrors | None = None, status: int = 200
) -> tuple[str, int]:
    agreement = agreements.read_agreement(current_user, agreement_id)
    return render_template(
        "agreements/detail.html",
        agreement=agreement,
        category_words=CATEGORY_WORDS,
        may_manage=agreements.may_manage(current_user, agreement),
        errors=errors or page_errors({}, (DOCUMENT_FIELD,)),
    ), status


@blp.get("/agreements/<uuid:agreement_id>")
@requires(Permission.AGREEMENTS_READ)
def agreement_detail(agreement_id: uuid.UUID) -> tuple[str, int]:
    return _render_detail(agreement_id)


@blp.get("/agreements/<uuid:agreement_id>/document")
@requires(Permission.AGREEMENTS_READ)
def agreement_document(agreement_id: uuid.UUID) -> Response:
    """The signed agreement, as a download (recorded as a disclosure)."""
    agreement = agreements.get_agreement(current_user, agreement_id)
    content, content_type, filename = agreement_documents.download_document(current_user, agreement)
    return as_download(content, content_type, filename)


@blp.post("/agreements/<uuid:agreement_id>/document")
@requires(Permission.AGREEMENTS_MANAGE)
def agreement_document_upload(agreement_id: uuid.UUID) -> Response | tuple[str, int]:
    """As a referral's document upload: refuse a body over the limit before
    reading it (413), then check the CSRF token, then the file."""
    too_large = page_errors(
        {"file": [f"The file must be smaller than {describe_size(max_bytes())}"]}, (DOCUMENT_FIELD,)
    )
    limit = upload_body_limit()
    if request.content_length is not None and request.content_length > limit:
        return _render_detail(agreement_id, too_large, 413)
    request.max_content_length = limit
    try:
        token = request.form.get("csrf_token")
    except RequestEntityTooLarge:
        return _render_detail(agreement_id, too_large, 413)
    try:
        validate_csrf(token)
    except CsrfValidationError as refusal:
        raise CSRFError(refusal.args[0]) from None
    agreement = agreements.get_agreement(current_user, agreement_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_detail(
            agreement_id, page_errors({"file": [DOCUMENT_FIELD.missing]}, (DOCUMENT_FIELD,)), 422
        )
    try:
        agreement_documents.attach_document(
            current_user,
            agreement,
            data=upload.stream.read(max_bytes() + 1),
            filename=upload.filename,
        )
    except ServiceError as refusal:
        if refusal.status not in (413, 422, 503):
            raise
        shown = page_errors(refusal.errors or {"file": [refusal.message]}, (DOCUMENT_FIELD,))
        return _render_detail(agreement_id, shown, refusal.status)
    flash("Signed agreement uploaded")
    return redirect(f"/agreements/{agreement_id}")


csrf.exempt(agreement_document_upload)


@blp.get("/agreements/<uuid:agreement_id>/edit")
@requires(Permission.AGREEMENTS_MANAGE)
def agreement_edit(agreement_id: uuid.UUID) -> tuple[str, int]:
    return _render_form(agreements.get_agreement(current_user, agreement_id))


@blp.post("/agreements/<uuid:agreement_id>/edit")
@requires(Permission.AGREEMENTS_MANAGE)
@sent_once
def agreement_update(agreement_id: uuid.UUID) -> Response | tuple[str, int]:
    agreement = agreements.get_agreement(current_user, agreement_id)
    data, date_errors = _input()
    loaded, errors = validate(AgreementCreateSchema(), data)
    if loaded is None or date_errors:
        return _render_form(agreement, page_errors({**errors, **date_errors}, FIELDS), 422)
    try:
        agreements.update(current_user, agreement, **loaded)
    except Invalid as refusal:
        return _render_form(agreement, page_errors(refusal.errors or {}, FIELDS), 422)
    flash(f"Agreement changed: {agreement.title}")
    return redirect(f"/agreements/{agreement.id}")


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@blp.get("/reports/agreements")
@requires(Permission.AGREEMENTS_REPORT)
def agreement_report() -> str:
    found = agreement_reports.report(current_user, start=_day("start"), end=_day("end"))
    return render_template("agreements/report.html", report=found)


@blp.post("/reports/agreements.csv")
@requires(Permission.AGREEMENTS_REPORT)
def agreement_report_csv() -> Response:
    """The report as CSV: a POST with the CSRF token (an export is an
    audited disclosure; another site cannot make a browser ask), counted
    against the CSV export limit (throttling.CSV_EXPORT_ENDPOINTS)."""
    start = _form_day("start")
    end = _form_day("end")
    return csv_attachment(agreement_reports.report_csv(current_user, start=start, end=end))


def _form_day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None
