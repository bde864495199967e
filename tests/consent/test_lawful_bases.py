"""Lawful bases per agency kind: the law enforcement purposes (DPA 2018
Part 3) only for a competent authority (police, youth justice), and the
special category condition that goes with the basis; refused by the API
with 422 naming the field, and what the service offers."""

from __future__ import annotations

import pytest

from referral_app.models import LawfulBasis, OrganisationKind, SpecialCategoryCondition
from referral_app.services.consent import conditions_for, lawful_bases_for
from tests.referral_helpers import create, referral_body


@pytest.mark.parametrize("kind", list(OrganisationKind))
def test_only_competent_authorities_are_offered_law_enforcement(kind):
    offered = lawful_bases_for(kind)
    competent = kind in (OrganisationKind.POLICE, OrganisationKind.YOUTH_JUSTICE)
    assert (LawfulBasis.LAW_ENFORCEMENT in offered) is competent
    assert LawfulBasis.PUBLIC_TASK in offered


def test_each_basis_has_its_special_category_condition():
    assert conditions_for(LawfulBasis.LAW_ENFORCEMENT) == (
        SpecialCategoryCondition.LAW_ENFORCEMENT_SAFEGUARDING,
    )
    for basis in (LawfulBasis.PUBLIC_TASK, LawfulBasis.CONSENT, None):
        assert conditions_for(basis) == (SpecialCategoryCondition.SAFEGUARDING_CHILDREN,)


def test_the_police_refer_for_law_enforcement_purposes(client, world):
    made = create(
        client,
        world.officer,
        world.yjs,
        lawful_basis="law_enforcement",
        special_category_condition="law_enforcement_safeguarding",
    )
    assert made["lawful_basis"] == "law_enforcement"
    assert made["special_category_condition"] == "law_enforcement_safeguarding"


def test_a_council_cannot_claim_law_enforcement(client, world):
    body = referral_body(world.yjs, lawful_basis="law_enforcement")
    refused = client.post("/api/v1/referrals", json=body, headers=world.stranger.headers)
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["lawful_basis"]


def test_the_condition_must_go_with_the_basis(client, world):
    body = referral_body(
        world.yjs,
        lawful_basis="public_task",
        special_category_condition="law_enforcement_safeguarding",
    )
    refused = client.post("/api/v1/referrals", json=body, headers=world.officer.headers)
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["special_category_condition"]
    made = create(
        client, world.stranger, world.yjs, special_category_condition="safeguarding_children"
    )
    assert made["special_category_condition"] == "safeguarding_children"


def test_an_edit_cannot_bring_in_a_basis_that_does_not_apply(client, world):
    made = create(client, world.stranger, world.yjs)
    etag = client.get(f"/api/v1/referrals/{made['id']}", headers=world.stranger.headers).headers[
        "ETag"
    ]
    refused = client.patch(
        f"/api/v1/referrals/{made['id']}",
        json={"lawful_basis": "law_enforcement"},
        headers={**world.stranger.headers, "If-Match": etag},
    )
    assert refused.status_code == 422
    assert "lawful_basis" in refused.json["errors"]


def test_clients_that_send_no_condition_keep_working(client, world):
    made = create(client, world.officer, world.yjs)
    assert made["special_category_condition"] is None
