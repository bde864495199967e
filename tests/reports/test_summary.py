"""The summary report: its numbers against a hand-counted set of referrals
(tests/reports/fixtures.py), its range rules, who may read it, and that
another agency's referrals never reach it."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from referral_app import report_periods
from referral_app.extensions import db
from referral_app.models import AuditEvent, Referral
from referral_app.services import reports
from referral_app.services.errors import Invalid
from tests.referral_helpers import act, create, make_world
from tests.reports.fixtures import (
    DATE_FROM,
    DATE_TO,
    EXPECTED_INCOMING,
    EXPECTED_OUTGOING,
    build,
)

SUMMARY = "/api/v1/reports/summary"


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


@pytest.fixture
def fixture(app, client, world):
    return build(app, client, world)


def get_summary(client, actor, **query):
    return client.get(SUMMARY, query_string=query, headers=actor.headers)


def test_summary_matches_the_hand_count(client, fixture):
    response = get_summary(client, fixture.world.yjs_manager, **{"from": DATE_FROM, "to": DATE_TO})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["from"] == DATE_FROM
    assert body["to"] == DATE_TO
    assert body["organisation"]["id"] == str(fixture.world.yjs.id)
    assert body["incoming"] == EXPECTED_INCOMING
    assert body["outgoing"] == EXPECTED_OUTGOING


def test_the_referring_agency_counts_the_same_referrals_as_sent(client, fixture):
    """The police's view of the same referrals: what the YJS received, the
    police sent (plus its draft and the referral it sent the charity)."""
    police = get_summary(
        client, fixture.world.police_manager, **{"from": DATE_FROM, "to": DATE_TO}
    ).json
    assert police["incoming"]["total"] == 0
    # I1-I8, the police's two drafts and the referral to the charity.
    assert police["outgoing"]["total"] == 11
    assert police["outgoing"]["by_status"]["draft"] == 1
    assert police["outgoing"]["by_status"]["withdrawn"] == 2
    assert police["outgoing"]["time_to_triage"] == {
        "count": 6,  # the YJS's five, and the charity's one hour
        "median_hours": 25.0,
        "p90_hours": 45.0,
    }


def test_shared_and_other_agencies_referrals_are_not_counted(client, fixture):
    """The charity shared one referral with the YJS; another agency's referral
    went to the charity. Neither is in the YJS's report, and an agency that
    holds none of them reports nothing."""
    yjs = get_summary(client, fixture.world.yjs_manager, **{"from": DATE_FROM, "to": DATE_TO})
    assert yjs.json["incoming"]["total"] + yjs.json["outgoing"]["total"] == 13
    stranger = get_summary(
        client, fixture.world.stranger_manager, **{"from": DATE_FROM, "to": DATE_TO}
    ).json
    # The stranger agency sent one referral; nothing else of the fixture.
    assert stranger["outgoing"]["total"] == 1
    assert stranger["incoming"]["total"] == 0
    assert sum(stranger["incoming"]["by_risk_factor"].values()) == 0
    assert stranger["outgoing"]["by_risk_factor"]["county_lines"] == 1


def test_the_range_is_whole_utc_days_both_ends_included(client, fixture):
    manager = fixture.world.yjs_manager
    june = get_summary(client, manager, **{"from": "2025-06-30", "to": "2025-06-30"}).json
    assert june["incoming"]["total"] == 1  # I7, submitted 23:30 on the last day
    assert june["incoming"]["monthly"] == [{"month": "2025-06", "count": 1}]
    new_year = get_summary(client, manager, **{"from": "2024-12-31", "to": "2024-12-31"}).json
    assert new_year["incoming"]["total"] == 1  # submitted at 23:59
    # O5, a draft created in November 2024, and O6, created in December but
    # submitted in January, fall by the dates that count for each.
    autumn = get_summary(client, manager, **{"from": "2024-11-01", "to": "2024-12-31"}).json
    assert autumn["outgoing"]["total"] == 1
    assert autumn["outgoing"]["by_status"]["draft"] == 1


def test_default_range_is_the_last_twelve_calendar_months(client, world):
    response = get_summary(client, world.yjs_manager)
    assert response.status_code == 200
    body = response.json
    today = reports.utcnow().date()
    assert body["to"] == today.isoformat()
    assert len(body["incoming"]["monthly"]) == 12
    assert body["incoming"]["monthly"][-1]["month"] == today.strftime("%Y-%m")
    assert body["from"].endswith("-01")


def test_a_new_referral_is_counted_today(client, world):
    referral = create(client, world.officer, world.yjs, risk_level="low")
    assert (
        client.post(
            f"/api/v1/referrals/{referral['id']}/transitions",
            json={"action": "submit"},
            headers=world.officer.headers,
        ).status_code
        == 200
    )
    body = get_summary(client, world.yjs_manager).json
    assert body["incoming"]["total"] == 1
    assert body["incoming"]["by_status"]["submitted"] == 1
    assert body["incoming"]["monthly"][-1]["count"] == 1
    assert body["incoming"]["time_to_triage"] == {
        "count": 0,
        "median_hours": None,
        "p90_hours": None,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-06-01", "to": "2025-05-31"}, "to"),  # ends before it starts
        ({"from": "2020-01-01", "to": "2025-01-01"}, "to"),  # five years and a day
        ({"from": "1999-12-31", "to": "2000-01-31"}, "from"),
        ({"from": "2025-01-01", "to": "9999-12-31"}, "to"),
        ({"to": "0001-01-05"}, "to"),  # no default `from` eleven months before it
        ({"from": "2025-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
    ],
)
def test_invalid_ranges_are_refused_field_by_field(client, world, query, field):
    response = get_summary(client, world.yjs_manager, **query)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_service_refuses_dates_out_of_bounds_before_working_out_defaults():
    with pytest.raises(Invalid) as refused:
        reports.resolve_range(None, date(1, 1, 5))
    assert refused.value.errors == {"to": ["Choose a date from 2000-01-01 to 2099-12-31."]}
    early = reports.resolve_range(None, date(2000, 3, 1))
    assert early.date_from == report_periods.EARLIEST_DATE


def test_five_years_exactly_is_allowed(client, world):
    response = get_summary(client, world.yjs_manager, **{"from": "2020-01-01", "to": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.json["outgoing"]["monthly"]) == 60


@pytest.mark.parametrize("who", ["officer", "caseworker", "yjs_referrer"])
def test_case_workers_who_are_not_managers_are_refused(client, world, who):
    assert get_summary(client, getattr(world, who)).status_code == 403


def test_admins_and_auditors_are_refused(client, factory, world):
    from referral_app.models import Role
    from tests.factories import bearer, token_for

    for role in (Role.ORG_ADMIN, Role.AUDITOR, Role.SYSTEM_ADMIN):
        user = factory.user(role, organisation=world.yjs)
        response = client.get(SUMMARY, headers=bearer(token_for(client, user)))
        assert response.status_code == 403, role


def test_anonymous_callers_are_refused(client):
    assert client.get(SUMMARY).status_code == 401


def test_the_summary_is_audited_without_personal_data(app, client, world):
    response = get_summary(client, world.yjs_manager, **{"from": DATE_FROM, "to": DATE_TO})
    assert response.status_code == 200
    with app.app_context():
        event_row = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "report.summary")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event_row is not None
        assert event_row.actor_user_id == world.yjs_manager.user.id
        assert event_row.actor_organisation_id == world.yjs.id
        assert event_row.record_type == "report"
        assert event_row.record_id is None
        assert event_row.record_ids is None
        assert event_row.reason == f"referrals in and out, {DATE_FROM} to {DATE_TO}"


def test_the_summary_takes_the_same_few_queries_however_many_referrals(app, client, world):
    """Counting is done by the database: adding referrals adds no query."""

    def queries_for_summary() -> int:
        with app.app_context():
            from referral_app.models import User

            actor = db.session.get(User, world.yjs_manager.user.id)
            statements: list[str] = []

            def count(*args, **kwargs):
                statements.append(args[2])

            engine = db.engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                reports.summary(actor)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            db.session.rollback()
            return len(statements)

    create(client, world.officer, world.yjs)
    few = queries_for_summary()
    for _ in range(5):
        referral = create(client, world.officer, world.yjs, risk_factors=["county_lines"])
        client.post(
            f"/api/v1/referrals/{referral['id']}/transitions",
            json={"action": "submit"},
            headers=world.officer.headers,
        )
    assert queries_for_summary() == few
    # Four for the referrals in and out, three for the follow-up (actions by
    # agency, meetings and children reviewed, time to a first meeting), one
    # for the screenings' themes, one for the directory services named.
    assert few <= 10, few


def test_percentile_interpolates_like_percentile_cont():
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([7.0], 0.9) == 7.0
    assert reports.percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.5) == 30.0
    assert reports.percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)
    assert reports.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


def test_a_referral_whose_risk_factors_are_json_null_is_still_counted(app, client, world):
    """The services always store a list (and the column is NOT NULL); a row
    holding JSON null instead counts under no risk factor rather than
    breaking the report (PostgreSQL refuses to unnest a scalar)."""
    ids = []
    for _ in range(2):
        referral = create(client, world.officer, world.yjs, risk_factors=["county_lines"])
        assert act(client, world.officer, referral["id"], "submit").status_code == 200
        ids.append(uuid.UUID(referral["id"]))
    with app.app_context():
        db.session.execute(
            sa.update(Referral).where(Referral.id == ids[0]).values(risk_factors=None)
        )
        db.session.commit()
    body = get_summary(client, world.yjs_manager).json
    assert body["incoming"]["total"] == 2
    assert body["incoming"]["by_risk_factor"]["county_lines"] == 1
