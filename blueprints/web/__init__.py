"""Server-rendered browser pages. Forms are validated by the same marshmallow
schemas as the API and call the same services."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

# The CSRF token travels in the form; it is checked by Flask-WTF, not the schemas.
NON_DATA_FIELDS = frozenset({"csrf_token"})


def load_form(
    schema: Schema, form: MultiDict[str, str]
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Validate a submitted form with a schema: (data, {}) or (None, field errors)."""
    submitted = {key: value for key, value in form.items() if key not in NON_DATA_FIELDS}
    try:
        return schema.load(submitted), {}
    except ValidationError as error:
        messages = error.normalized_messages()
        return None, {field: _as_list(message) for field, message in messages.items()}


def _as_list(message: Any) -> list[str]:
    if isinstance(message, list):
        return [str(item) for item in message]
    return [str(message)]


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
