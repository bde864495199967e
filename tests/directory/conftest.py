"""The directory's tests: the hand-written Open Referral UK feed
(oruk_services.json: eight records, two that cannot be read, one
inactive, one run by an agency here), imported as the command line does,
and the referral world (police refers to youth justice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import DirectoryService, OrganisationKind
from referral_app.services import organisations
from tests.factories import Factory, OrgInfo, commit_and_seal
from tests.referral_helpers import World, make_world

FEED = Path(__file__).with_name("oruk_services.json")
# The provider of oruk-essex-0008, as the feed names it: an agency here.
PROVIDER_AGENCY = "Directory Test Youth Justice"


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def provider_agency(app: Flask) -> OrgInfo:
    with app.app_context():
        made = organisations.create_organisation(
            None,
            code="directory-test-yjs",
            name=PROVIDER_AGENCY,
            kind=OrganisationKind.YOUTH_JUSTICE,
        )
        commit_and_seal(app)
        return OrgInfo(made.id, made.code, made.name)


@pytest.fixture
def imported(app: Flask, runner: FlaskCliRunner, provider_agency: OrgInfo) -> dict[str, str]:
    """The feed imported; {ORUK id: our id} of what it holds."""
    result = runner.invoke(args=["directory", "import", str(FEED), "--feed", "essex"])
    assert result.exit_code == 0, result.output
    return service_ids(app)


def service_ids(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(select(DirectoryService.source_id, DirectoryService.id))
        return {source_id: str(service_id) for source_id, service_id in rows}


@pytest.fixture
def world(client: FlaskClient, factory: Factory) -> World:
    return make_world(client, factory)
