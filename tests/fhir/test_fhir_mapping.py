"""The FHIR mappings as data (services/fhir_mapping.py): complete for every
value of our enums, within FHIR R4's value sets, and the same as the README's table."""

from __future__ import annotations

from pathlib import Path

import pytest

from referral_app.models import ConsentStatus, LawfulBasis, Outcome, ReferralStatus, RiskFactor
from referral_app.services import fhir_mapping
from tests.fhir.conftest import CONSENT_STATUSES, REQUEST_STATUSES, TASK_STATUSES

README = Path(__file__).resolve().parents[2] / "README.md"

# The Task states the SDOH Clinical Care referral guide uses.
SDOH_TASK_STATES = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "cancelled",
    "in-progress",
    "on-hold",
    "completed",
}


def test_every_referral_status_has_a_task_and_a_request_status():
    """A status added to the lifecycle without a FHIR state fails here."""
    assert set(fhir_mapping.TASK_STATUS) == set(ReferralStatus)
    assert set(fhir_mapping.SERVICE_REQUEST_STATUS) == set(ReferralStatus)
    assert set(fhir_mapping.TASK_STATUS.values()) <= SDOH_TASK_STATES & TASK_STATUSES
    assert set(fhir_mapping.SERVICE_REQUEST_STATUS.values()) <= REQUEST_STATUSES


def test_every_consent_status_and_lawful_basis_is_said():
    assert set(fhir_mapping.CONSENT_STATUS) == set(ConsentStatus)
    assert set(fhir_mapping.CONSENT_STATUS.values()) <= CONSENT_STATUSES
    assert set(fhir_mapping.LAWFUL_BASIS_DISPLAY) == set(LawfulBasis)


def test_every_outcome_and_risk_factor_has_a_display():
    assert set(fhir_mapping.OUTCOME_DISPLAY) == set(Outcome)
    assert set(fhir_mapping.RISK_FACTOR_DISPLAY) == {str(factor) for factor in RiskFactor}
    assert fhir_mapping.RISK_FACTOR_DISPLAY["county_lines"] == "County lines"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("  ", None),
        ("Male", "male"),
        ("girl", "female"),
        ("Prefer not to say", "unknown"),
        ("Non-binary", "other"),
    ],
)
def test_a_free_text_gender_becomes_an_administrative_gender(given, expected):
    assert fhir_mapping.gender(given) == expected


def test_the_readme_table_is_the_mapping():
    rows = {}
    for line in README.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in {str(status) for status in ReferralStatus}:
            rows[ReferralStatus(cells[0])] = (cells[1], cells[2])
    assert rows == {
        status: (fhir_mapping.TASK_STATUS[status], fhir_mapping.SERVICE_REQUEST_STATUS[status])
        for status in ReferralStatus
    }
