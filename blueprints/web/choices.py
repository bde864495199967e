"""The fixed vocabularies the referral pages offer, as (value, label) pairs
for radios, checkboxes and selects."""

from __future__ import annotations

from typing import Any

from referral_app.models import (
    ConsentStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Outcome,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    SpecialCategoryCondition,
)
from referral_app.models.organisation import OrganisationKind
from referral_app.services import consent
from referral_app.templating import label

CHOICES: dict[str, Any] = {
    "risk_levels": list(RiskLevel),
    "risk_factors": list(RiskFactor),
    # A withdrawal is recorded in the consent history (blueprints/web/consent.py).
    "consent_statuses": [
        status for status in ConsentStatus if status is not ConsentStatus.WITHDRAWN
    ],
    "lawful_bases": list(LawfulBasis),
    "outcomes": list(Outcome),
    "note_kinds": list(NoteKind),
    "visibilities": list(NoteVisibility),
    "statuses": list(ReferralStatus),
}
CHOICES["options"] = {  # (value, label) pairs for radios and selects
    name: [(str(value), label(value)) for value in values] for name, values in CHOICES.items()
}
CHILD_INPUTS = ("first_name", "last_name", "gender", "address", "postcode", "school")

# The lawful bases and special category conditions a referral form offers,
# by the referring agency's kind (services.consent says which apply), with
# the law they rest on in plain English.
BASIS_HINTS = {
    LawfulBasis.PUBLIC_TASK: "UK GDPR Article 6(1)(e): your agency's public functions, "
    "such as its duty to safeguard children.",
    LawfulBasis.LEGAL_OBLIGATION: "UK GDPR Article 6(1)(c): a law requires you to share.",
    LawfulBasis.VITAL_INTERESTS: "UK GDPR Article 6(1)(d): to protect someone's life.",
    LawfulBasis.CONSENT: "UK GDPR Article 6(1)(a): the child or their parent or carer agreed.",
    LawfulBasis.LAW_ENFORCEMENT: "Data Protection Act 2018 Part 3: the police and youth "
    "justice services preventing, investigating or prosecuting crime (section 31).",
}
CONDITION_HINTS = {
    SpecialCategoryCondition.SAFEGUARDING_CHILDREN: "UK GDPR Article 9 and Data Protection Act "
    "2018 Schedule 1 paragraph 18: to protect a child or an adult at risk from harm.",
    SpecialCategoryCondition.LAW_ENFORCEMENT_SAFEGUARDING: "Data Protection Act 2018 section 35 "
    "and Schedule 8 paragraph 4: the same, when you process for law enforcement purposes.",
}
CONDITION_WORDS = {
    SpecialCategoryCondition.SAFEGUARDING_CHILDREN: "Safeguarding of children and of "
    "individuals at risk",
    SpecialCategoryCondition.LAW_ENFORCEMENT_SAFEGUARDING: "Safeguarding, for law enforcement "
    "purposes",
}


def _conditions_for_kind(kind: OrganisationKind) -> list[SpecialCategoryCondition]:
    found: list[SpecialCategoryCondition] = []
    for basis in consent.lawful_bases_for(kind):
        found += [c for c in consent.conditions_for(basis) if c not in found]
    return sorted(found, key=list(SpecialCategoryCondition).index)


CHOICES["options"]["lawful_bases_by_kind"] = {
    str(kind): [
        (str(basis), label(basis), BASIS_HINTS[basis]) for basis in consent.lawful_bases_for(kind)
    ]
    for kind in OrganisationKind
}
CHOICES["options"]["conditions_by_kind"] = {
    str(kind): [
        (str(condition), CONDITION_WORDS[condition], CONDITION_HINTS[condition])
        for condition in _conditions_for_kind(kind)
    ]
    for kind in OrganisationKind
}
