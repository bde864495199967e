"""The rules for one schema against its older self (referral_app.openapi_diff
walks the documents and calls these): a type, nullability, enum, format,
pattern or bound that changed, and whether a client would notice. In a
request the server must accept at least what it did; in a response it must
send nothing a client built on the old document cannot read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["request", "response"]

# Request rules whose larger value accepts less (a narrowing when it grows or
# appears) and whose smaller value accepts less (when it shrinks or appears).
LOWER_BOUNDS = ("minLength", "minimum", "minItems", "minProperties")
UPPER_BOUNDS = ("maxLength", "maximum", "maxItems", "maxProperties")


@dataclass(frozen=True)
class Change:
    breaking: bool
    where: str  # "POST /api/v1/referrals request body"
    message: str  # "field `reason` is new and required"

    def __str__(self) -> str:
        kind = "BREAKING" if self.breaking else "additive"
        return f"{kind}: {self.where}: {self.message}"


def merged(resolve: Callable[[Any], Any], node: Any) -> dict[str, Any]:
    """A schema with its `allOf` parts folded in (apispec writes a nested
    schema with a description as allOf of one reference)."""
    schema = resolve(node)
    if not isinstance(schema, dict):
        return {}
    if "allOf" not in schema:
        return schema
    folded: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema["allOf"]:
        part = merged(resolve, part)
        for key, value in part.items():
            if key == "properties":
                folded["properties"] = {**folded.get("properties", {}), **value}
            elif key == "required":
                folded["required"] = sorted({*folded.get("required", []), *value})
            else:
                folded.setdefault(key, value)
    return folded


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return set(kind) if isinstance(kind, list) else {kind}


def _nullable(schema: dict[str, Any]) -> bool:
    return bool(schema.get("nullable")) or "null" in _types(schema)


def type_changes(
    where: str, name: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
) -> Iterator[Change]:
    old_types, new_types = _types(old) - {"null"}, _types(new) - {"null"}
    if old_types != new_types:
        widened = direction == "request" and (
            not new_types
            or old_types <= new_types
            or (old_types, new_types)
            == (
                {"integer"},
                {"number"},
            )
        )
        yield Change(
            not widened,
            where,
            f"{name} changed type from {'/'.join(sorted(old_types)) or 'any'} "
            f"to {'/'.join(sorted(new_types)) or 'any'}",
        )
    if _nullable(old) != _nullable(new):
        now_nullable = _nullable(new)
        hurts = (direction == "request") != now_nullable
        yield Change(
            hurts, where, f"{name} {'may now' if now_nullable else 'may no longer'} be null"
        )
    yield from _enum_changes(where, name, old, new, direction)
    for keyword in ("format", "pattern"):
        if old.get(keyword) != new.get(keyword):
            yield Change(
                direction == "response" or new.get(keyword) is not None,
                where,
                f"{name}: {keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}",
            )
    for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        before, after = old.get(keyword), new.get(keyword)
        if before == after:
            continue
        if direction == "response":
            yield Change(False, where, f"{name}: {keyword} changed from {before} to {after}")
            continue
        narrower = after is not None and (
            before is None or (after > before if keyword in LOWER_BOUNDS else after < before)
        )
        yield Change(narrower, where, f"{name}: {keyword} changed from {before} to {after}")


def _enum_changes(
    where: str, name: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
) -> Iterator[Change]:
    before, after = old.get("enum"), new.get("enum")
    if before == after:
        return
    if after is None:
        # Any value now: a request takes more; a response may send what a
        # client's enum does not know.
        yield Change(direction == "response", where, f"{name} is no longer limited to an enum")
        return
    if before is None:
        yield Change(direction == "request", where, f"{name} is now limited to {after}")
        return
    for value in [value for value in before if value not in after]:
        yield Change(True, where, f"{name}: enum value {value!r} was removed")
    for value in [value for value in after if value not in before]:
        yield Change(False, where, f"{name}: enum value {value!r} is new")
