"""The CSV export: the agency's referrals in and out, nothing else; formula
cells neutralised (CSV injection); audited as an export; limited per user."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, OrganisationKind, Role
from referral_app.services import organisations, report_csv
from tests.conftest import migrated_app
from tests.factories import Factory, OrgInfo, bearer, token_for
from tests.referral_helpers import Actor, act, create, make_world
from tests.reports.fixtures import DATE_FROM, DATE_TO, NEVER, RECEIVED, SENT, build

CSV_PATH = "/api/v1/reports/referrals.csv"
RANGE = {"from": DATE_FROM, "to": DATE_TO}


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def export(client, actor: Actor, query: dict[str, str] | None = None):
    """The export over the fixture's range, or over `query` ({}: the default range)."""
    return client.get(
        CSV_PATH, query_string=RANGE if query is None else query, headers=actor.headers
    )


def test_the_csv_holds_the_agencys_referrals_in_and_out_and_nothing_else(app, client, world):
    fixture = build(app, client, world)
    response = export(client, world.yjs_manager)
    assert response.mimetype == "text/csv"
    assert response.mimetype_params == {"charset": "utf-8"}
    disposition = response.headers["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="referrals-{world.yjs.code}-{DATE_FROM}-to-{DATE_TO}.csv"'
    )
    rows = rows_of(response)
    assert list(rows[0]) == list(report_csv.CSV_COLUMNS)
    by_reference = {row["reference"]: row for row in rows}
    assert len(rows) == len(by_reference) == 13
    assert set(by_reference) == fixture.references(*RECEIVED, *SENT)
    assert not set(by_reference) & fixture.references(*NEVER)
    for name in RECEIVED:
        assert by_reference[fixture.referrals[name][1]]["direction"] == "incoming"
    for name in SENT:
        assert by_reference[fixture.referrals[name][1]]["direction"] == "outgoing"
    first = by_reference[fixture.referrals["I1"][1]]
    assert first == {
        "reference": fixture.referrals["I1"][1],
        "direction": "incoming",
        "status": "closed",
        "risk_level": "high",
        "risk_factors": "county_lines;criminal_exploitation",
        "referring_agency": world.police.name,
        "receiving_agency": world.yjs.name,
        "created_at": "2025-01-09T12:00:00+00:00",
        "submitted_at": "2025-01-10T00:00:00+00:00",
        "triage_deadline": "2025-01-11T00:00:00+00:00",
        "overdue": "no",
        "triaged_at": "2025-01-10T10:00:00+00:00",
        "closed_at": "2025-01-14T04:00:00+00:00",
        "outcome": "engaged_and_completed",
    }
    assert by_reference[fixture.referrals["I5"][1]]["overdue"] == "yes"
    draft = by_reference[fixture.referrals["O1"][1]]
    assert (draft["status"], draft["risk_level"], draft["submitted_at"]) == ("draft", "", "")
    # Oldest first, by the date that puts each in the report.
    assert rows[0]["reference"] == fixture.referrals["O6"][1]  # submitted 5 January
    assert rows[-1]["reference"] == fixture.referrals["I7"][1]  # submitted 30 June


def test_the_csv_carries_no_names_dates_of_birth_or_free_text(app, client, world):
    referral = create(client, world.officer, world.yjs)
    act(client, world.officer, referral["id"], "submit")
    text = export(client, world.yjs_manager, {}).get_data(as_text=True)
    assert referral["reference"] in text
    for personal in ("Jayden", "Miller", "2011-03-14", "SS1", "Southend", "county line route"):
        assert personal not in text


def formula_agency(app, name: str) -> OrgInfo:
    with app.app_context():
        organisation = organisations.create_organisation(
            None, code=f"formula-{uuid.uuid4().hex[:8]}", name=name, kind=OrganisationKind.CHARITY
        )
        db.session.commit()
        return OrgInfo(organisation.id, organisation.code, organisation.name)


def test_a_formula_in_an_agency_name_comes_out_neutralised(app, client, world):
    """An agency named like a spreadsheet formula: the cell starts with a quote,
    so a spreadsheet shows the text instead of running it."""
    formula = formula_agency(app, "=SUM(1+1)")
    referral = create(client, world.yjs_referrer, formula)
    rows = rows_of(export(client, world.yjs_manager, {}))
    (row,) = [row for row in rows if row["reference"] == referral["reference"]]
    assert row["receiving_agency"] == "'=SUM(1+1)"
    assert not any(
        cell.startswith(report_csv.FORMULA_TRIGGERS) for row in rows for cell in row.values()
    )


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+44 Youth Project", "'+44 Youth Project"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # Fullwidth forms and the minus sign, which some spreadsheets fold to
        # ASCII, and formulas behind leading white space.
        ('\uff1dHYPERLINK("http://evil.example")', '\'\uff1dHYPERLINK("http://evil.example")'),
        ("\uff0b1+1", "'\uff0b1+1"),
        ("\uff0d1+1", "'\uff0d1+1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("\u22121+1", "'\u22121+1"),
        ("  =1+1", "'  =1+1"),
        ("\u3000=1+1", "'\u3000=1+1"),
        ("\n=1+1", "'\n=1+1"),
        ("|cmd", "'|cmd"),
        ("Safer Futures = good", "Safer Futures = good"),
        ("12 Market Street", "12 Market Street"),
    ],
)
def test_every_formula_trigger_is_neutralised(name, written):
    assert report_csv.neutralise(name) == written


def test_the_export_is_audited_naming_every_referral_exported(app, client, world):
    fixture = build(app, client, world)
    assert export(client, world.yjs_manager).status_code == 200
    with app.app_context():
        event_row = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "report.csv_export")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event_row is not None
        assert event_row.outcome == "success"
        assert event_row.actor_user_id == world.yjs_manager.user.id
        assert event_row.actor_organisation_id == world.yjs.id
        assert event_row.record_type == "referral"
        assert set(event_row.record_ids or []) == fixture.ids(*RECEIVED, *SENT)
        assert event_row.recipient_organisation_id is None
        assert event_row.fields == sorted(report_csv.CSV_COLUMNS)


@pytest.mark.parametrize("who", ["officer", "caseworker", "yjs_referrer"])
def test_non_managers_cannot_export(client, world, who):
    response = export(client, getattr(world, who))
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"


def test_an_invalid_range_is_refused(client, world):
    response = export(client, world.yjs_manager, {"from": "2025-06-01", "to": "2025-01-01"})
    assert response.status_code == 422
    assert "to" in response.json["errors"]


def test_a_too_large_export_is_refused(app, client, world, monkeypatch):
    for _ in range(3):
        act(client, world.officer, create(client, world.officer, world.yjs)["id"], "submit")
    monkeypatch.setattr(report_csv, "CSV_MAX_ROWS", 2)
    response = export(client, world.yjs_manager, {})
    assert response.status_code == 422
    assert "shorter" in response.json["message"]


def test_a_too_large_download_from_the_page_is_a_form_error(app, client, world, monkeypatch):
    from tests.blueprints.web.test_referral_pages import sign_in
    from tests.page_errors import assert_plain_errors

    for _ in range(3):
        act(client, world.officer, create(client, world.officer, world.yjs)["id"], "submit")
    monkeypatch.setattr(report_csv, "CSV_MAX_ROWS", 2)
    page = sign_in(app, world.yjs_manager.user)
    response = download(page)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    (message,) = assert_plain_errors(response.get_data(as_text=True))
    assert message.startswith("The download holds at most")
    assert message.endswith("choose a later start of the period")


def download(page, **period):
    """The reports page's download button: a POST with the CSRF token."""
    from tests.conftest import csrf_token

    return page.post(
        "/reports/referrals.csv", data={"csrf_token": csrf_token(page, "/reports"), **period}
    )


# --- rate limiting, in an app of its own with the limiter on -------------------


@pytest.fixture
def limited_app(fresh_database_url):
    app = migrated_app(
        fresh_database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        CSV_EXPORT_LIMIT="2 per hour",
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_csv_export_is_limited_per_user_and_not_globally(limited_app):
    from tests.blueprints.web.test_referral_pages import sign_in

    factory = Factory(limited_app)
    client = limited_app.test_client()
    agency = factory.organisation()
    manager = factory.user(Role.MANAGER, organisation=agency)
    colleague = factory.user(Role.MANAGER, organisation=agency)
    headers = bearer(token_for(client, manager))
    # A refused range exports nothing and does not count.
    assert client.get(CSV_PATH, query_string={"from": "x"}, headers=headers).status_code == 422
    assert client.get(CSV_PATH, headers=headers).status_code == 200
    # The reports page and the API draw on one counter per user.
    page = sign_in(limited_app, manager)
    assert download(page).status_code == 200
    refused = client.get(CSV_PATH, headers=headers)
    assert refused.status_code == 429
    assert refused.json["code"] == "too_many_requests"
    assert download(page).status_code == 429
    # Another manager of the same agency still exports.
    other = bearer(token_for(client, colleague))
    assert client.get(CSV_PATH, headers=other).status_code == 200
    # The summary is not limited.
    assert client.get("/api/v1/reports/summary", headers=headers).status_code == 200
    with limited_app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor_user_id).where(
                AuditEvent.action.in_(["report.csv_export", "auth.throttled"])
            )
        ).all()
    assert sorted((action, outcome) for action, outcome, _ in events) == [
        ("report.csv_export", "denied"),
        ("report.csv_export", "denied"),
        ("report.csv_export", "success"),
        ("report.csv_export", "success"),
        ("report.csv_export", "success"),
    ]
    denied = {user for _, outcome, user in events if outcome == "denied"}
    assert denied == {manager.id}
