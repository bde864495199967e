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
)
from referral_app.templating import label

CHOICES: dict[str, Any] = {
    "risk_levels": list(RiskLevel),
    "risk_factors": list(RiskFactor),
    "consent_statuses": list(ConsentStatus),
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
