"""The FHIR export's tests: the referral world (police refers to youth
justice, a charity may be given a share), the export fetched, and the
Bundle checked against the FHIR models (fhir.resources, R4B: the R4 line's
models) and against the R4 value sets the models leave unchecked."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask.testing import FlaskClient

from tests.referral_helpers import Actor, World, act, advance, create, make_world

# Required bindings of FHIR R4 that the models accept any code for: a value
# outside these would pass Bundle.model_validate, so they are checked here.
TASK_STATUSES = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
}
REQUEST_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"}
REQUEST_PRIORITIES = {"routine", "urgent", "asap", "stat"}
CONSENT_STATUSES = {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
GENDERS = {"male", "female", "other", "unknown"}

# Every status a referral can be in, and reopened (closed, then in progress again).
STATUSES = (
    "draft",
    "submitted",
    "accepted",
    "in_progress",
    "declined",
    "withdrawn",
    "closed",
    "reopened",
)


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


def referral_in(client: FlaskClient, world: World, status: str, **overrides: Any) -> dict:
    """A referral from the police to youth justice, driven to `status`."""
    made = create(client, world.officer, world.yjs, **overrides)
    if status == "reopened":
        advance(client, world, made["id"], "closed")
        reopened = act(client, world.yjs_manager, made["id"], "reopen", reason="Back in touch.")
        assert reopened.status_code == 200, reopened.json
    else:
        advance(client, world, made["id"], status)
    return made


def export(client: FlaskClient, actor: Actor, referral_id: str, **headers: str):
    return client.get(f"/api/v1/referrals/{referral_id}/fhir", headers={**actor.headers, **headers})


def bundle_of(client: FlaskClient, actor: Actor, referral_id: str) -> dict[str, Any]:
    response = export(client, actor, referral_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json(force=True)
    assert isinstance(body, dict)
    return body


def validate(bundle: dict[str, Any]) -> Bundle:
    """The Bundle through the FHIR models, then the required bindings and
    the invariants the models do not check; every reference resolves
    inside the Bundle."""
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    for reference in references(bundle["entry"]):
        assert reference in full_urls, reference
    task = resource(bundle, "Task")
    assert task["status"] in TASK_STATUSES
    request = resource(bundle, "ServiceRequest")
    assert request["status"] in REQUEST_STATUSES
    for found in (task, request):
        assert found.get("priority", "routine") in REQUEST_PRIORITIES
    consents = resources(bundle, "Consent")
    for consent in consents:
        assert consent["status"] in CONSENT_STATUSES
        assert "policy" in consent or "policyRule" in consent  # ppc-1
    patient = resource(bundle, "Patient")
    assert patient.get("gender", "unknown") in GENDERS
    return parsed


def references(value: Any) -> list[str]:
    """Every `reference` anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = resources(bundle, kind)
    return found
