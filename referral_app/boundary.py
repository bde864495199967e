"""The request boundary: a request id for every request, and one commit per
request when it succeeded (a rollback otherwise). Views and services only
flush."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

from referral_app.extensions import db
from referral_app.services import audit

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def begin_request() -> None:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = supplied if _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.audit_binding = audit.bind_request(g.request_id, request.remote_addr)


def keep_changes_on_error() -> None:
    """Ask the boundary to commit even though the answer is an error (a failed
    sign-in still counts against the account and is audited)."""
    g.keep_changes_on_error = True


def commit_or_roll_back(response: Response) -> Response:
    if response.status_code < 400 or g.get("keep_changes_on_error"):
        db.session.commit()
    else:
        db.session.rollback()
        denials = audit.take_denials()
        if denials:
            # The refused request changed nothing; its refusal is still recorded.
            audit.add_pending(db.session, denials)
            db.session.commit()
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def end_request(_error: BaseException | None) -> None:
    binding = g.pop("audit_binding", None)
    if binding is not None:
        audit.unbind_request(binding)


def init_app(app: Flask) -> None:
    # Registered before the guard, so even refused requests have an id.
    app.before_request(begin_request)
    app.after_request(commit_or_roll_back)
    app.teardown_request(end_request)
