"""GET /api/v1/referrals/{id}/fhir: the referral as a FHIR R4 Bundle, valid
for a referral in every status, scoped like every referral read, recorded
as a disclosure, served as application/fhir+json or application/json."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, Share, utcnow
from referral_app.services import audit
from tests.fhir.conftest import (
    STATUSES,
    bundle_of,
    export,
    referral_in,
    resource,
    resources,
    validate,
)
from tests.referral_helpers import share_with

# What each status (and a reopened referral) becomes: (Task, ServiceRequest).
EXPECTED = {
    "draft": ("draft", "draft"),
    "submitted": ("requested", "active"),
    "accepted": ("accepted", "active"),
    "in_progress": ("in-progress", "active"),
    "declined": ("rejected", "revoked"),
    "withdrawn": ("cancelled", "revoked"),
    "closed": ("completed", "completed"),
    "reopened": ("in-progress", "active"),
}


@pytest.mark.parametrize("status", STATUSES)
def test_the_bundle_validates_for_every_status(client, world, status):
    made = referral_in(client, world, status)
    bundle = validate(bundle_of(client, world.officer, made["id"]))
    kinds = sorted(entry.resource.get_resource_type() for entry in bundle.entry or [])
    assert kinds == [
        "Consent",
        "Organization",
        "Organization",
        "Patient",
        "ServiceRequest",
        "Task",
    ]


@pytest.mark.parametrize("status", STATUSES)
def test_the_task_and_request_statuses_follow_the_mapping(client, world, status):
    made = referral_in(client, world, status)
    bundle = bundle_of(client, world.officer, made["id"])
    task = resource(bundle, "Task")
    request = resource(bundle, "ServiceRequest")
    assert (task["status"], request["status"]) == EXPECTED[status]
    ours = "in_progress" if status == "reopened" else status
    assert task["businessStatus"]["coding"][0]["code"] == ours
    assert task["intent"] == request["intent"] == "order"
    assert task["focus"] == {"reference": f"urn:uuid:{made['id']}"}


def test_a_declined_or_withdrawn_task_says_the_reason_given(client, world):
    declined = referral_in(client, world, "declined")
    withdrawn = referral_in(client, world, "withdrawn")
    submitted = referral_in(client, world, "submitted")
    reasons = {
        made["id"]: resource(bundle_of(client, world.officer, made["id"]), "Task").get(
            "statusReason"
        )
        for made in (declined, withdrawn, submitted)
    }
    assert reasons[declined["id"]] == {"text": "Out of our area."}
    assert reasons[withdrawn["id"]] == {"text": "Raised in error."}
    assert reasons[submitted["id"]] is None


def test_a_closed_task_carries_the_outcome_and_a_reopened_one_does_not(client, world):
    closed = referral_in(client, world, "closed")
    task = resource(bundle_of(client, world.officer, closed["id"]), "Task")
    outputs = {out["type"]["coding"][0]["code"]: out for out in task["output"]}
    assert outputs["outcome"]["valueCodeableConcept"]["coding"][0]["code"] == (
        "engaged_and_completed"
    )
    assert outputs["outcome-summary"]["valueString"] == "Completed the programme."
    assert "end" in task["executionPeriod"]
    reopened = referral_in(client, world, "reopened")
    again = resource(bundle_of(client, world.officer, reopened["id"]), "Task")
    assert "output" not in again
    assert "end" not in again["executionPeriod"]


def test_the_service_request_says_who_asked_whom_and_why(app, client, world):
    made = referral_in(client, world, "accepted")
    bundle = bundle_of(client, world.caseworker, made["id"])
    request = resource(bundle, "ServiceRequest")
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert request["identifier"] == [
        {"system": base + "/fhir/sid/referral-reference", "value": made["reference"]}
    ]
    assert request["priority"] == "urgent"  # the referral's risk is high
    factors = [concept["coding"][0] for concept in request["reasonCode"]]
    assert {coding["code"] for coding in factors} == {"county_lines", "criminal_exploitation"}
    assert {coding["system"] for coding in factors} == {base + "/fhir/CodeSystem/risk-factor"}
    assert request["note"] == [{"text": made["reason"]}]
    assert request["subject"]["reference"] == f"urn:uuid:{made['child']['id']}"
    assert request["requester"]["reference"] == f"urn:uuid:{world.police.id}"
    assert request["performer"] == [
        {"reference": f"urn:uuid:{world.yjs.id}", "display": world.yjs.name}
    ]
    organisations = {org["id"]: org for org in resources(bundle, "Organization")}
    assert set(organisations) == {str(world.police.id), str(world.yjs.id)}
    assert organisations[str(world.yjs.id)]["name"] == world.yjs.name


def test_the_patient_carries_no_more_than_the_api_shows(client, world):
    child = {
        "first_name": "Jayden",
        "last_name": "Miller",
        "date_of_birth": "2011-03-14",
        "gender": "Male",
        "address": "12 Marine Parade",
        "postcode": "ss1 2aa",
        "school": "Southend High",
        "aliases": ["JJ Mills"],
    }
    made = referral_in(client, world, "in_progress", child=child)
    share_with(client, world, made["id"], world.charity)
    shown = client.get(f"/api/v1/referrals/{made['id']}", headers=world.charity_worker.headers)
    assert shown.status_code == 200
    seen = shown.json["child"]
    bundle = bundle_of(client, world.charity_worker, made["id"])
    patient = resource(bundle, "Patient")
    assert set(patient) <= {"resourceType", "id", "name", "gender", "birthDate", "address"}
    assert patient["id"] == seen["id"]
    assert patient["name"] == [{"family": seen["last_name"], "given": [seen["first_name"]]}]
    assert patient["birthDate"] == seen["date_of_birth"]
    assert patient["gender"] == "male"
    # The postcode's district only, of the postcode the API shows.
    assert (
        patient["address"]
        == [{"postalCode": seen["postcode"].split()[0]}]
        == [{"postalCode": "SS1"}]
    )
    text = json.dumps(bundle)
    for held_back in ("Southend High", "Marine Parade", "JJ Mills", "2AA"):
        assert held_back not in text
    # No person is named: the referrer and the caseworker stay out of it.
    for person in (world.officer, world.caseworker):
        assert str(person.user.id) not in text


def test_a_child_without_gender_or_postcode_has_none_in_the_patient(client, world):
    made = referral_in(
        client,
        world,
        "submitted",
        child={"first_name": "Amy", "last_name": "Cole", "date_of_birth": "2012-05-01"},
    )
    patient = resource(bundle_of(client, world.officer, made["id"]), "Patient")
    assert "gender" not in patient
    assert "address" not in patient


@pytest.mark.parametrize(
    ("consent_status", "notes", "expected"),
    [
        ("obtained_from_child", None, "active"),
        ("obtained_from_parent", None, "active"),
        ("refused", None, "rejected"),
        ("not_sought", "Asking would put the child at risk.", "draft"),
    ],
)
def test_the_consent_status_and_lawful_basis(client, world, consent_status, notes, expected):
    made = referral_in(
        client, world, "submitted", consent_status=consent_status, consent_notes=notes
    )
    bundle = bundle_of(client, world.officer, made["id"])
    validate(bundle)
    consent = resource(bundle, "Consent")
    assert consent["status"] == expected
    assert consent["scope"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
        "code": "patient-privacy",
        "display": "Privacy Consent",
    }
    assert consent["patient"]["reference"] == f"urn:uuid:{made['child']['id']}"
    basis = consent["policyRule"]["coding"][0]
    assert basis["code"] == "public_task"
    assert basis["system"].endswith("/fhir/CodeSystem/lawful-basis")
    assert "Article 6(1)(e)" in basis["display"]


def test_withdrawn_consent_is_inactive_from_when_it_was_withdrawn(client, world):
    made = referral_in(client, world, "accepted")
    withdrawn = client.post(
        f"/api/v1/referrals/{made['id']}/consent",
        json={
            "status": "withdrawn",
            "given_by": "parent_or_carer",
            "method": "phone",
            "occurred_at": "2026-01-05T10:00:00+00:00",
        },
        headers=world.officer.headers,
    )
    assert withdrawn.status_code == 201, withdrawn.json
    bundle = bundle_of(client, world.officer, made["id"])
    validate(bundle)
    consent = resource(bundle, "Consent")
    assert consent["status"] == "inactive"
    assert consent["dateTime"].startswith("2026-01-05T10:00:00")


def test_a_draft_without_consent_has_no_consent_resource(client, world):
    made = referral_in(client, world, "draft", consent_status=None, lawful_basis=None)
    bundle = bundle_of(client, world.officer, made["id"])
    validate(bundle)
    assert resources(bundle, "Consent") == []


# --- who may export it -----------------------------------------------------


@pytest.mark.parametrize("who", ["stranger", "stranger_manager"])
def test_an_unrelated_agency_gets_404(client, world, who):
    made = referral_in(client, world, "in_progress")
    response = export(client, getattr(world, who), made["id"])
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert made["child"]["first_name"] not in response.get_data(as_text=True)


def test_a_revoked_share_gets_404(client, world):
    made = referral_in(client, world, "in_progress")
    share = share_with(client, world, made["id"], world.charity)
    assert export(client, world.charity_worker, made["id"]).status_code == 200
    revoked = client.delete(
        f"/api/v1/referrals/{made['id']}/shares/{share['id']}", headers=world.yjs_manager.headers
    )
    assert revoked.status_code == 200
    assert export(client, world.charity_worker, made["id"]).status_code == 404


def test_an_expired_share_gets_404(app, client, world):
    made = referral_in(client, world, "in_progress")
    share = share_with(client, world, made["id"], world.charity)
    assert export(client, world.charity_manager, made["id"]).status_code == 200
    with app.app_context():
        db.session.get(Share, uuid.UUID(share["id"])).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert export(client, world.charity_manager, made["id"]).status_code == 404


def test_a_draft_is_only_for_its_referring_agency(client, world):
    made = referral_in(client, world, "draft")
    assert export(client, world.yjs_manager, made["id"]).status_code == 404
    assert export(client, world.officer, made["id"]).status_code == 200


def test_an_unknown_referral_is_404(client, world):
    assert export(client, world.officer, str(uuid.uuid4())).status_code == 404


def test_an_anonymous_caller_is_refused(client, world):
    made = referral_in(client, world, "submitted")
    response = client.get(f"/api/v1/referrals/{made['id']}/fhir")
    assert response.status_code == 401


# --- the audit trail -------------------------------------------------------


def exports(app) -> list[AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "referral.fhir_exported")
                .order_by(AuditEvent.occurred_at)
            )
        )
        db.session.expunge_all()
        return found


def test_each_export_is_recorded_as_a_disclosure(app, client, world):
    made = referral_in(client, world, "in_progress")
    share_with(client, world, made["id"], world.charity)
    response = export(client, world.charity_worker, made["id"])
    assert response.status_code == 200
    (event,) = exports(app)
    assert event.record_type == "referral"
    assert event.record_id == made["id"]
    assert event.actor_user_id == world.charity_worker.user.id
    assert event.actor_organisation_id == world.charity.id
    assert event.request_id == response.headers["X-Request-ID"]
    assert "Patient" in (event.fields or [])
    assert "referral.fhir_exported" in audit.DISCLOSURES


def test_a_refused_export_records_no_export(app, client, world):
    made = referral_in(client, world, "in_progress")
    assert export(client, world.stranger, made["id"]).status_code == 404
    assert exports(app) == []


# --- media types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        (None, "application/fhir+json"),
        ("*/*", "application/fhir+json"),
        ("application/fhir+json", "application/fhir+json"),
        ("application/json", "application/json"),
        ("application/json, application/fhir+json;q=0.5", "application/json"),
        ("application/fhir+json, application/json;q=0.9", "application/fhir+json"),
    ],
)
def test_the_media_type_follows_the_accept_header(client, world, accept, served):
    made = referral_in(client, world, "submitted")
    headers = {} if accept is None else {"Accept": accept}
    response = export(client, world.officer, made["id"], **headers)
    assert response.status_code == 200
    assert response.mimetype == served
    assert json.loads(response.get_data())["resourceType"] == "Bundle"
