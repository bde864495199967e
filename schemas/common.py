"""The base every input schema shares: unknown fields refused, strings stripped once."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import has_request_context, request

from schemas.fast_dump import compiled

missing_dump = object()  # not compiled yet

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128


def _unstorable(value: Any) -> bool:
    """Text no database stores: a NUL character (PostgreSQL refuses it) or a
    lone surrogate (JSON can carry "\\ud800"; UTF-8 cannot)."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


class InputSchema(ma.Schema):
    """Base for load schemas. Unknown fields raise (marshmallow's default,
    stated here so no subclass loosens it by accident); leading and trailing
    whitespace is stripped from every string before validation.

    Before that, text with a NUL character or a lone surrogate is refused (no
    database stores it: a 500 the client never deserved), and so is a
    string longer than its field's maximum as sent, before stripping: the
    document states the maximum of what the client sends."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def strip_strings(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        refused = {
            key: ["Text must not contain NUL characters or lone surrogates."]
            for key, value in data.items()
            if _unstorable(value)
        }
        for key, value in data.items():
            limit = self._max_length(key)
            if (
                key not in refused
                and isinstance(value, str)
                and limit is not None
                and len(value) > limit
            ):
                refused[key] = [f"Longer than maximum length {limit}."]
        if refused:
            raise ma.ValidationError(refused)
        if not isinstance(data, dict):
            return data  # query strings (webargs' MultiDictProxy) are taken as sent
        keep = self.unstripped
        return {
            key: (value.strip() if isinstance(value, str) and key not in keep else value)
            for key, value in data.items()
        }

    def _max_length(self, key: str) -> int | None:
        """The maximum length the field sent as `key` states, if any."""
        for name, field in self.load_fields.items():
            if (field.data_key or name) == key:
                limits = [
                    validator.max
                    for validator in field.validators
                    if isinstance(validator, ma.validate.Length) and validator.max is not None
                ]
                return min(limits, default=None)
        return None

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
    """Base for dump schemas: dumped by a function compiled once from the
    declared fields (schemas.fast_dump), the same output as marshmallow's."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        fast = self.__dict__.get("_fast_dump", missing_dump)
        if fast is missing_dump:
            fast = self.__dict__["_fast_dump"] = compiled(self)
        if fast is None:
            return super().dump(obj, many=many)
        if self.many if many is None else many:
            return [fast(item) for item in obj]
        return fast(obj)
