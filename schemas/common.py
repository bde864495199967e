"""The base every input schema shares: unknown fields refused, strings stripped once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import has_request_context, request

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128


class InputSchema(ma.Schema):
    """Base for load schemas. Unknown fields raise (marshmallow's default,
    stated here so no subclass loosens it by accident); leading and trailing
    whitespace is stripped from every string before validation."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def strip_strings(self, data: Any, **_: Any) -> Any:
        keep = self.unstripped
        if isinstance(data, dict):
            return {
                key: (value.strip() if isinstance(value, str) and key not in keep else value)
                for key, value in data.items()
            }
        return data

    # Fields whose whitespace is significant (passwords).
    unstripped: frozenset[str] = frozenset()


class JsonBoolean(ma.fields.Boolean):
    """A boolean in a request body. In JSON it is `true` or `false`, as
    documented, not 1, 0, "yes" or "on", which marshmallow's Boolean also
    takes; a browser form sends text ("true" from a checkbox), so a form keeps
    marshmallow's spellings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool) and has_request_context() and request.is_json:
            raise self.make_error("invalid", input=value)
        return bool(super()._deserialize(value, attr, data, **kwargs))


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def not_common(password: str) -> None:
    if password.lower() in common_passwords():
        raise ma.ValidationError(
            "This password is too common: it appears in lists attackers try first."
        )


def password_field(**kwargs: Any) -> ma.fields.String:
    """A new password: 12 to 128 characters, any characters (no composition
    rules: a passphrase is fine), not on the list of common passwords."""
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=[
            ma.validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH),
            not_common,
        ],
        metadata={
            "description": f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters, "
            "not a common password."
        },
        **kwargs,
    )


class OutputSchema(ma.Schema):
    """Base for dump schemas."""
