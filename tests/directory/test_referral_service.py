"""A referral naming the directory service it is for: `service_id` on
create and update through the API (422 when unknown, inactive, or run by an
agency other than the receiving one), shown with its name and provider to
the referring and receiving agencies, in the API and on the referral page;
the new-referral form's service select; the reports' count per service."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.actions.test_actions_pages import form_data
from tests.blueprints.web.test_referral_detail_pages import sign_in
from tests.page_errors import assert_plain_errors, text_of
from tests.referral_helpers import advance, create, referral_body

MENTORING = "oruk-essex-0001"


def named(imported: dict[str, str], source_id: str = MENTORING) -> str:
    return imported[source_id]


def test_a_referral_names_a_service_and_both_agencies_read_it(client, world, imported):
    made = create(client, world.officer, world.yjs, service_id=named(imported))
    assert made["service"] == {
        "id": named(imported),
        "name": "Southend Youth Mentoring",
        "provider_name": "Southend Mentoring Trust",
    }
    advance(client, world, made["id"], "submitted")
    for reader in (world.officer, world.yjs_manager):
        read = client.get(f"/api/v1/referrals/{made['id']}", headers=reader.headers)
        assert read.status_code == 200
        assert read.json["service"]["id"] == named(imported)
    listed = client.get("/api/v1/referrals", headers=world.yjs_manager.headers).json
    assert [row["service"]["name"] for row in listed] == ["Southend Youth Mentoring"]


def test_a_referral_without_a_service_names_none(client, world, imported):
    made = create(client, world.officer, world.yjs)
    assert made["service"] is None


@pytest.mark.parametrize("which", ["unknown", "inactive"])
def test_an_unknown_or_inactive_service_is_refused(client, world, imported, which):
    service_id = str(uuid.uuid4()) if which == "unknown" else imported["oruk-essex-0007"]
    response = client.post(
        "/api/v1/referrals",
        json=referral_body(world.yjs, service_id=service_id),
        headers=world.officer.headers,
    )
    assert response.status_code == 422
    assert response.json["errors"]["service_id"] == [
        "Choose a service from the directory that is still running."
    ]
    assert client.get("/api/v1/referrals", headers=world.officer.headers).json == []


def test_a_service_run_by_another_agency_here_is_refused(client, world, imported, provider_agency):
    triage = imported["oruk-essex-0008"]
    refused = client.post(
        "/api/v1/referrals",
        json=referral_body(world.yjs, service_id=triage),
        headers=world.officer.headers,
    )
    assert refused.status_code == 422
    assert "run by Directory Test Youth Justice" in refused.json["errors"]["service_id"][0]
    made = create(client, world.officer, provider_agency, service_id=triage)
    assert made["service"]["name"] == "Youth Justice Triage"


def test_a_draft_changes_its_service_and_clears_it(client, world, imported):
    made = create(client, world.officer, world.yjs, service_id=named(imported))
    path = f"/api/v1/referrals/{made['id']}"

    def patch(body):
        etag = client.get(path, headers=world.officer.headers).headers["ETag"]
        return client.patch(path, json=body, headers={**world.officer.headers, "If-Match": etag})

    changed = patch({"service_id": imported["oruk-essex-0002"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["service"]["name"] == "Chelmsford Boxing Diversion"
    refused = patch({"service_id": imported["oruk-essex-0007"]})
    assert refused.status_code == 422
    unknown = patch({"service_id": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert "service_id" in unknown.json["errors"]
    cleared = patch({"service_id": None})
    assert cleared.status_code == 200
    assert cleared.json["service"] is None


def test_changing_the_agency_away_from_the_services_provider_is_refused(
    client, world, imported, provider_agency
):
    made = create(client, world.officer, provider_agency, service_id=imported["oruk-essex-0008"])
    path = f"/api/v1/referrals/{made['id']}"
    etag = client.get(path, headers=world.officer.headers).headers["ETag"]
    moved = client.patch(
        path,
        json={"receiving_organisation_id": str(world.yjs.id)},
        headers={**world.officer.headers, "If-Match": etag},
    )
    assert moved.status_code == 422
    assert "service_id" in moved.json["errors"]


# --- the pages ---------------------------------------------------------------------


@pytest.fixture
def officer_page(app, world):
    return sign_in(app, world.officer.user)


def new_referral(browser, world, **fields):
    form = {
        **form_data(browser, "/referrals/new", "/referrals/new"),
        "child-first_name": "Jayden",
        "child-last_name": "Miller",
        "child-dob-day": "14",
        "child-dob-month": "3",
        "child-dob-year": "2011",
        "child-postcode": "SS1 2AA",
        "receiving_organisation_id": str(world.yjs.id),
        "reason": "Found with cash and two phones at Southend station.",
        "risk_level": "high",
        "risk_factors": ["county_lines"],
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
        "intent": "submit",
        "child_choice": "new",
        **fields,
    }
    return browser.post("/referrals/new", data=form)


def test_the_form_offers_the_active_services(officer_page, imported):
    page = officer_page.get("/referrals/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="service_id".*?</select>', page, re.S)
    assert select
    options = text_of(select.group(0))
    assert "Southend Youth Mentoring (Southend Mentoring Trust)" in options
    assert "Harlow Detached Youth Work" not in options  # inactive
    assert "No particular service" in options


def test_a_referral_made_on_the_form_names_the_service_the_receiving_agency_sees(
    app, client, world, imported, officer_page
):
    made = new_referral(officer_page, world, service_id=named(imported))
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    manager_page = sign_in(app, world.yjs_manager.user)
    page = text_of(manager_page.get(made.location).get_data(as_text=True))
    assert "Service Southend Youth Mentoring, run by Southend Mentoring Trust" in page


def test_the_form_refuses_a_service_run_by_another_agency_in_our_words(
    world, imported, officer_page, provider_agency
):
    refused = new_referral(officer_page, world, service_id=imported["oruk-essex-0008"])
    assert refused.status_code == 422
    assert_plain_errors(
        refused.get_data(as_text=True),
        "Youth Justice Triage is run by Directory Test Youth Justice: send the referral "
        "to them, or choose another service",
    )


def test_the_edit_page_keeps_the_service_when_other_answers_change(
    client, world, imported, officer_page
):
    made = create(client, world.officer, world.yjs, service_id=named(imported))
    path = f"/referrals/{made['id']}/edit"
    page = officer_page.get(path).get_data(as_text=True)
    assert re.search(rf'<option value="{named(imported)}" selected', page)


# --- the reports ---------------------------------------------------------------------


def test_reports_count_referrals_per_named_service(app, client, world, imported):
    for service in (MENTORING, MENTORING, "oruk-essex-0002"):
        made = create(client, world.officer, world.yjs, service_id=imported[service])
        advance(client, world, made["id"], "submitted")
    create(client, world.officer, world.yjs)  # names none: not counted
    summary = client.get("/api/v1/reports/summary", headers=world.yjs_manager.headers).json
    assert [
        (item["name"], item["incoming"], item["outgoing"]) for item in summary["named_services"]
    ] == [("Southend Youth Mentoring", 2, 0), ("Chelmsford Boxing Diversion", 1, 0)]
    sent = client.get("/api/v1/reports/summary", headers=world.police_manager.headers).json
    assert [(item["incoming"], item["outgoing"]) for item in sent["named_services"]] == [
        (0, 2),
        (0, 1),
    ]
    page = text_of(sign_in(app, world.yjs_manager.user).get("/reports").get_data(as_text=True))
    assert "Southend Youth Mentoring (Southend Mentoring Trust) 2 0" in page


def test_the_edit_page_keeps_a_service_that_has_since_stopped(
    app, client, world, imported, officer_page
):
    made = create(client, world.officer, world.yjs, service_id=named(imported))
    with app.app_context():
        from referral_app.extensions import db
        from referral_app.models import DirectoryService, DirectoryServiceStatus

        db.session.get(
            DirectoryService, uuid.UUID(named(imported))
        ).status = DirectoryServiceStatus.INACTIVE
        db.session.commit()
    path = f"/referrals/{made['id']}/edit"
    page = officer_page.get(path).get_data(as_text=True)
    assert re.search(
        rf'<option value="{named(imported)}" selected>Southend Youth Mentoring '
        r"\(no longer running\)",
        page,
    )
    saved = officer_page.post(
        path,
        data={
            **form_data(officer_page, path, path),
            "receiving_organisation_id": str(world.yjs.id),
            "service_id": named(imported),
            "reason": "Seen again at the station.",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    read = client.get(f"/api/v1/referrals/{made['id']}", headers=world.officer.headers)
    assert read.json["service"]["id"] == named(imported)
    assert read.json["reason"] == "Seen again at the station."
