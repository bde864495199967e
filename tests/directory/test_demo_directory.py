"""The demo's directory: six Essex diversion services, the Youth Justice
Service's linked to it, loaded once (a second run adds nothing)."""

from __future__ import annotations

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import DirectoryService, OrganisationKind
from referral_app.services import demo_directory, organisations


def test_the_demo_services_load_once(app):
    with app.app_context():
        yjs = organisations.create_organisation(
            None, code="essex-yjs-demo-test", name="Essex Youth Justice Service",
            kind=OrganisationKind.YOUTH_JUSTICE,
        )  # fmt: skip
        first = demo_directory.load_directory()
        again = demo_directory.load_directory()
        assert first is not None
        assert (first.created, first.skipped) == (6, [])
        assert again is None
        services = db.session.scalars(
            select(DirectoryService).where(DirectoryService.source_feed == demo_directory.FEED)
        ).all()
        assert len(services) == 6
        linked = {service.name for service in services if service.organisation_id == yjs.id}
        assert linked == {"Turnaround: early intervention"}
        db.session.rollback()
