"""The compiled dump (schemas/fast_dump.py) gives exactly what marshmallow's
own dump gives, for every output schema the service has, on objects and on
mappings, with values present, null and missing."""

from __future__ import annotations

import enum
import importlib
import pkgutil
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest

import schemas
from schemas.common import OutputSchema

for module in pkgutil.iter_modules(schemas.__path__):
    importlib.import_module(f"schemas.{module.name}")


def _all(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all(sub)]
    return found


OUTPUT_SCHEMAS = sorted(
    {cls for cls in _all(OutputSchema) if cls.__module__.startswith("schemas.")},
    key=lambda cls: cls.__qualname__,
)


def _value(field: ma.fields.Field, variant: int) -> Any:
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        one = lambda: _object(nested, variant, as_mapping=False)  # noqa: E731
        return [one(), one()] if field.many else one()
    if isinstance(field, ma.fields.List):
        return [_value(field.inner, variant), _value(field.inner, variant + 1)]
    if isinstance(field, ma.fields.Enum):
        members = list(field.enum)
        return members[variant % len(members)]
    if isinstance(field, ma.fields.UUID):
        return uuid.UUID(int=variant + 1)
    if isinstance(field, ma.fields.Date) and not isinstance(field, ma.fields.DateTime):
        return date(2026, 1, 1 + variant)
    if isinstance(field, ma.fields.Date):
        return date(2026, 1, 1 + variant)
    if isinstance(field, ma.fields.DateTime):
        return datetime(2026, 11, 29, 17, variant, 5, 123456, tzinfo=UTC)
    if isinstance(field, ma.fields.Boolean):
        return variant % 2 == 0
    if isinstance(field, ma.fields.Integer):
        return variant * 7
    if isinstance(field, ma.fields.Float | ma.fields.Number):
        return variant * 1.5
    if isinstance(field, ma.fields.Dict):
        return {"k": variant}
    return f"text {variant} — é"


def _object(schema: ma.Schema, variant: int, *, as_mapping: bool) -> Any:
    values: dict[str, Any] = {}
    for name, field in schema.dump_fields.items():
        key = field.attribute or name
        if isinstance(field, ma.fields.Function | ma.fields.Method):
            continue  # computed from the object by the schema's own code
        if variant == 1 and field.allow_none:
            values[key] = None
        elif variant == 2 and name.endswith("_at"):
            continue  # missing: left out of both dumps
        else:
            values[key] = _value(field, variant)
    if as_mapping:
        return values
    # What the referral schemas' computed fields ask of a Referral.
    return SimpleNamespace(**values, is_overdue=lambda: variant == 3, viewer_actions=("submit",))


@pytest.mark.parametrize("schema_class", OUTPUT_SCHEMAS, ids=lambda cls: cls.__qualname__)
@pytest.mark.parametrize("variant", [0, 1, 2, 3])
def test_compiled_dump_equals_marshmallows(schema_class: type[OutputSchema], variant: int) -> None:
    schema = schema_class()
    computed = [
        name
        for name, field in schema.dump_fields.items()
        if isinstance(field, ma.fields.Function | ma.fields.Method)
    ]
    if computed:
        schema = schema_class(exclude=computed)
    for as_mapping in (False, True):
        obj = _object(schema, variant, as_mapping=as_mapping)
        assert schema.dump(obj) == ma.Schema.dump(schema, obj)
        assert schema.dump([obj, obj], many=True) == ma.Schema.dump(schema, [obj, obj], many=True)


def test_every_output_schema_is_compared() -> None:
    assert len(OUTPUT_SCHEMAS) >= 20


def test_a_computed_field_reads_what_the_row_holds_and_asks_the_object_otherwise() -> None:
    from schemas.referral import ReferralSchema

    schema = ReferralSchema(only=["id", "overdue"])
    row = {"id": uuid.UUID(int=1), "overdue": True}
    assert schema.dump(row) == {"id": str(uuid.UUID(int=1)), "overdue": True}

    class Late:
        id = uuid.UUID(int=2)

        def is_overdue(self) -> bool:
            return False

    assert schema.dump(Late()) == {"id": str(uuid.UUID(int=2)), "overdue": False}


class Colour(enum.Enum):
    RED = "red"


def test_a_field_of_a_kind_not_compiled_is_dumped_by_marshmallow() -> None:
    class Odd(OutputSchema):
        colour = ma.fields.Enum(Colour)  # by name
        pluck = ma.fields.Pluck("schemas.referral.PersonSchema", "full_name")

    obj = SimpleNamespace(colour=Colour.RED, pluck=SimpleNamespace(full_name="Ann"))
    assert Odd().dump(obj) == {"colour": "RED", "pluck": "Ann"}
