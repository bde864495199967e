"""`flask seed-demo`: the demo agencies, users and about forty referrals at
every stage of the loop, made through the services, so that every demo user
who works cases finds a populated worklist. Run through the CLI runner on
the suite's database, inside the test's rolled-back transaction (as
tests/test_cli.py does)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from referral_app import create_app
from referral_app.config import ProductionConfig
from referral_app.extensions import db
from referral_app.models import (
    AuditEvent,
    Child,
    Note,
    NoteKind,
    NoteVisibility,
    Notification,
    NotificationKind,
    Organisation,
    OutboxEmail,
    Outcome,
    Referral,
    ReferralStatus,
    Share,
    StatusChange,
    User,
    utcnow,
)
from referral_app.services import audit, demo_referrals, lifecycle
from referral_app.services.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    PRODUCTION_REFUSAL,
    DemoUser,
)
from referral_app.services.demo_stories import CHILDREN
from referral_app.services.referrals import ReferralFilters, list_referrals
from schemas.referral import ChildInputSchema, ReferralFieldsSchema
from tests.conftest import csrf_token

ESSEX_POSTCODE_AREAS = ("CM", "CO", "SS", "IG10", "CB11")
TABLES = (Organisation, User, Child, Referral, StatusChange, Note, Share, Notification)
TABLES += (OutboxEmail, AuditEvent)


@pytest.fixture(scope="module", autouse=True)
def _close_shared_connections(app: Flask) -> Iterator[None]:
    """As in tests/test_cli.py: close the shared app's pooled connections when done."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def seed(app: Flask, runner: FlaskCliRunner) -> Result:
    # A plain click command: the `flask` CLI pushes the app context, the runner does not.
    with app.app_context():
        return runner.invoke(args=["seed-demo"])


@pytest.fixture
def seeded(app: Flask, runner: FlaskCliRunner) -> Result:
    result = seed(app, runner)
    assert result.exit_code == 0, result.output
    return result


def counts() -> dict[str, int]:
    return {
        table.__tablename__: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in TABLES
    }


def person(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def demo_referrals_in_db() -> list[Referral]:
    demo_people = select(User.id).where(User.email.in_([user.email for user in DEMO_USERS]))
    return list(
        db.session.scalars(select(Referral).where(Referral.referring_user_id.in_(demo_people)))
    )


def listed(email: str, **filters: Any) -> list[Referral]:
    """What the user's worklist query finds (the home page's sections use these)."""
    page = list_referrals(person(email), ReferralFilters(**filters), page=1, page_size=100)
    return page.items


# --- what is loaded -----------------------------------------------------------


def test_seed_demo_loads_about_forty_referrals_in_every_status(app: Flask, seeded: Result) -> None:
    assert f"Loaded {len(demo_referrals.STORIES)} demo referrals." in seeded.stdout
    with app.app_context():
        loaded = demo_referrals_in_db()
        assert 35 <= len(loaded) <= 45
        assert {referral.status for referral in loaded} == set(ReferralStatus)
        assert {referral.outcome for referral in loaded} - {None} == set(Outcome)
        assert len({referral.referring_organisation_id for referral in loaded}) >= 3
        assert len({referral.receiving_organisation_id for referral in loaded}) >= 4

        drafts = [referral for referral in loaded if referral.status is ReferralStatus.DRAFT]
        complete = [
            draft
            for draft in drafts
            if all(getattr(draft, name) for name in lifecycle.REQUIRED_TO_SUBMIT)
        ]
        assert complete
        assert len(complete) < len(drafts)

        now = utcnow()
        waiting = [ref for ref in loaded if ref.status is ReferralStatus.SUBMITTED]
        assert any(lifecycle.is_overdue(ref, now) for ref in waiting)
        assert any(not lifecycle.is_overdue(ref, now) for ref in waiting)
        for referral in waiting:  # the deadline follows from the back-dated submission
            assert referral.submitted_at is not None
            assert referral.triage_deadline == lifecycle.triage_deadline(
                referral, referral.submitted_at
            )
        assert all(ref.decline_reason for ref in loaded if ref.status is ReferralStatus.DECLINED)

        changes = list(db.session.scalars(select(StatusChange)))
        assert any(change.action == "reopen" for change in changes)
        assert all(change.reason for change in changes if change.action == "withdraw")
        for change in changes:  # times lie in the past, after the referral was made
            referral = db.session.get(Referral, change.referral_id)
            assert referral is not None
            assert referral.created_at <= change.at <= now


def test_the_notes_and_shares_are_those_of_working_cases(app: Flask, seeded: Result) -> None:
    with app.app_context():
        notes = list(db.session.scalars(select(Note)))
        kinds = {note.kind for note in notes}
        assert {
            NoteKind.CONTACT,
            NoteKind.HOME_VISIT,
            NoteKind.INTERVENTION,
            NoteKind.MULTI_AGENCY_MEETING,
        } <= kinds
        assert {note.visibility for note in notes} == set(NoteVisibility)
        occurred = [note.occurred_at for note in notes]
        assert max(occurred) - min(occurred) > timedelta(weeks=3)
        assert max(occurred) <= utcnow()
        per_case = Counter(note.referral_id for note in notes)
        assert max(per_case.values()) >= 4

        charity = db.session.scalars(
            select(Organisation).where(Organisation.code == "safer-futures")
        ).one()
        now = utcnow()
        live = [
            grant
            for grant in db.session.scalars(
                select(Share).where(Share.organisation_id == charity.id)
            )
            if grant.is_live(now)
        ]
        assert live
        assert all(grant.purpose and grant.expires_at > now for grant in live)


def test_the_children_are_fictional_essex_children_some_referred_twice(
    app: Flask, seeded: Result
) -> None:
    with app.app_context():
        loaded = demo_referrals_in_db()
        today = date.today()
        children = {referral.child for referral in loaded}
        for child in children:
            assert (
                today.replace(year=today.year - 17)
                < child.date_of_birth
                <= today.replace(year=today.year - 10)
            )
            assert child.postcode is not None
            assert child.postcode.startswith(ESSEX_POSTCODE_AREAS), child.postcode
        agencies_per_child: dict[object, set[object]] = {}
        for referral in loaded:
            agencies_per_child.setdefault(referral.child_id, set()).add(
                referral.referring_organisation_id
            )
        assert sum(len(agencies) >= 2 for agencies in agencies_per_child.values()) >= 3


def test_the_demo_data_passes_the_forms_validation() -> None:
    """What the demo holds could have been typed into the pages."""
    for key, child in CHILDREN.items():
        born = date(date.today().year - child.years, child.month, child.day)
        details = {
            "first_name": child.first_name,
            "last_name": child.last_name,
            "date_of_birth": born.isoformat(),
            "gender": child.gender,
            "address": child.address,
            "postcode": child.postcode,
            "school": child.school,
            "aliases": list(child.aliases),
        }
        assert not ChildInputSchema().validate(details), key
    for story in demo_referrals.STORIES:
        fields = {
            "reason": story.reason,
            "risk_level": story.risk and str(story.risk),
            "risk_factors": [str(factor) for factor in story.factors],
            "consent_status": story.consent and str(story.consent),
            "consent_notes": story.consent_notes,
            "lawful_basis": story.basis and str(story.basis),
        }
        filled = {name: value for name, value in fields.items() if value}
        assert not ReferralFieldsSchema().validate(filled), story.child


# --- every demo user's worklist ----------------------------------------------


CASE_WORKERS = [
    user for user in DEMO_USERS if {"referrer", "caseworker", "manager"} & set(user.roles)
]


@pytest.mark.parametrize("demo_user", CASE_WORKERS, ids=lambda user: user.email)
def test_every_section_of_each_case_workers_home_is_populated(
    app: Flask, seeded: Result, demo_user: DemoUser
) -> None:
    """The home page's sections (blueprints/web/worklists.py), asked of the
    services: awaiting triage (managers), assigned to me (managers and
    caseworkers), sent by my agency, shared with us, my drafts."""
    with app.app_context():
        me = person(demo_user.email)
        sections: dict[str, list[Referral]] = {
            "sent": listed(me.email, direction="outgoing"),
            "shared": listed(me.email, direction="shared"),
            "drafts": [
                referral
                for referral in listed(me.email, direction="outgoing", status=ReferralStatus.DRAFT)
                if referral.referring_user_id == me.id
            ],
        }
        if "manager" in demo_user.roles:
            sections["triage"] = listed(
                me.email, direction="incoming", status=ReferralStatus.SUBMITTED
            )
        if {"manager", "caseworker"} & set(demo_user.roles):
            sections["assigned"] = listed(
                me.email, assigned_to_me=True, status=ReferralStatus.IN_PROGRESS
            )
        assert [name for name, items in sections.items() if not items] == []


def test_the_worklists_show_what_each_person_needs_to_see(app: Flask, seeded: Result) -> None:
    with app.app_context():
        now = utcnow()
        triage = listed(
            "manager@essex-yjs.demo", direction="incoming", status=ReferralStatus.SUBMITTED
        )
        assert any(lifecycle.is_overdue(referral, now) for referral in triage)
        assert any(not lifecycle.is_overdue(referral, now) for referral in triage)
        assigned = listed("caseworker@essex-yjs.demo", assigned_to_me=True)
        assert len(assigned) >= 3
        sent = listed("referrer@essex-police.demo", direction="outgoing")
        assert {referral.outcome for referral in sent} - {None}
        assert {ReferralStatus.DRAFT, ReferralStatus.SUBMITTED, ReferralStatus.CLOSED} <= {
            referral.status for referral in sent
        }
        shared = listed("manager@safer-futures.demo", direction="shared")
        assert {referral.receiving_organisation.code for referral in shared} >= {"essex-yjs"}


def sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": email, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302, email
    return client


@pytest.mark.parametrize(
    ("email", "filters"),
    [
        ("manager@essex-yjs.demo", {"direction": "incoming", "status": ReferralStatus.SUBMITTED}),
        ("caseworker@essex-yjs.demo", {"assigned_to_me": True}),
        ("referrer@essex-police.demo", {"direction": "outgoing"}),
        ("manager@essex-police.demo", {"direction": "incoming"}),
        ("manager@safer-futures.demo", {"direction": "shared"}),
    ],
)
def test_each_home_page_shows_their_referrals(
    app: Flask, seeded: Result, email: str, filters: dict[str, object]
) -> None:
    with app.app_context():
        references = {referral.reference for referral in listed(email, **filters)}
    assert references
    page = sign_in(app, email).get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert any(reference in text for reference in references), email


def test_the_demo_notifies_people_as_the_services_do(app: Flask, seeded: Result) -> None:
    with app.app_context():
        yjs_manager = person("manager@essex-yjs.demo")
        theirs = list(
            db.session.scalars(
                select(Notification).where(Notification.recipient_id == yjs_manager.id)
            )
        )
        kinds = {notification.kind for notification in theirs}
        assert {NotificationKind.ARRIVED, NotificationKind.OVERDUE} <= kinds
        # What they have acted on is read; what waits for triage is not.
        assert any(notification.read_at for notification in theirs)
        assert any(notification.read_at is None for notification in theirs)
        assert (db.session.scalar(select(func.count()).select_from(OutboxEmail)) or 0) > 0


# --- the audit trail, a second run, the time it takes ---------------------------


def test_the_audit_chain_verifies_after_seeding(app: Flask, seeded: Result) -> None:
    with app.app_context():
        assert audit.verify(db.session).ok
        actions = Counter(db.session.scalars(select(AuditEvent.action)))
        assert actions["referral.create"] == len(demo_referrals.STORIES)
        assert actions["referral.note_added"] == db.session.scalar(
            select(func.count()).select_from(Note)
        )
        assert actions[demo_referrals.LOADED] == 1
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_a_second_run_adds_nothing(app: Flask, runner: FlaskCliRunner, seeded: Result) -> None:
    with app.app_context():
        before = counts()
    again = seed(app, runner)
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.stdout
    for demo_user in DEMO_USERS:
        assert demo_user.email in again.stdout
    with app.app_context():
        assert counts() == before


def test_seeding_takes_under_ten_seconds(app: Flask, runner: FlaskCliRunner) -> None:
    started = time.perf_counter()
    result = seed(app, runner)
    took = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert took < 10, f"seed-demo took {took:.1f} s"


# --- never in production -------------------------------------------------------


def test_refused_under_the_production_configuration(tmp_path: Path) -> None:
    database = tmp_path / "production.db"
    production = create_app(
        ProductionConfig,
        SECRET_KEY="production-test-secret",
        AUDIT_HMAC_KEY="production-test-audit-key",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        DOCUMENT_ENCRYPTION_KEY="dGVzdHMtb25seS1kb2N1bWVudC1rZXktMzItYnl0ZXM=",
    )
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["seed-demo"])
        db.engine.dispose()
    assert result.exit_code != 0
    assert PRODUCTION_REFUSAL in result.stderr
    assert "demo-password" not in result.output
    # Refused before the database was touched: SQLite never even made the file.
    assert not database.exists()


def test_refused_when_app_env_says_production(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        before = counts()
    monkeypatch.setenv("APP_ENV", "production")
    result = seed(app, runner)
    assert result.exit_code != 0
    assert PRODUCTION_REFUSAL in result.stderr
    with app.app_context():
        assert counts() == before
