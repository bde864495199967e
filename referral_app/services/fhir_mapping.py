"""How a referral's values are said in FHIR R4 (services.fhir builds the
Bundle): the tables, as data, so that the README, the tests and the export
read the same mapping.

Task statuses follow the HL7 SDOH Clinical Care referral guide's Task
states (draft, requested, accepted, rejected, cancelled, in-progress,
completed); ServiceRequest statuses are FHIR's request-status codes."""

from __future__ import annotations

from referral_app.models import (
    ConsentStatus,
    LawfulBasis,
    OrganisationKind,
    Outcome,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
)

S = ReferralStatus

# Our code systems and identifier systems, each under the service's public
# address (PUBLIC_BASE_URL): "https://<our host>/fhir/CodeSystem/risk-factor".
RISK_FACTOR_SYSTEM = "/fhir/CodeSystem/risk-factor"
REFERRAL_STATUS_SYSTEM = "/fhir/CodeSystem/referral-status"
OUTCOME_SYSTEM = "/fhir/CodeSystem/outcome"
LAWFUL_BASIS_SYSTEM = "/fhir/CodeSystem/lawful-basis"
ORGANISATION_KIND_SYSTEM = "/fhir/CodeSystem/organisation-kind"
SERVICE_CATEGORY_SYSTEM = "/fhir/CodeSystem/service-category"
TASK_OUTPUT_SYSTEM = "/fhir/CodeSystem/task-output"
REFERENCE_SYSTEM = "/fhir/sid/referral-reference"
ORGANISATION_CODE_SYSTEM = "/fhir/sid/organisation-code"

# HL7's code systems.
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
# The law every lawful basis stands under: the Data Protection Act 2018
# (which carries the UK GDPR), named in every Consent's `policy`.
DATA_PROTECTION_ACT = "https://www.legislation.gov.uk/ukpga/2018/12/contents"

# The referral's workflow as a Task (SDOH Clinical Care). A reopened referral
# is in progress again, so it needs no state of its own.
TASK_STATUS: dict[ReferralStatus, str] = {
    S.DRAFT: "draft",
    S.SUBMITTED: "requested",
    S.ACCEPTED: "accepted",
    S.IN_PROGRESS: "in-progress",
    S.DECLINED: "rejected",
    S.WITHDRAWN: "cancelled",
    S.CLOSED: "completed",
}

# The referral as a ServiceRequest (request-status): active while it is
# asked for or worked, revoked once declined or withdrawn.
SERVICE_REQUEST_STATUS: dict[ReferralStatus, str] = {
    S.DRAFT: "draft",
    S.SUBMITTED: "active",
    S.ACCEPTED: "active",
    S.IN_PROGRESS: "active",
    S.DECLINED: "revoked",
    S.WITHDRAWN: "revoked",
    S.CLOSED: "completed",
}

# request-priority: a high risk is urgent; the rest routine (FHIR has no
# "low" below routine).
PRIORITY: dict[RiskLevel, str] = {
    RiskLevel.HIGH: "urgent",
    RiskLevel.MEDIUM: "routine",
    RiskLevel.LOW: "routine",
}

# Consent.status. Not sought is "draft": the family was never asked, so no
# consent is in force and none was refused ("proposed" would say it was
# offered to them, "rejected" that they said no); the processing stands on
# the lawful basis in policyRule. (R5's "not-done" says it exactly; R4 has
# no such state.)
CONSENT_STATUS: dict[ConsentStatus, str] = {
    ConsentStatus.OBTAINED_FROM_CHILD: "active",
    ConsentStatus.OBTAINED_FROM_PARENT: "active",
    ConsentStatus.REFUSED: "rejected",
    ConsentStatus.WITHDRAWN: "inactive",
    ConsentStatus.NOT_SOUGHT: "draft",
}

LAWFUL_BASIS_DISPLAY: dict[LawfulBasis, str] = {
    LawfulBasis.PUBLIC_TASK: "UK GDPR Article 6(1)(e): public task",
    LawfulBasis.LEGAL_OBLIGATION: "UK GDPR Article 6(1)(c): legal obligation",
    LawfulBasis.VITAL_INTERESTS: "UK GDPR Article 6(1)(d): vital interests",
    LawfulBasis.CONSENT: "UK GDPR Article 6(1)(a): consent",
    LawfulBasis.LAW_ENFORCEMENT: "DPA 2018 Part 3: the law enforcement purposes (s.31)",
}

# Patient.gender is FHIR's administrative gender; ours is free text, so the
# common answers are recognised and anything else given is "other".
GENDER: dict[str, str] = {
    "male": "male",
    "m": "male",
    "boy": "male",
    "female": "female",
    "f": "female",
    "girl": "female",
    "unknown": "unknown",
    "not known": "unknown",
    "prefer not to say": "unknown",
}


def words(value: object) -> str:
    """An enum value as words: "county_lines" -> "County lines"."""
    return str(value).replace("_", " ").capitalize()


def gender(given: str | None) -> str | None:
    """The administrative gender for what the referral says, or None when it says nothing."""
    if given is None or not given.strip():
        return None
    return GENDER.get(given.strip().lower(), "other")


# Every value of our enums has a display: the code systems are complete.
RISK_FACTOR_DISPLAY = {str(factor): words(factor) for factor in RiskFactor}
OUTCOME_DISPLAY = {outcome: words(outcome) for outcome in Outcome}
STATUS_DISPLAY = {status: words(status) for status in ReferralStatus}
ORGANISATION_KIND_DISPLAY = {kind: words(kind) for kind in OrganisationKind}
