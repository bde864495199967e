"""The breaking-change classifier on mutated copies of the served document:
each kind of change a client would trip over is reported as breaking, naming
the method, the path and the field; additive ones are not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from referral_app.openapi_diff import Change, breaking, breaking_allowed, compare, major_version

REFERRAL = "/api/v1/referrals/{referral_id}"
NOTES = "/api/v1/referrals/{referral_id}/notes"


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


def breaking_messages(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [str(change) for change in breaking(compare(old, new))]


@pytest.fixture
def changed(served: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(served)


def test_the_same_document_has_no_changes(served: dict[str, Any]) -> None:
    assert compare(served, copy.deepcopy(served)) == []


def test_removing_a_field_from_a_response_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    del schemas(changed)["ReferralDetail"]["properties"]["status"]
    messages = breaking_messages(served, changed)
    assert f"BREAKING: GET {REFERRAL} 200 response: response field `status` was removed" in messages
    # Everywhere the schema answers, the change is named: PATCH too.
    assert any(message.startswith(f"BREAKING: PATCH {REFERRAL} 200") for message in messages)


def test_removing_a_nested_response_field_names_its_path(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    child = schemas(changed)["ReferralDetail"]["properties"]["child"]
    reference = child.get("$ref") or child["allOf"][0]["$ref"]
    component = reference.rsplit("/", 1)[-1]
    del schemas(changed)[component]["properties"]["last_name"]
    messages = breaking_messages(served, changed)
    assert (
        f"BREAKING: GET {REFERRAL} 200 response: response field `child.last_name` was removed"
        in messages
    )


def test_adding_a_required_field_to_a_request_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    note = schemas(changed)["NoteCreate"]
    note["properties"]["author_role"] = {"type": "string", "maxLength": 100}
    note["required"].append("author_role")
    assert breaking_messages(served, changed) == [
        f"BREAKING: POST {NOTES} request body: field `author_role` is new and required"
    ]


def test_an_optional_request_field_becoming_required_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    schemas(changed)["NoteCreate"]["required"].append("kind")
    assert breaking_messages(served, changed) == [
        f"BREAKING: POST {NOTES} request body: field `kind` became required"
    ]


def test_adding_optional_fields_and_new_paths_is_additive(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    schemas(changed)["NoteCreate"]["properties"]["tag"] = {"type": "string"}
    schemas(changed)["ReferralDetail"]["properties"]["flag"] = {"type": "boolean"}
    changed["paths"]["/api/v1/new-things"] = copy.deepcopy(changed["paths"]["/api/v1/me"])
    changes = compare(served, changed)
    assert changes
    assert breaking(changes) == []
    assert Change(False, "/api/v1/new-things", "a new path") in changes


def test_removing_or_renaming_a_path_or_operation_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    changed["paths"]["/api/v1/whoami"] = changed["paths"].pop("/api/v1/me")
    del changed["paths"][NOTES]["get"]
    messages = breaking_messages(served, changed)
    assert "BREAKING: /api/v1/me: the path was removed" in messages
    assert f"BREAKING: GET {NOTES}: the operation was removed" in messages


def test_removing_an_enum_value_is_breaking_adding_one_is_not(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    kinds = schemas(changed)["NoteCreate"]["properties"]["kind"]["enum"]
    kinds.remove("home_visit")
    kinds.append("phone_call")
    changes = compare(served, changed)
    assert [str(change) for change in breaking(changes)] == [
        f"BREAKING: POST {NOTES} request body: field `kind`: enum value 'home_visit' was removed"
    ]
    assert any("enum value 'phone_call' is new" in str(change) for change in changes)


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        ("maxLength", 500, "field `body`: maxLength changed from 10000 to 500"),
        ("minLength", 10, "field `body`: minLength changed from 1 to 10"),
        ("type", "integer", "field `body` changed type from string to integer"),
        ("format", "email", "field `body`: format changed from None to 'email'"),
        ("pattern", "^[a-z ]+$", "field `body`: pattern changed from None to '^[a-z ]+$'"),
    ],
)
def test_a_narrowed_request_type_is_breaking(
    served: dict[str, Any], changed: dict[str, Any], rule: str, value: Any, message: str
) -> None:
    schemas(changed)["NoteCreate"]["properties"]["body"][rule] = value
    assert breaking_messages(served, changed) == [f"BREAKING: POST {NOTES} request body: {message}"]


def test_a_looser_request_rule_is_additive(served: dict[str, Any], changed: dict[str, Any]) -> None:
    schemas(changed)["NoteCreate"]["properties"]["body"]["maxLength"] = 20000
    changes = compare(served, changed)
    assert changes
    assert breaking(changes) == []


def test_a_response_field_of_another_type_or_nullable_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    properties = schemas(changed)["ReferralDetail"]["properties"]
    properties["version"]["type"] = "string"
    properties["reference"]["nullable"] = True
    messages = breaking_messages(served, changed)
    assert (
        f"BREAKING: GET {REFERRAL} 200 response: field `version` changed type "
        "from integer to string" in messages
    )
    assert f"BREAKING: GET {REFERRAL} 200 response: field `reference` may now be null" in messages


def test_removing_a_success_response_is_breaking_an_error_response_is_not(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    responses = changed["paths"][NOTES]["post"]["responses"]
    responses["200"] = responses.pop("201")
    del responses["413"]
    messages = breaking_messages(served, changed)
    assert messages == [f"BREAKING: POST {NOTES}: the 201 response was removed"]


def test_new_parameters_removed_ones_and_authentication(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    referrals = changed["paths"]["/api/v1/referrals"]["get"]
    referrals["parameters"] = [p for p in referrals["parameters"] if p.get("name") != "overdue"]
    referrals["parameters"].append(
        {"in": "query", "name": "team", "required": True, "schema": {"type": "string"}}
    )
    changed["paths"]["/api/v1/auth/tokens"]["post"]["security"] = [{"bearerAuth": []}]
    messages = breaking_messages(served, changed)
    assert "BREAKING: GET /api/v1/referrals: query parameter `overdue` was removed" in messages
    assert "BREAKING: GET /api/v1/referrals: query parameter `team` is new and required" in messages
    assert "BREAKING: POST /api/v1/auth/tokens: the operation now needs authentication" in messages


def test_a_removed_pagination_header_is_breaking(
    served: dict[str, Any], changed: dict[str, Any]
) -> None:
    del changed["paths"]["/api/v1/referrals"]["get"]["responses"]["200"]["headers"]
    assert breaking_messages(served, changed) == [
        "BREAKING: GET /api/v1/referrals 200 response: header `X-Pagination` was removed"
    ]


def test_a_recursive_schema_is_compared_once() -> None:
    node = {
        "type": "object",
        "properties": {"child": {"$ref": "#/components/schemas/Node"}, "name": {"type": "string"}},
    }
    document: dict[str, Any] = {
        "info": {"version": "v1"},
        "paths": {
            "/tree": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Node"}
                                }
                            },
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"Node": node}},
    }
    smaller = copy.deepcopy(document)
    del smaller["components"]["schemas"]["Node"]["properties"]["name"]
    assert breaking_messages(document, smaller) == [
        "BREAKING: GET /tree 200 response: response field `name` was removed"
    ]


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [("v1", "v2", True), ("v1", "v1", False), ("1.4.0", "2.0.0", True), ("v2", "v1", False)],
)
def test_a_breaking_change_is_allowed_only_with_a_new_major_version(
    old: str, new: str, allowed: bool
) -> None:
    assert breaking_allowed({"info": {"version": old}}, {"info": {"version": new}}) is allowed


def test_the_served_version_is_major_one(served: dict[str, Any]) -> None:
    assert major_version(served) == 1
