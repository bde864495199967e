"""A schema's dump, compiled once from the schema's own declaration.

marshmallow dumps a field by looking its value up through an accessor,
checking for defaults and calling the field's serializer: general, and most
of the time of an answer with 25 nested referrals. Here each field of a
schema is turned once into the plain conversion its class does (a UUID into
its text, a time into ISO 8601, an enum into its value, a nested schema into
its own compiled dump), and a dump is a loop over those. The fields stay
declared once, in the schema, which also documents the API and loads input.

What is compiled gives exactly what marshmallow's dump gives (the tests
compare the two for every output schema); a field of a kind not listed
below, or a schema with dump hooks, is dumped by marshmallow itself.

A field computed from the object (`fields.Function`, `fields.Method`) reads
the value the service already worked out when the object is a mapping that
holds it (a row of services.referral_rows with `overdue`), and calls the
function otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow.utils import missing

Convert = Callable[[Any], Any]
Dump = Callable[[Any], dict[str, Any]]


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _same(value: Any) -> Any:
    return value


def _or_none(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _converter(field: Any) -> Convert | None:
    """The conversion marshmallow's `_serialize` does for this field, or
    None when it is not one of the kinds compiled here."""
    kind = type(field)
    if kind in (fields.String, fields.UUID):
        return _text
    if kind in (fields.Boolean, fields.Raw):
        return _same
    if kind is fields.Integer and not field.as_string:
        return _or_none(int)
    if kind in (fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime, fields.Date):
        function = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        return _or_none(function) if function is not None else None
    if kind is fields.Enum:
        inner: Convert | None = _converter(field.field)
        if inner is None:
            return None
        value_of: Convert = inner
        if field.by_value:
            return lambda value: None if value is None else value_of(value.value)
        return lambda value: None if value is None else value_of(value.name)
    if kind is fields.List:
        element = _converter(field.inner)
        if element is None:
            return None
        each: Convert = element
        return lambda value: None if value is None else [each(item) for item in value]
    if kind is fields.Nested:
        nested = compiled(field.schema)
        if nested is None:
            return None
        if field.many:
            return lambda value: None if value is None else [nested(item) for item in value]
        return _or_none(nested)
    return None


def _fallback(field: fields.Field, name: str) -> Callable[[Any], Any]:
    """marshmallow's own dump of the field, except that a computed field
    reads the value a mapping already holds under its name."""
    computed = isinstance(field, fields.Function | fields.Method)

    def by_marshmallow(obj: Any) -> Any:
        if computed and isinstance(obj, dict) and name in obj:
            return obj[name]
        return field.serialize(name, obj)

    return by_marshmallow


def compiled(schema: ma.Schema) -> Dump | None:
    """The schema's dump of one object, compiled; None when it has dump
    hooks (pre_dump, post_dump), which only marshmallow runs."""
    hooks = schema._hooks
    if hooks.get("pre_dump") or hooks.get("post_dump"):
        return None
    # (key out, key in, conversion) or (key out, None, marshmallow's dump).
    plan: list[tuple[str, str | None, Convert]] = []
    for name, field in schema.dump_fields.items():
        source = field.attribute or name
        convert = _converter(field)
        if convert is None or "." in source or field.dump_default is not missing:
            plan.append((field.data_key or name, None, _fallback(field, name)))
        else:
            plan.append((field.data_key or name, source, convert))

    def dump(obj: Any) -> dict[str, Any]:
        get = obj.get if isinstance(obj, dict) else partial(getattr, obj)
        out = {}
        for key, source, convert in plan:
            if source is None:
                value = convert(obj)
            else:
                value = get(source, missing)
                if value is not missing:
                    value = convert(value)
            if value is not missing:
                out[key] = value
        return out

    return dump
