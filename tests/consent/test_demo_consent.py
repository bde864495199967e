"""The demo's consent story (services.demo_consent): a referral whose
consent was given, then withdrawn by the mother, with its share to the
youth charity waiting for the youth justice service's decision."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Action, ActionStatus, ConsentStatus, Referral, Share
from referral_app.models.consent import ConsentChange, ConsentMethod
from referral_app.services import consent_decisions
from tests.test_demo import person, runner, seeded  # noqa: F401 (fixtures)


def test_the_demo_has_a_withdrawal_waiting_for_a_decision(app: Flask, seeded) -> None:  # noqa: F811
    with app.app_context():
        [grant] = db.session.scalars(
            select(Share).where(
                Share.consent_withdrawn_at.is_not(None), Share.consent_decision.is_(None)
            )
        ).all()
        assert grant.organisation.code == "safer-futures"
        referral = db.session.get(Referral, grant.referral_id)
        assert referral is not None
        assert referral.consent_status is ConsentStatus.WITHDRAWN
        changes = list(
            db.session.scalars(
                select(ConsentChange)
                .where(ConsentChange.referral_id == referral.id)
                .order_by(ConsentChange.recorded_at)
            )
        )
        assert [change.method for change in changes] == [
            ConsentMethod.ON_THE_REFERRAL,
            ConsentMethod.IN_PERSON,
            ConsentMethod.PHONE,
        ]
        action = db.session.get(Action, grant.consent_action_id)
        assert action is not None
        assert action.status is ActionStatus.OPEN
        assert action.owning_organisation.code == "essex-yjs"
        # The youth justice manager may decide; the police manager may not.
        assert consent_decisions.may_decide(person("manager@essex-yjs.demo"), referral, grant)
        assert not consent_decisions.may_decide(
            person("manager@essex-police.demo"), referral, grant
        )
