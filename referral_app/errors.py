"""Error answers: JSON `{code, status, message, errors}` under /api, friendly
HTML pages elsewhere. Never a stack trace."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from referral_app.services import audit
from referral_app.services.errors import ServiceError

log = logging.getLogger(__name__)

FRIENDLY_MESSAGES = {
    400: "The request could not be understood.",
    401: "You need to sign in.",
    403: "You do not have permission to do that.",
    404: "The page or record was not found.",
    405: "That method is not allowed here.",
    409: "That conflicts with the record's current state.",
    412: "The record has changed since you read it.",
    413: "The request is too large.",
    415: "Send JSON with Content-Type: application/json.",
    422: "Some fields are not valid.",
    428: "This request must be conditional (send If-Match).",
    429: "Too many requests. Try again later.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is not ready.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def _code_for(status: int, name: str) -> str:
    return {
        401: "unauthenticated",
        422: "validation_failed",
        500: "internal_error",
    }.get(status, name.lower().replace(" ", "_").replace("'", ""))


def error_response(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The one place an error answer is built."""
    name = HTTP_STATUS_CODES.get(status, "Error")
    message = message or FRIENDLY_MESSAGES.get(status) or name
    if wants_json():
        payload: dict[str, Any] = {
            "code": code or _code_for(status, name),
            "status": status,
            "message": message,
        }
        if errors:
            payload["errors"] = errors
        response = jsonify(payload)
    else:
        response = Response(html_error_page(status, message), mimetype="text/html")
    response.status_code = status
    for header, value in (headers or {}).items():
        response.headers[header] = value
    return response


# Statuses whose message on a page is a service's own refusal ("This
# referral has already been accepted"), worth showing; for the rest the page
# says what the design system says, and nothing a framework wrote.
_PAGE_DETAIL_STATUSES = frozenset({403, 409, 412, 422})


def html_error_page(status: int, message: str) -> str:
    """The error page for a browser. If it cannot be drawn (the failure that
    caused it may be the database the page's navigation reads), a plain page
    of our own words instead: never the framework's."""
    detail = (
        message
        if status in _PAGE_DETAIL_STATUSES and message != FRIENDLY_MESSAGES.get(status)
        else None
    )
    try:
        return render_template(
            "errors/error.html",
            status=status,
            detail=detail,
            retry_at=_retry_at() if status == 429 else None,
        )
    except Exception:
        log.exception("the error page could not be drawn")
        return _PLAIN_ERROR_PAGE


def _retry_at() -> datetime | None:
    """When the limit that refused this request lets the client in again,
    so the page can say so (the limiter knows; None when it does not)."""
    limiter = current_app.extensions.get("referral_limiter")
    current = getattr(limiter, "current_limit", None) if limiter is not None else None
    reset_at = getattr(current, "reset_at", None)
    return datetime.fromtimestamp(reset_at, UTC) if reset_at else None


_PLAIN_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Sorry, there is a problem with the service</title>
<link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css"></head>
<body class="govuk-template__body"><div class="govuk-width-container">
<main class="govuk-main-wrapper">
<h1 class="govuk-heading-l">Sorry, there is a problem with the service</h1>
<p class="govuk-body">Try again later.</p>
<p class="govuk-body"><a class="govuk-link" href="/">Go to the home page</a></p>
</main></div></body></html>"""


def _validation_errors(data: dict[str, Any]) -> Any:
    """webargs reports errors by location ({"json": {...}}); with one
    location, the field errors are given directly."""
    messages = data.get("errors") or data.get("messages")
    if isinstance(messages, dict) and len(messages) == 1:
        (only,) = messages.values()
        return only
    return messages


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data: dict[str, Any] = getattr(error, "data", None) or {}
    message: str | None = None  # by default the friendly message for the status
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error", exc_info=original)
        # Never the exception's own text.
    elif status != 429:  # the limiter's text names its limit: say it plainly instead
        message = data.get("message") or (
            error.description if error.description and not _is_default(error) else None
        )
    errors = _validation_errors(data) if status in (400, 422) else data.get("errors")
    if isinstance(errors, list):
        # webargs' "Invalid JSON body." and the like: a message, not field errors.
        message, errors = " ".join(map(str, errors)), None
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(
        status,
        message,
        code=data.get("code"),
        errors=errors,
        headers=headers,
    )


def _is_default(error: HTTPException) -> bool:
    # werkzeug's default descriptions talk about "the server" and "the
    # browser"; our own messages are friendlier.
    return error.description == type(error).description


def handle_service_error(error: ServiceError) -> Response:
    if error.status in (403, 404):
        # Refusals are audited, including the 404s that hide other agencies' records.
        audit.record_denial(
            "access.denied" if error.status == 403 else "access.not_found",
            current_user._get_current_object() if current_user.is_authenticated else None,
            reason=f"{request.method} {request.path}",
        )
    return error_response(error.status, error.message, code=error.code, errors=error.errors)


def handle_validation_error(error: ValidationError) -> Response:
    return error_response(422, errors=error.normalized_messages())


def handle_stale_data(_error: StaleDataError) -> Response:
    # Two writers read the same version; the other one committed first.
    return error_response(412, "The record was changed by someone else; read it again.")


def register_error_handlers(app: Flask) -> None:
    # Registered after flask-smorest's own handler, so ours wins.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
