"""Rectification: a manager of a holding agency corrects a child's details."""

from __future__ import annotations

import pytest

from tests.children.conftest import child, events, refer


def rectify(client, actor, child_id, body):
    return client.patch(f"/api/v1/children/{child_id}", json=body, headers=actor.headers)


@pytest.fixture
def jayden(client, world):
    details = child("Jaydn", "Miller", "2011-03-14", "SS1 2AA", school="Southend High")
    return refer(client, world.officer, world.yjs, details)["child"]


def test_a_manager_corrects_details_and_the_audit_names_only_the_fields(app, client, world, jayden):
    response = rectify(
        client,
        world.yjs_manager,
        jayden["id"],
        {"first_name": "Jayden", "postcode": "ss1 9zz", "school": "Southend High"},
    )
    assert response.status_code == 200, response.json
    assert response.json["first_name"] == "Jayden"
    assert response.json["postcode"] == "SS1 9ZZ"  # normalised as on creation
    seen = client.get(f"/api/v1/children/{jayden['id']}", headers=world.officer.headers).json
    assert (seen["first_name"], seen["postcode"]) == ("Jayden", "SS1 9ZZ")
    (event,) = events(app, "child.rectify")
    assert event.record_id == jayden["id"]
    assert event.fields == ["first_name", "postcode"]  # school was unchanged
    row = str(event.canonical())
    for value in ("Jayden", "Jaydn", "SS1", "Southend"):
        assert value not in row


def test_an_optional_detail_can_be_removed(client, world, jayden):
    response = rectify(client, world.police_manager, jayden["id"], {"school": None})
    assert response.status_code == 200
    assert response.json["school"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"first_name": ""},
        {"first_name": None},
        {"first_name": "x" * 101},
        {"date_of_birth": "2999-01-01"},
        {"date_of_birth": "1990-01-01"},
        {"date_of_birth": "not a date"},
        {"postcode": "not a postcode"},
        {"nickname": "JJ"},
        {"aliases": ["a"] * 11},
    ],
)
def test_bad_input_is_422_and_changes_nothing(app, client, world, jayden, body):
    response = rectify(client, world.yjs_manager, jayden["id"], body)
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    after = client.get(f"/api/v1/children/{jayden['id']}", headers=world.officer.headers).json
    assert after == jayden
    assert events(app, "child.rectify") == []


def test_only_managers_rectify(client, world, jayden):
    for actor in (world.officer, world.caseworker):
        assert rectify(client, actor, jayden["id"], {"first_name": "Jay"}).status_code == 403
