"""GET /api/v1/directory/services: active services by type, age and
postcode district (a service listing no districts has no area limit),
paginated; one service by id; 422 with field errors for a bad age or
postcode. The access matrix covers who may call them."""

from __future__ import annotations

import json
import uuid

import pytest

MENTORING = "Southend Youth Mentoring"
BOXING = "Chelmsford Boxing Diversion"
DRUGS = "Essex Young People's Drug and Alcohol Service"
EDUCATION = "Basildon Education Outreach"
TRIAGE = "Youth Justice Triage"


def names(client, world, **query) -> list[str]:
    response = client.get(
        "/api/v1/directory/services", query_string=query, headers=world.officer.headers
    )
    assert response.status_code == 200, response.json
    return [service["name"] for service in response.json]


def test_every_active_service_by_name(client, world, imported):
    assert names(client, world) == sorted([MENTORING, BOXING, DRUGS, EDUCATION, TRIAGE])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "mentoring"}, [MENTORING]),
        ({"type": "Diversion"}, [BOXING, MENTORING, TRIAGE]),  # any case; not the inactive one
        ({"type": "substance misuse"}, [DRUGS]),
        ({"type": "knitting"}, []),
    ],
)
def test_by_type(client, world, imported, query, expected):
    assert names(client, world, **query) == expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (19, [DRUGS]),
        (12, [BOXING, DRUGS, MENTORING, TRIAGE]),
        (16, [EDUCATION, BOXING, DRUGS, MENTORING, TRIAGE]),
    ],
)
def test_by_age_within_the_services_bounds(client, world, imported, age, expected):
    assert names(client, world, age=age) == sorted(expected)


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        # SS1: the mentoring's district; the drugs service and the triage list no districts.
        ("SS1 2AA", [DRUGS, MENTORING, TRIAGE]),
        ("ss1", [DRUGS, MENTORING, TRIAGE]),
        ("SS15 6QA", [EDUCATION, DRUGS, TRIAGE]),
        ("CM2", [BOXING, DRUGS, TRIAGE]),
        ("CM1 1AA", [DRUGS, TRIAGE]),
    ],
)
def test_by_postcode_district_or_no_area_limit(client, world, imported, postcode, expected):
    assert names(client, world, postcode=postcode) == sorted(expected)


def test_the_criteria_combine(client, world, imported):
    assert names(client, world, type="diversion", age=12, postcode="CM2 0PJ") == [BOXING, TRIAGE]


def test_a_service_says_whether_it_has_an_area_limit(client, world, imported):
    response = client.get(
        "/api/v1/directory/services",
        query_string={"postcode": "SS1"},
        headers=world.officer.headers,
    )
    by_name = {service["name"]: service for service in response.json}
    assert by_name[MENTORING]["area_limited"] is True
    assert by_name[MENTORING]["areas"] == ["SS1", "SS2"]
    assert by_name[DRUGS]["area_limited"] is False
    assert by_name[DRUGS]["area_names"] == ["Essex"]


def test_pages_of_the_directory(client, world, imported):
    response = client.get(
        "/api/v1/directory/services",
        query_string={"page": 2, "page_size": 2},
        headers=world.officer.headers,
    )
    assert response.status_code == 200
    assert [service["name"] for service in response.json] == [DRUGS, MENTORING]
    assert json.loads(response.headers["X-Pagination"])["total"] == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"age": 30}, "age"),
        ({"age": -1}, "age"),
        ({"age": "fourteen"}, "age"),
        ({"postcode": "nowhere"}, "postcode"),
        ({"postcode": "SS1 2A"}, "postcode"),
    ],
)
def test_a_bad_age_or_postcode_is_a_422_naming_the_field(client, world, imported, query, field):
    response = client.get(
        "/api/v1/directory/services", query_string=query, headers=world.officer.headers
    )
    assert response.status_code == 422
    assert field in response.json["errors"], response.json


def test_one_service_in_full(client, world, imported):
    response = client.get(
        f"/api/v1/directory/services/{imported['oruk-essex-0001']}",
        headers=world.yjs_manager.headers,
    )
    assert response.status_code == 200
    service = response.json
    assert service["source_id"] == "oruk-essex-0001"
    assert service["provider_name"] == "Southend Mentoring Trust"
    assert service["organisation"] is None
    assert (service["min_age"], service["max_age"]) == (10, 17)
    assert service["types"] == ["diversion", "mentoring"]
    assert service["status"] == "active"


def test_an_inactive_service_is_found_by_id_but_not_by_search(client, world, imported):
    response = client.get(
        f"/api/v1/directory/services/{imported['oruk-essex-0007']}",
        headers=world.officer.headers,
    )
    assert response.status_code == 200
    assert response.json["status"] == "inactive"
    assert "Harlow Detached Youth Work" not in names(client, world)


def test_a_service_run_by_an_agency_here_names_it(client, world, imported, provider_agency):
    response = client.get(
        f"/api/v1/directory/services/{imported['oruk-essex-0008']}",
        headers=world.officer.headers,
    )
    assert response.json["organisation"]["id"] == str(provider_agency.id)


def test_an_unknown_service_is_a_404(client, world, imported):
    response = client.get(
        f"/api/v1/directory/services/{uuid.uuid4()}", headers=world.officer.headers
    )
    assert response.status_code == 404
