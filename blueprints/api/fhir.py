"""A referral as a FHIR R4 Bundle (services/fhir.py), for records systems
that speak FHIR. Read by the agencies that hold the referral, like the
referral itself; every export recorded as a disclosure.

Served as `application/fhir+json` by default: it is FHIR's own media type
(what a FHIR client asks for and a FHIR server answers), and `*/*` or no
Accept gets it. A client that asks for `application/json` and not the FHIR
type (a plain JSON client, or one generated from this OpenAPI document) gets
the same body labelled `application/json`, as FHIR servers also do."""

from __future__ import annotations

import uuid

from flask import Response, current_app, request
from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.policy import Permission, requires
from referral_app.services import fhir
from referral_app.services.scoping import get_held_referral

JSON = "application/json"

_PATIENT = "urn:uuid:0b6f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b"
_REFERRING = "urn:uuid:5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
_RECEIVING = "urn:uuid:6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c"
_REFERRAL = "urn:uuid:7c2e5b3a-4d6f-4a8b-9c0d-1e2f3a4b5c6d"
_OURS = "https://referrals.example.org/fhir"

BUNDLE_EXAMPLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "timestamp": "2026-11-30T10:15:00+00:00",
    "entry": [
        {
            "fullUrl": _REFERRAL,
            "resource": {
                "resourceType": "ServiceRequest",
                "id": _REFERRAL.removeprefix("urn:uuid:"),
                "identifier": [
                    {"system": f"{_OURS}/sid/referral-reference", "value": "R-2026-0042"}
                ],
                "status": "active",
                "intent": "order",
                "priority": "urgent",
                "subject": {"reference": _PATIENT},
                "authoredOn": "2026-11-28T09:30:00+00:00",
                "requester": {"reference": _REFERRING, "display": "Essex Police"},
                "performer": [{"reference": _RECEIVING, "display": "Southend Youth Justice"}],
                "reasonCode": [
                    {
                        "coding": [
                            {
                                "system": f"{_OURS}/CodeSystem/risk-factor",
                                "code": "county_lines",
                                "display": "County lines",
                            }
                        ]
                    }
                ],
                "note": [{"text": "Found with cash and two phones after a missing episode."}],
            },
        },
        {
            "fullUrl": "urn:uuid:1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
            "resource": {
                "resourceType": "Task",
                "id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
                "status": "accepted",
                "businessStatus": {"text": "Accepted"},
                "intent": "order",
                "focus": {"reference": _REFERRAL},
                "for": {"reference": _PATIENT},
                "lastModified": "2026-11-29T14:02:00+00:00",
                "requester": {"reference": _REFERRING},
                "owner": {"reference": _RECEIVING},
            },
        },
        {
            "fullUrl": _PATIENT,
            "resource": {
                "resourceType": "Patient",
                "id": _PATIENT.removeprefix("urn:uuid:"),
                "name": [{"family": "Smith", "given": ["Jordan"]}],
                "birthDate": "2011-04-02",
                "address": [{"postalCode": "CM1"}],
            },
        },
    ],
}

_BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 Bundle of type `collection`: the referral as a ServiceRequest, "
    "its workflow as a Task (the SDOH Clinical Care referral states), the child as a minimal "
    "Patient, the referring and receiving agencies as Organizations and, when the referral "
    "records it, the family's Consent with the lawful basis. Each entry's fullUrl is "
    "`urn:uuid:<id>`; references use those URNs.",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["collection"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource"],
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {"type": "object", "additionalProperties": True},
                },
            },
        },
    },
}

blp = Blueprint(
    "fhir",
    __name__,
    description="A referral as a FHIR R4 Bundle, for records systems that speak FHIR.",
)


def media_type() -> str:
    """What the caller's Accept header asks for: the FHIR type unless it
    prefers plain JSON."""
    best = request.accept_mimetypes.best_match([fhir.FHIR_JSON, JSON], default=fhir.FHIR_JSON)
    return best or fhir.FHIR_JSON


@blp.route("/referrals/<uuid:referral_id>/fhir")
class ReferralBundle(MethodView):
    @requires(Permission.REFERRALS_READ)
    @blp.doc(
        responses={
            200: {
                "description": "The referral as a FHIR R4 Bundle. `application/fhir+json` "
                "unless the Accept header prefers `application/json` (the same body).",
                "content": {
                    fhir.FHIR_JSON: {"schema": _BUNDLE_SCHEMA, "example": BUNDLE_EXAMPLE},
                    JSON: {"schema": _BUNDLE_SCHEMA, "example": BUNDLE_EXAMPLE},
                },
            }
        }
    )
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, referral_id: uuid.UUID) -> Response:
        """The referral as a FHIR R4 Bundle (recorded as a disclosure).

        A ServiceRequest, a Task in the SDOH Clinical Care referral states,
        the minimal Patient, the two agencies and the Consent; no more than
        the referral's JSON shows the caller. 404 for a referral the
        caller's agency does not hold."""
        referral = get_held_referral(current_user, referral_id)
        bundle = fhir.referral_bundle(current_user, referral)
        return current_app.response_class(current_app.json.dumps(bundle), mimetype=media_type())
