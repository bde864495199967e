"""The demo's agreements: loaded before the demo shares, which cite them
(or give a reason where no agreement covers the two agencies); one is near
its review date, so the morning job tells its managers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Share
from referral_app.models.agreement import Agreement
from referral_app.services import agreement_reviews


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    yield
    with app.app_context():
        db.engine.dispose()


def test_demo_shares_cite_the_demo_agreements_or_give_a_reason(app: Flask) -> None:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        found = {a.reference: a for a in db.session.scalars(select(Agreement))}
        assert set(found) == {"ISA-ESX-2025-03", "ISA-YJS-SF-2026-01"}
        shares = list(db.session.scalars(select(Share)))
        assert shares
        for grant in shares:
            assert (grant.agreement_id is None) != (grant.no_agreement_reason is None)
        cited = {grant.agreement_id for grant in shares} - {None}
        assert cited == {agreement.id for agreement in found.values()}
        assert any(grant.no_agreement_reason for grant in shares)
        assert agreement_reviews.notify_reviews_due() == 1  # the partnership, due in three weeks
        db.session.rollback()
