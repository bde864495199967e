"""The reports page: charts as accessible SVG with the same numbers in
tables, the period as two date inputs (a bad one is a form error in plain
words, never a 500), the CSV download; for managers only."""

from __future__ import annotations

import csv
import io
import re

import pytest

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token
from tests.page_errors import assert_plain_errors, rows_headed, tables
from tests.referral_helpers import make_world
from tests.reports.fixtures import DATE_FROM, DATE_TO, build


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def manager_page(app, world):
    return sign_in(app, world.yjs_manager.user)


def row_cells(html: str, heading: str) -> list[list[str]]:
    """The data cells of every table row headed `heading` (a header cell)."""
    assert re.search(
        rf'<th scope="row" class="govuk-table__header">{re.escape(heading)}</th>', html
    )
    return rows_headed(html, heading)


def test_the_page_shows_charts_and_tables_of_the_same_numbers(app, client, factory, world):
    build(app, client, world)
    page = manager_page(app, world)
    response = page.get("/reports", query_string={"from": DATE_FROM, "to": DATE_TO})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Five charts, each an image named by its title and described.
    charts = re.findall(r'<svg class="chart" role="img" aria-labelledby="([^"]+)"', html)
    assert len(charts) == 5
    for labelled_by in charts:
        title_id, desc_id = labelled_by.split()
        assert f'<title id="{title_id}">' in html
        assert f'<desc id="{desc_id}">' in html
    # Each chart is followed by a table with a caption and header cells.
    captions = [table["caption"] for table in tables(html)]
    assert len(captions) == 7  # the five charts', "at a glance" and the screening themes
    assert all(captions)
    assert captions[0] == "Referrals, overdue triage and times taken"
    assert 'scope="col"' in html
    # The hand-counted numbers, in the tables (received, sent)...
    assert row_cells(html, "County lines") == [["4", "1"]]
    assert row_cells(html, "Referrals") == [["8", "5"]]
    assert row_cells(html, "Overdue for triage now") == [["1", "1"]]
    assert row_cells(html, "Median hours to triage") == [["30.0", "9.0"]]
    assert row_cells(html, "90th percentile hours to triage") == [["46.0", "11.4"]]
    assert row_cells(html, "Jan 2025") == [["2", "1"]]
    assert row_cells(html, "Not set") == [["0", "1"]]
    # ...and in the charts' descriptions.
    assert "County lines 4" in html
    assert "Jan 2025 2" in html
    # The CSP forbids inline style and script: the page uses neither (the
    # design system's one-line template script is allowed by its hash alone).
    assert "style=" not in html
    assert [script for script in re.findall(r"<script[^>]*>", html) if "src=" not in script] == [
        "<script>"
    ]
    # The download link carries the range shown.
    assert 'action="/reports/referrals.csv"' in html
    assert f'name="from" value="{DATE_FROM}"' in html
    assert f'name="to" value="{DATE_TO}"' in html
    # The period shown in the date inputs.
    for name, value in (("from-day", "1"), ("from-month", "1"), ("from-year", "2025")):
        assert re.search(rf'name="{name}" type="text" value="{value}"', html), name


def test_the_page_defaults_to_the_last_twelve_months(app, factory, world):
    page = manager_page(app, world)
    response = page.get("/reports")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(rows_headed(html, "Referrals")) == 1
    (trend,) = [table for table in tables(html) if table["caption"].endswith("per month")]
    assert len(trend["rows"]) == 13  # the header and twelve months
    assert 'role="img"' in html


def test_an_invalid_range_shows_the_problem(app, factory, world):
    page = manager_page(app, world)
    response = page.get("/reports", query_string={"from": "2025-06-01", "to": "2025-01-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert 'href="#to-day"' in html
    assert_plain_errors(html, "The end of the period must be the same as or after the start")
    assert 'role="img"' not in html


def period(start: tuple[str, str, str], end: tuple[str, str, str]) -> dict[str, str]:
    """The form as the date inputs send it: (day, month, year) for each end."""
    fields = {}
    for name, (day, month, year) in (("from", start), ("to", end)):
        fields.update({f"{name}-day": day, f"{name}-month": month, f"{name}-year": year})
    return fields


@pytest.mark.parametrize(
    ("start", "end", "messages"),
    [
        (
            ("1", "6", "2025"),
            ("1", "1", "2025"),
            ["The end of the period must be the same as or after the start"],
        ),
        (
            ("31", "2", "2025"),
            ("1", "3", "2025"),
            ["Enter a real date for the start of the period"],
        ),
        (
            ("1", "", "2025"),
            ("", "", "2026"),
            [
                "The start of the period must include a month",
                "The end of the period must include a day and month",
            ],
        ),
        (
            ("x", "1", "2025"),
            ("1", "1", "20x6"),
            [
                "Enter a real date for the start of the period",
                "Enter a real date for the end of the period",
            ],
        ),
        (
            ("99", "99", "99"),
            ("1", "13", "2025"),
            [
                "Enter a real date for the start of the period",
                "Enter a real date for the end of the period",
            ],
        ),
        (
            ("99999999999999999999", "1", "2025"),
            ("1", "9" * 5000, "2025"),
            [
                "Enter a real date for the start of the period",
                "Enter a real date for the end of the period",
            ],
        ),
        (
            ("1", "1", "99999999999999999999"),
            ("-1", "1", "2025"),
            [
                "Enter a real date for the start of the period",
                "Enter a real date for the end of the period",
            ],
        ),
        (
            ("1", "1", "1999"),
            ("1", "1", "2100"),
            [
                "The start of the period must be between 1 January 2000 and 31 December 2099",
                "The end of the period must be between 1 January 2000 and 31 December 2099",
            ],
        ),
        (("1", "1", "2010"), ("1", "1", "2020"), ["The period must be 5 years or less"]),
    ],
)
def test_bad_periods_are_form_errors_in_plain_words(app, factory, world, start, end, messages):
    page = manager_page(app, world)
    for path in ("/reports", "/reports/referrals.csv"):
        response = (
            page.get(path, query_string=period(start, end))
            if path == "/reports"
            else download(page, **period(start, end))
        )
        assert response.status_code == 422, path
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert_plain_errors(html, *messages)
        assert 'role="img"' not in html
        assert "Download these referrals" not in html
        # What was typed is kept, to be corrected.
        assert f'name="from-year" type="text" value="{start[2]}"' in html or not start[2]
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="report.csv_export").count() == 0


@pytest.mark.parametrize(
    "query",
    [
        {"from": "x"},
        {"to": "2025-02-30"},
        {"from": "", "to": ""},
        {"from": "2025-01-01T00:00"},
        {"from-day": "\u0661", "from-month": "1", "from-year": "2025"},
    ],
)
def test_bad_dates_in_links_are_form_errors_too(app, factory, world, query):
    page = manager_page(app, world)
    response = page.get("/reports", query_string=query)
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert_plain_errors(response.get_data(as_text=True))


def test_a_period_typed_into_the_date_inputs_is_reported(app, client, factory, world):
    build(app, client, world)
    page = manager_page(app, world)
    response = page.get("/reports", query_string=period(("1", "1", "2025"), ("30", "6", "2025")))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_cells(html, "Referrals") == [["8", "5"]]
    assert "1 January 2025 to 30 June 2025" in html
    assert 'action="/reports/referrals.csv"' in html
    assert f'name="from" value="{DATE_FROM}"' in html
    assert f'name="to" value="{DATE_TO}"' in html


def download(page, **data):
    return page.post(
        "/reports/referrals.csv", data={"csrf_token": csrf_token(page, "/reports"), **data}
    )


def test_the_download_link_gives_the_csv(app, client, factory, world):
    fixture = build(app, client, world)
    page = manager_page(app, world)
    assert page.get("/reports/referrals.csv").status_code == 405  # a GET is no export
    response = download(page, **{"from": DATE_FROM, "to": DATE_TO})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["reference"] for row in rows} == fixture.references(
        "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "O1", "O2", "O3", "O4", "O6"
    )


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CASEWORKER, Role.AUDITOR, Role.ORG_ADMIN])
def test_only_managers_reach_the_page_and_see_the_link(app, factory, world, role):
    person = sign_in(app, factory.user(role, organisation=world.yjs))
    assert person.get("/reports").status_code == 403
    token = csrf_token(person, "/account")
    assert person.post("/reports/referrals.csv", data={"csrf_token": token}).status_code == 403
    assert 'href="/reports"' not in person.get("/account").get_data(as_text=True)


def test_managers_see_the_reports_link(app, factory, world):
    page = manager_page(app, world)
    home = page.get("/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/reports"[^>]*>\s*Reports\s*</a>', home)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/reports")
    assert response.status_code == 302
    assert response.location.startswith("/login")
