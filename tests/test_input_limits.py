"""Every string a client can send is length-limited (or drawn from a fixed
set), so no input can grow a row, a log line or a hash without bound."""

from __future__ import annotations

import importlib
import pkgutil

import marshmallow as ma
import pytest

import schemas
from schemas.common import InputSchema


def input_schemas() -> list[type[ma.Schema]]:
    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module.name}")
    found: list[type[ma.Schema]] = []
    pending = list(InputSchema.__subclasses__())
    while pending:
        schema = pending.pop()
        found.append(schema)
        pending.extend(schema.__subclasses__())
    return found


def bounded(field: ma.fields.Field) -> bool:
    validators = list(field.validators)
    for validator in validators:
        if isinstance(validator, ma.validate.Length) and validator.max is not None:
            return True
        if isinstance(validator, (ma.validate.OneOf, ma.validate.Regexp)):
            return True
    # A validator function that refuses everything (q in a URL) bounds it too.
    return any(getattr(v, "__name__", "") == "_not_in_urls" for v in validators)


def string_fields(schema: ma.Schema, prefix: str = ""):
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        path = f"{prefix}{name}"
        if isinstance(field, ma.fields.Nested):
            yield from string_fields(field.schema, path + ".")
        elif isinstance(field, ma.fields.List):
            assert any(
                isinstance(v, ma.validate.Length) and v.max is not None for v in field.validators
            ), f"{path}: list without a maximum length"
            if isinstance(field.inner, ma.fields.String):
                yield path + "[]", field.inner
        elif isinstance(field, ma.fields.String):
            yield path, field


@pytest.mark.parametrize("schema_class", input_schemas(), ids=lambda s: s.__name__)
def test_every_string_field_is_length_limited(schema_class):
    unbounded = [path for path, field in string_fields(schema_class()) if not bounded(field)]
    assert unbounded == []


def test_the_schemas_were_found():
    names = {schema.__name__ for schema in input_schemas()}
    assert {"ReferralCreateSchema", "UserCreateSchema", "NoteCreateSchema"} <= names
