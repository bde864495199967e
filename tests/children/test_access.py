"""Who may reach the children routes: a record outside the caller's holdings
is a 404 on every route (never a 403, never a hint); roles without the
permission get 403; bad input is a 422 that changes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.blueprints.web.test_referral_pages import sign_in
from tests.children.conftest import child, events, refer
from tests.conftest import csrf_token


@pytest.fixture
def records(client, world):
    """Two police records of Jayden (sent to the YJS), one merged; and the
    stranger agency's own child, whom the police and the YJS cannot see."""
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    third = refer(client, world.officer, world.yjs, child("Jay", "Miller", "2011-03-14"))
    merged = client.post(
        f"/api/v1/children/{first['child']['id']}/merge",
        json={"duplicate_id": second["child"]["id"]},
        headers=world.police_manager.headers,
    )
    assert merged.status_code == 201
    draft = refer(
        client, world.officer, world.yjs, child("Draft", "Only", "2012-01-01"), submit=False
    )
    theirs = refer(client, world.stranger, world.charity, child("Kai", "Jones", "2010-01-01"))
    return {
        "child": first["child"]["id"],
        "other": third["child"]["id"],
        "merge": merged.json["id"],
        "draft_child": draft["child"]["id"],
        "theirs": theirs["child"]["id"],
    }


def api_calls(child_id, merge_id, duplicate_id):
    return [
        ("get", f"/api/v1/children/{child_id}", None),
        ("patch", f"/api/v1/children/{child_id}", {"first_name": "Changed"}),
        ("post", f"/api/v1/children/{child_id}/merge", {"duplicate_id": duplicate_id}),
        ("post", f"/api/v1/children/merges/{merge_id}/undo", None),
        ("get", f"/api/v1/children/{child_id}/export", None),
    ]


def test_every_api_route_is_404_for_an_agency_that_holds_nothing(app, client, world, records):
    calls = api_calls(records["child"], records["merge"], records["other"])
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=world.stranger_manager.headers)
        assert response.status_code == 404, (method, path)
        assert "Jayden" not in response.get_data(as_text=True)
    denials = events(app, "access.not_found")
    assert len(denials) == len(calls)
    assert all(event.outcome == "denied" for event in denials)


def test_unknown_ids_and_drafts_are_404_too(client, world, records):
    nowhere = str(uuid.uuid4())
    for method, path, body in api_calls(nowhere, nowhere, records["other"]):
        response = getattr(client, method)(path, json=body, headers=world.police_manager.headers)
        assert response.status_code == 404, (method, path)
    # A draft is held by the referring agency alone.
    draft = records["draft_child"]
    for method, path, body in api_calls(draft, nowhere, records["other"])[:-2]:
        response = getattr(client, method)(path, json=body, headers=world.yjs_manager.headers)
        assert response.status_code == 404, (method, path)
    assert (
        client.get(
            f"/api/v1/children/{draft}/export", headers=world.yjs_manager.headers
        ).status_code
        == 404
    )


def test_merging_in_a_record_held_elsewhere_is_404(client, world, records):
    response = client.post(
        f"/api/v1/children/{records['child']}/merge",
        json={"duplicate_id": records["theirs"]},
        headers=world.police_manager.headers,
    )
    assert response.status_code == 404
    assert "Kai" not in response.get_data(as_text=True)


def test_every_page_is_404_for_an_agency_that_holds_nothing(app, client, world, records):
    stranger = sign_in(app, world.stranger_manager.user)
    token = csrf_token(stranger, "/referrals/new")
    child_id, merge_id = records["child"], records["merge"]
    assert stranger.get(f"/children/{child_id}").status_code == 404
    exported = stranger.post(f"/children/{child_id}/export", data={"csrf_token": token})
    assert exported.status_code == 404
    for path, form in (
        (f"/children/{child_id}/rectify", {"first_name": "X", "last_name": "Y"}),
        (f"/children/{child_id}/merge", {"duplicate_id": records["other"]}),
        (f"/children/{child_id}/merges/{merge_id}/undo", {}),
    ):
        response = stranger.post(path, data={"csrf_token": token, **form})
        assert response.status_code == 404, path
        assert "Jayden" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["officer", "caseworker"])
def test_case_roles_without_the_permission_get_403(client, world, records, role):
    actor = getattr(world, role)
    for method, path, body in api_calls(records["child"], records["merge"], records["other"])[1:]:
        response = getattr(client, method)(path, json=body, headers=actor.headers)
        assert response.status_code == 403, (method, path)


def test_roles_without_case_data_cannot_search(client, factory, world):
    from referral_app.models import Role
    from tests.factories import bearer, token_for

    for role in (Role.AUDITOR, Role.ORG_ADMIN, Role.SYSTEM_ADMIN):
        user = factory.user(role, organisation=world.police)
        response = client.post(
            "/api/v1/children/matches",
            json={"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"},
            headers=bearer(token_for(client, user)),
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"first_name": "Jayden", "last_name": "Miller"},
        {"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "14/03/2011"},
        {"first_name": "", "last_name": "Miller", "date_of_birth": "2011-03-14"},
        {"first_name": "J" * 101, "last_name": "Miller", "date_of_birth": "2011-03-14"},
        {
            "first_name": "Jayden",
            "last_name": "Miller",
            "date_of_birth": "2011-03-14",
            "postcode": "x",
        },
        {
            "first_name": "Jayden",
            "last_name": "Miller",
            "date_of_birth": "2011-03-14",
            "school": "S",
        },
    ],
)
def test_bad_searches_are_422_and_unaudited(app, client, world, body):
    response = client.post("/api/v1/children/matches", json=body, headers=world.officer.headers)
    assert response.status_code == 422
    assert events(app, "child.match") == []


@pytest.mark.parametrize("body", [{}, {"duplicate_id": "not-a-uuid"}, {"duplicate_id": None}])
def test_bad_merges_are_422_and_change_nothing(app, client, world, records, body):
    before = client.get(
        f"/api/v1/children/{records['other']}/export", headers=world.police_manager.headers
    ).json["referrals"]
    response = client.post(
        f"/api/v1/children/{records['child']}/merge",
        json=body,
        headers=world.police_manager.headers,
    )
    assert response.status_code == 422
    after = client.get(
        f"/api/v1/children/{records['other']}/export", headers=world.police_manager.headers
    ).json["referrals"]
    assert [item["referral"]["id"] for item in after] == [item["referral"]["id"] for item in before]
    assert len(events(app, "child.merge")) == 1  # the fixture's


def test_non_json_bodies_are_415(client, world):
    response = client.post(
        "/api/v1/children/matches",
        data="first_name=Jayden",
        headers={**world.officer.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_an_agency_with_a_share_sees_the_child_but_changes_nothing(app, client, world):
    """DESIGN section 4: a further agency with a share sees the referral and
    shared notes only. It may read and export what it holds about the child,
    but not correct the record, merge it, or undo a merge of it (403)."""
    from tests.referral_helpers import share_with

    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    for made in (first, second):
        share_with(client, world, made["id"], world.charity)
    survivor, duplicate = first["child"]["id"], second["child"]["id"]
    charity = world.charity_manager.headers
    assert client.get(f"/api/v1/children/{survivor}", headers=charity).status_code == 200
    assert client.get(f"/api/v1/children/{survivor}/export", headers=charity).status_code == 200
    patch = client.patch(f"/api/v1/children/{survivor}", json={"school": "X"}, headers=charity)
    assert patch.status_code == 403
    merge_path = f"/api/v1/children/{survivor}/merge"
    refused = client.post(merge_path, json={"duplicate_id": duplicate}, headers=charity)
    assert refused.status_code == 403
    merged = client.post(
        merge_path, json={"duplicate_id": duplicate}, headers=world.yjs_manager.headers
    )
    assert merged.status_code == 201
    undo = f"/api/v1/children/merges/{merged.json['id']}/undo"
    assert client.post(undo, headers=charity).status_code == 403
    page = sign_in(app, world.charity_manager.user).get(f"/children/{survivor}")
    assert page.status_code == 200
    assert "Correct the details" not in page.get_data(as_text=True)
    assert client.post(undo, headers=world.yjs_manager.headers).status_code == 200


def test_merging_an_unseen_record_into_itself_is_404_not_422(client, world, records):
    theirs = records["theirs"]
    response = client.post(
        f"/api/v1/children/{theirs}/merge",
        json={"duplicate_id": theirs},
        headers=world.police_manager.headers,
    )
    assert response.status_code == 404
