"""What changed between two OpenAPI documents, and whether a client built on
the older one would break: the check that keeps /api/v1 additive.

`compare(old, new)` walks both documents operation by operation (resolving
`$ref`s, so a change to a shared schema is reported where it is used) and
returns one `Change` per difference, `breaking` or not:

- breaking: a path or operation removed (a rename is a removal); a success
  response code removed; a response field removed, no longer always sent,
  newly nullable or of another type or format; a request field removed or a
  new required one (or one that became required); a parameter removed, a new
  required one, or one that became required; an enum value removed; a narrowed
  type in a request (another type, a format or pattern added or changed, a
  smaller maximum length, size or value, a larger minimum); an operation that
  became authenticated; a request body that became required;
- additive: everything a client built on the old document never notices
  (new paths, operations, optional fields and parameters, response fields,
  enum values, error codes, descriptions, examples, looser request rules).

A breaking change is allowed only when the document's major version grows
(`major_version`: "v1" -> "v2", "1.4.0" -> "2.0.0")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from referral_app.openapi_schema_rules import Change, Direction, merged, type_changes

__all__ = ["Change", "breaking", "breaking_allowed", "compare", "major_version"]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def major_version(document: dict[str, Any]) -> int | None:
    """The leading number of info.version ("v1", "1.2.0"), or None."""
    match = re.match(r"\s*v?(\d+)", str(document.get("info", {}).get("version", "")))
    return int(match.group(1)) if match else None


def breaking_allowed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The version says so: the new document's major version is higher."""
    before, after = major_version(old), major_version(new)
    return before is not None and after is not None and after > before


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return list(_Comparison(old, new).changes())


def breaking(changes: list[Change]) -> list[Change]:
    return [change for change in changes if change.breaking]


class _Comparison:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old = old
        self.new = new

    # -- references ----------------------------------------------------

    @staticmethod
    def _resolve(document: dict[str, Any], node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"]
            if pointer in seen or not pointer.startswith("#/"):
                return {}
            seen.add(pointer)
            target: Any = document
            for part in pointer[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    return {}
                target = target[part]
            node = target
        return node

    def _old(self, node: Any) -> Any:
        return self._resolve(self.old, node)

    def _new(self, node: Any) -> Any:
        return self._resolve(self.new, node)

    # -- paths and operations -------------------------------------------

    def changes(self) -> Iterator[Change]:
        old_paths = self.old.get("paths", {})
        new_paths = self.new.get("paths", {})
        for path in sorted(set(old_paths) | set(new_paths)):
            if path not in new_paths:
                yield Change(True, path, "the path was removed")
                continue
            if path not in old_paths:
                yield Change(False, path, "a new path")
                continue
            old_item, new_item = self._old(old_paths[path]), self._new(new_paths[path])
            for method in HTTP_METHODS:
                where = f"{method.upper()} {path}"
                if method in old_item and method not in new_item:
                    yield Change(True, where, "the operation was removed")
                elif method in new_item and method not in old_item:
                    yield Change(False, where, "a new operation")
                elif method in old_item:
                    yield from self._operation(
                        where,
                        old_item[method],
                        new_item[method],
                        old_item.get("parameters", []),
                        new_item.get("parameters", []),
                    )

    def _operation(
        self,
        where: str,
        old: dict[str, Any],
        new: dict[str, Any],
        old_path_parameters: list[Any],
        new_path_parameters: list[Any],
    ) -> Iterator[Change]:
        yield from self._security(where, old, new)
        yield from self._parameters(
            where,
            [*old_path_parameters, *old.get("parameters", [])],
            [*new_path_parameters, *new.get("parameters", [])],
        )
        yield from self._request_body(where, old.get("requestBody"), new.get("requestBody"))
        yield from self._responses(where, old.get("responses", {}), new.get("responses", {}))

    def _security(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        before = old.get("security", self.old.get("security", []))
        after = new.get("security", self.new.get("security", []))
        if before == after:
            return
        public_before = before == [] or {} in before
        public_after = after == [] or {} in after
        if public_before and not public_after:
            yield Change(True, where, "the operation now needs authentication")
        elif not any(requirement in after for requirement in before):
            yield Change(True, where, "none of the old ways to authenticate is accepted")
        else:
            yield Change(False, where, "the accepted ways to authenticate changed")

    def _parameters(self, where: str, old: list[Any], new: list[Any]) -> Iterator[Change]:
        before = {(p.get("in"), p.get("name")): p for p in map(self._old, old)}
        after = {(p.get("in"), p.get("name")): p for p in map(self._new, new)}
        for key in sorted(set(before) | set(after), key=str):
            place, name = key
            label = f"{place} parameter `{name}`"
            if key not in after:
                yield Change(True, where, f"{label} was removed")
                continue
            parameter = after[key]
            if key not in before:
                required = bool(parameter.get("required"))
                yield Change(required, where, f"{label} is new" + (" and required" * required))
                continue
            if parameter.get("required") and not before[key].get("required"):
                yield Change(True, where, f"{label} became required")
            elif before[key].get("required") and not parameter.get("required"):
                yield Change(False, where, f"{label} became optional")
            yield from self._schema(
                f"{where} {label}",
                before[key].get("schema", {}),
                parameter.get("schema", {}),
                "request",
                "",
                set(),
            )

    def _request_body(self, where: str, old: Any, new: Any) -> Iterator[Change]:
        where = f"{where} request body"
        if old is None and new is None:
            return
        if new is None:
            yield Change(True, where, "the request body was removed")
            return
        new = self._new(new)
        if old is None:
            yield Change(
                bool(new.get("required")),
                where,
                "a request body is new" + (" and required" * bool(new.get("required"))),
            )
            return
        old = self._old(old)
        if new.get("required") and not old.get("required"):
            yield Change(True, where, "the request body became required")
        old_content, new_content = old.get("content", {}), new.get("content", {})
        for media in sorted(set(old_content) | set(new_content)):
            if media not in new_content:
                yield Change(True, where, f"{media} is no longer accepted")
            elif media not in old_content:
                yield Change(False, where, f"{media} is accepted")
            else:
                yield from self._schema(
                    where,
                    old_content[media].get("schema", {}),
                    new_content[media].get("schema", {}),
                    "request",
                    "",
                    set(),
                )

    def _responses(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        for status in sorted(set(map(str, old)) | set(map(str, new))):
            old_response = _by_status(old, status)
            new_response = _by_status(new, status)
            success = status.startswith(("1", "2", "3"))
            label = f"{where} {status} response"
            if new_response is None:
                yield Change(success, where, f"the {status} response was removed")
                continue
            if old_response is None:
                yield Change(False, where, f"a new {status} response")
                continue
            if not success:
                continue  # every error uses the shared Error shape
            yield from self._response(label, self._old(old_response), self._new(new_response))

    def _response(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        old_headers, new_headers = old.get("headers", {}), new.get("headers", {})
        for name in sorted(set(old_headers) - set(new_headers)):
            yield Change(True, where, f"header `{name}` was removed")
        for name in sorted(set(new_headers) - set(old_headers)):
            yield Change(False, where, f"header `{name}` is new")
        for name in sorted(set(old_headers) & set(new_headers)):
            old_header, new_header = self._old(old_headers[name]), self._new(new_headers[name])
            yield from self._schema(
                f"{where} header `{name}`",
                _header_schema(old_header),
                _header_schema(new_header),
                "response",
                "",
                set(),
            )
        old_content, new_content = old.get("content", {}), new.get("content", {})
        for media in sorted(set(old_content) | set(new_content)):
            if media not in new_content:
                yield Change(True, where, f"{media} is no longer sent")
            elif media not in old_content:
                yield Change(False, where, f"{media} is sent too")
            else:
                yield from self._schema(
                    where,
                    old_content[media].get("schema", {}),
                    new_content[media].get("schema", {}),
                    "response",
                    "",
                    set(),
                )

    # -- schemas -----------------------------------------------------------

    def _schema(
        self,
        where: str,
        old_node: Any,
        new_node: Any,
        direction: Direction,
        field: str,
        seen: set[tuple[str, str, str]],
    ) -> Iterator[Change]:
        # `seen`: the references being compared further up this branch, so
        # a schema that contains itself is walked once, not forever.
        key = (
            str(old_node.get("$ref", "")) if isinstance(old_node, dict) else "",
            str(new_node.get("$ref", "")) if isinstance(new_node, dict) else "",
            direction,
        )
        if key != ("", "", direction):
            if key in seen:
                return
            seen = seen | {key}
        old, new = merged(self._old, old_node), merged(self._new, new_node)
        name = f"field `{field}`" if field else "the body"
        yield from type_changes(where, name, old, new, direction)
        if direction == "request" and (
            not new.get("additionalProperties", True) and old.get("additionalProperties", True)
        ):
            yield Change(True, where, f"{name} no longer accepts other properties")
        yield from self._properties(where, old, new, direction, field, seen)
        for keyword in ("items", "additionalProperties"):
            if isinstance(old.get(keyword), dict) and isinstance(new.get(keyword), dict):
                suffix = "[]" if keyword == "items" else "{}"
                yield from self._schema(
                    where, old[keyword], new[keyword], direction, f"{field}{suffix}", seen
                )
        for keyword in ("oneOf", "anyOf"):
            old_options, new_options = old.get(keyword, []), new.get(keyword, [])
            if old_options and len(old_options) == len(new_options):
                for old_option, new_option in zip(old_options, new_options, strict=True):
                    yield from self._schema(where, old_option, new_option, direction, field, seen)
            elif old_options != new_options:
                yield Change(True, where, f"{name}: the {keyword} alternatives changed")

    def _properties(
        self,
        where: str,
        old: dict[str, Any],
        new: dict[str, Any],
        direction: Direction,
        field: str,
        seen: set[tuple[str, str, str]],
    ) -> Iterator[Change]:
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for prop in sorted(set(old_properties) | set(new_properties)):
            path = f"{field}.{prop}" if field else prop
            label = f"field `{path}`"
            if prop not in new_properties:
                side = "request" if direction == "request" else "response"
                yield Change(True, where, f"{side} {label} was removed")
                continue
            if prop not in old_properties:
                if direction == "request" and prop in new_required:
                    yield Change(True, where, f"{label} is new and required")
                else:
                    yield Change(False, where, f"{label} is new")
                continue
            was, now = prop in old_required, prop in new_required
            if direction == "request" and now and not was:
                yield Change(True, where, f"{label} became required")
            elif direction == "response" and was and not now:
                yield Change(True, where, f"{label} is no longer always sent")
            elif was != now:
                yield Change(False, where, f"{label} became {'required' if now else 'optional'}")
            yield from self._schema(
                where, old_properties[prop], new_properties[prop], direction, path, seen
            )


def _by_status(responses: dict[Any, Any], status: str) -> Any:
    """A response by its code, keyed as text (JSON) or as a number (a dict built in Python)."""
    if status in responses:
        return responses[status]
    return responses.get(int(status)) if status.isdigit() else None


def _header_schema(header: dict[str, Any]) -> Any:
    if "schema" in header:
        return header["schema"]
    for media in header.get("content", {}).values():
        return media.get("schema", {})
    return {}
