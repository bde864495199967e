"""The audit trail page for auditors and system admins, with verification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from blueprints.web import form_fields, validate
from referral_app.policy import Permission, requires
from referral_app.services import audit
from schemas.audit import AuditEventQuerySchema

blp = Blueprint("web_audit", __name__)
PAGE_SIZE = 50


@blp.get("/audit")
@requires(Permission.AUDIT_READ)
def audit_trail() -> Any:
    query = form_fields(request.args, skip=("page",))
    data, errors = validate(AuditEventQuerySchema(), query)
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    if data is None:
        return render_template(
            "audit.html", errors=errors, form=query, events=[], total=0, verification=None
        ), 422
    filters = audit.EventFilters.from_input(data)
    events, total = audit.list_events(current_user, filters, page=page_number, page_size=PAGE_SIZE)
    return render_template(
        "audit.html",
        errors={},
        form=query,
        events=events,
        total=total,
        page_number=page_number,
        pages=max(1, -(-total // PAGE_SIZE)),
        verification=None,
    )


@blp.post("/audit/verify")
@requires(Permission.AUDIT_READ)
def audit_verify() -> Any:
    result = audit.verify_for(current_user)
    return render_template(
        "audit.html", errors={}, form={}, events=[], total=None, verification=result
    )
