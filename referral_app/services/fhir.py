"""A referral as a FHIR R4 Bundle, for records systems that speak FHIR.

A `collection` Bundle: the resources are one referral packaged for
distribution, not the result of a search (`searchset`, which would need a
search mode on each entry) nor a signed clinical document (`document`,
which needs a Composition first). Each entry's fullUrl is `urn:uuid:<id>`
and the resources refer to each other by those URNs, so the Bundle stands
on its own without a FHIR server behind it.

It holds no more than the JSON API shows the same caller about the
referral, and less: the child as a minimal Patient (name, date of birth,
gender, postcode district), no school, address or aliases, no people's
names. The export is recorded as a disclosure (`referral.fhir_exported`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    Child,
    Organisation,
    Referral,
    ReferralStatus,
    StatusChange,
    User,
    utcnow,
)
from referral_app.models.consent import ConsentChange
from referral_app.services import audit
from referral_app.services import fhir_mapping as fm

FHIR_JSON = "application/fhir+json"
Resource = dict[str, Any]

# Task and Consent have no row of their own: their ids are derived from the
# referral's, so the same referral always gives the same URNs.
_TASK = uuid.UUID("5d3c2a1e-7f4b-4c0e-9a8d-2b6e1f0c9a71")
_CONSENT = uuid.UUID("8e1f4b2c-3a5d-4e6f-8b7a-9c0d1e2f3a42")


def system(path: str) -> str:
    """One of our code or identifier systems: under the service's public address."""
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + path


def urn(identifier: uuid.UUID) -> str:
    return f"urn:uuid:{identifier}"


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _reference(identifier: uuid.UUID, display: str | None = None) -> dict[str, str]:
    found = {"reference": urn(identifier)}
    if display:
        found["display"] = display
    return found


def _coding(path: str, code: object, display: str) -> dict[str, str]:
    return {"system": system(path), "code": str(code), "display": display}


def _pruned(resource: Resource) -> Resource:
    """Without the elements that have no value: FHIR has no nulls or empty lists."""
    return {key: value for key, value in resource.items() if value not in (None, [], {}, "")}


def referral_bundle(actor: User, referral: Referral) -> Resource:
    """The held referral (the caller's scoped read: services.scoping) as a
    FHIR R4 Bundle of type collection: ServiceRequest, Task, Patient, the two
    agencies as Organizations and, when the referral says, Consent. Records
    the export as a disclosure."""
    task_id = uuid.uuid5(_TASK, str(referral.id))
    resources: list[tuple[uuid.UUID, Resource]] = [
        (referral.id, service_request(referral)),
        (task_id, task(referral)),
        (referral.child_id, patient(referral.child)),
        (referral.referring_organisation_id, organization(referral.referring_organisation)),
        (referral.receiving_organisation_id, organization(referral.receiving_organisation)),
    ]
    found_consent = consent(referral)
    if found_consent is not None:
        resources.append((uuid.uuid5(_CONSENT, str(referral.id)), found_consent))
    audit.record(
        "referral.fhir_exported",
        actor,
        record_type="referral",
        record_id=referral.id,
        fields=[resource["resourceType"] for _, resource in resources],
    )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": utcnow().isoformat(),
        "entry": [
            {
                "fullUrl": urn(identifier),
                "resource": {"resourceType": resource["resourceType"], "id": str(identifier)}
                | resource,
            }
            for identifier, resource in resources
        ],
    }


def service_request(referral: Referral) -> Resource:
    """The referral itself: what is asked of the receiving agency, for whom and why."""
    worked = referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
    occurrence = None
    if referral.triaged_at is not None and (worked or referral.status is ReferralStatus.CLOSED):
        occurrence = _pruned(
            {"start": _instant(referral.triaged_at), "end": _instant(referral.closed_at)}
        )
    return _pruned(
        {
            "resourceType": "ServiceRequest",
            "identifier": [{"system": system(fm.REFERENCE_SYSTEM), "value": referral.reference}],
            "status": fm.SERVICE_REQUEST_STATUS[referral.status],
            "intent": "order",
            "category": [
                {
                    "coding": [
                        _coding(
                            fm.SERVICE_CATEGORY_SYSTEM,
                            "youth-crime-prevention",
                            "Support to keep a child out of crime",
                        )
                    ]
                }
            ],
            "priority": fm.PRIORITY.get(referral.risk_level) if referral.risk_level else None,
            "code": {"text": "Referral for support to keep a child out of crime"},
            "subject": _reference(referral.child_id),
            "occurrencePeriod": occurrence,
            "authoredOn": _instant(referral.submitted_at),
            "requester": _reference(
                referral.referring_organisation_id, referral.referring_organisation.name
            ),
            "performer": [
                _reference(referral.receiving_organisation_id, referral.receiving_organisation.name)
            ],
            # Each risk factor the referrer saw is a reason for the referral.
            "reasonCode": [
                {
                    "coding": [
                        _coding(
                            fm.RISK_FACTOR_SYSTEM,
                            factor,
                            fm.RISK_FACTOR_DISPLAY.get(factor, fm.words(factor)),
                        )
                    ]
                }
                for factor in referral.risk_factors or []
            ],
            # The referral's reason, as the JSON API shows it to every holder.
            "note": [{"text": referral.reason}] if referral.reason else None,
        }
    )


def task(referral: Referral) -> Resource:
    """The referral's workflow, in the Task states of the SDOH Clinical Care
    referral guide: who asked, who owns it, where it stands and what came of it."""
    status_reason = _status_reason(referral)
    return _pruned(
        {
            "resourceType": "Task",
            "status": fm.TASK_STATUS[referral.status],
            "statusReason": {"text": status_reason} if status_reason else None,
            "businessStatus": {
                "coding": [
                    _coding(
                        fm.REFERRAL_STATUS_SYSTEM,
                        referral.status,
                        fm.STATUS_DISPLAY[referral.status],
                    )
                ],
                "text": fm.STATUS_DISPLAY[referral.status],
            },
            "intent": "order",
            "priority": fm.PRIORITY.get(referral.risk_level) if referral.risk_level else None,
            "focus": _reference(referral.id),
            "for": _reference(referral.child_id),
            "executionPeriod": _pruned(
                {"start": _instant(referral.submitted_at), "end": _instant(referral.closed_at)}
            ),
            "authoredOn": _instant(referral.created_at),
            "lastModified": _instant(referral.updated_at),
            "requester": _reference(referral.referring_organisation_id),
            "owner": _reference(referral.receiving_organisation_id),
            "output": _outputs(referral) if referral.status is ReferralStatus.CLOSED else None,
        }
    )


def _status_reason(referral: Referral) -> str | None:
    """The reason given for a decline or a withdrawal (both required by the
    lifecycle); the JSON API shows both to holders (the referral's
    decline_reason, its history's reasons)."""
    if referral.status is ReferralStatus.DECLINED:
        return referral.decline_reason
    if referral.status is ReferralStatus.WITHDRAWN:
        return db.session.scalar(
            select(StatusChange.reason)
            .where(
                StatusChange.referral_id == referral.id,
                StatusChange.to_status == ReferralStatus.WITHDRAWN,
            )
            .order_by(StatusChange.at.desc())
            .limit(1)
        )
    return None


def _outputs(referral: Referral) -> list[Resource]:
    """The outcome of a closed referral: its code and the summary for the
    referrer, as two outputs (the smallest valid form: no Observation)."""
    outputs: list[Resource] = []
    if referral.outcome is not None:
        outputs.append(
            {
                "type": {"coding": [_coding(fm.TASK_OUTPUT_SYSTEM, "outcome", "Outcome")]},
                "valueCodeableConcept": {
                    "coding": [
                        _coding(
                            fm.OUTCOME_SYSTEM,
                            referral.outcome,
                            fm.OUTCOME_DISPLAY[referral.outcome],
                        )
                    ]
                },
            }
        )
    if referral.outcome_summary:
        outputs.append(
            {
                "type": {
                    "coding": [_coding(fm.TASK_OUTPUT_SYSTEM, "outcome-summary", "Outcome summary")]
                },
                "valueString": referral.outcome_summary,
            }
        )
    return outputs


def patient(child: Child) -> Resource:
    """The minimal Patient: name, date of birth, gender and the postcode's
    district (the outward code), all of which the JSON API shows every
    holder; nothing else about the child."""
    address = None
    if child.postcode:
        address = [{"postalCode": child.postcode.split()[0]}]
    return _pruned(
        {
            "resourceType": "Patient",
            "name": [{"family": child.last_name, "given": [child.first_name]}],
            "gender": fm.gender(child.gender),
            "birthDate": child.date_of_birth.isoformat(),
            "address": address,
        }
    )


def organization(organisation: Organisation) -> Resource:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": system(fm.ORGANISATION_CODE_SYSTEM), "value": organisation.code}],
        "active": organisation.active,
        "type": [
            {
                "coding": [
                    _coding(
                        fm.ORGANISATION_KIND_SYSTEM,
                        organisation.kind,
                        fm.ORGANISATION_KIND_DISPLAY[organisation.kind],
                    )
                ]
            }
        ],
        "name": organisation.name,
    }


def consent(referral: Referral) -> Resource | None:
    """The family's consent as the referral holds it now (the latest of its
    consent history), with the lawful basis the processing stands on as the
    policy rule; None while the referral says nothing about consent."""
    if referral.consent_status is None:
        return None
    latest = db.session.scalar(
        select(ConsentChange.occurred_at)
        .where(ConsentChange.referral_id == referral.id)
        .order_by(ConsentChange.recorded_at.desc(), ConsentChange.id.desc())
        .limit(1)
    )
    basis = referral.lawful_basis
    return _pruned(
        {
            "resourceType": "Consent",
            "status": fm.CONSENT_STATUS[referral.consent_status],
            "scope": {
                "coding": [
                    {
                        "system": fm.CONSENT_SCOPE_SYSTEM,
                        "code": "patient-privacy",
                        "display": "Privacy Consent",
                    }
                ]
            },
            "category": [
                {"coding": [{"system": fm.LOINC, "code": "59284-0", "display": "Patient Consent"}]}
            ],
            "patient": _reference(referral.child_id),
            "dateTime": _instant(latest or referral.created_at),
            "organization": [_reference(referral.referring_organisation_id)],
            "policy": [{"uri": fm.DATA_PROTECTION_ACT}],
            "policyRule": None
            if basis is None
            else {
                "coding": [_coding(fm.LAWFUL_BASIS_SYSTEM, basis, fm.LAWFUL_BASIS_DISPLAY[basis])],
                "text": fm.LAWFUL_BASIS_DISPLAY[basis],
            },
        }
    )
