"""Server-rendered browser pages. Forms are validated by the same marshmallow
schemas as the API and call the same services."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

# The CSRF token (checked by Flask-WTF) and the one-time form token (sent_once)
# travel in the form; they are not data for the schemas.
NON_DATA_FIELDS = frozenset({"csrf_token", "form_token"})


FormErrors = dict[str, list[str]]


def form_fields(
    form: MultiDict[str, str], *, lists: tuple[str, ...] = (), skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A submitted form as the dict a schema loads: empty inputs left out (an
    optional field left blank is absent, not ""), `lists` from repeated inputs
    such as checkboxes."""
    data: dict[str, Any] = {}
    for key in form:
        if key in NON_DATA_FIELDS or key in skip:
            continue
        if key in lists:
            data[key] = [value for value in form.getlist(key) if value]
        elif form.get(key, "").strip():
            data[key] = form[key]
    return data


def validate(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, FormErrors]:
    """(loaded data, {}) or (None, errors keyed by field, nested ones as "child.first_name")."""
    try:
        return schema.load(data), {}
    except ValidationError as error:
        return None, flatten_errors(error.normalized_messages())


def load_form(
    schema: Schema, form: MultiDict[str, str]
) -> tuple[dict[str, Any] | None, FormErrors]:
    """Validate a submitted form with a schema: (data, {}) or (None, field errors)."""
    return validate(schema, form_fields(form))


def flatten_errors(messages: Any, prefix: str = "") -> FormErrors:
    flat: FormErrors = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = (
                f"{prefix}.{key}" if prefix and not isinstance(key, int) else (prefix or str(key))
            )
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        flat.setdefault(prefix or "_schema", []).extend(messages)
    else:
        flat.setdefault(prefix or "_schema", []).append(str(messages))
    return flat


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect.

    Browsers drop tabs and line breaks from a URL and read a backslash as a
    slash, so "/\t/evil.example" or "/\\evil.example" would leave the site
    as "//evil.example": any control character, space or backslash, and
    anything with a scheme or a host, sends the user home instead."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(ord(character) < 0x21 or ord(character) == 0x7F for character in target):
        return "/"
    if "\\" in target or "%5c" in target.lower():
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
