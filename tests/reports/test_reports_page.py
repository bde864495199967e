"""The reports page: charts as accessible SVG with the same numbers in
tables, a date range form, the CSV download; for managers only."""

from __future__ import annotations

import csv
import io
import re

import pytest

from referral_app.models import Role
from tests.blueprints.web.test_referral_pages import sign_in
from tests.referral_helpers import make_world
from tests.reports.fixtures import DATE_FROM, DATE_TO, build


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def manager_page(app, world):
    return sign_in(app, world.yjs_manager.user)


def row_cells(html: str, heading: str) -> list[list[str]]:
    """The rows (header cell and data cells) of every table row headed `heading`."""
    rows = re.findall(
        rf'<tr[^>]*><th scope="row">{re.escape(heading)}</th>(.*?)</tr>', html, flags=re.S
    )
    return [re.findall(r"<td>(.*?)</td>", row) for row in rows]


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
    assert html.count("<caption>") == 6  # the five charts' and "at a glance"
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
    assert f'href="/reports/referrals.csv?from={DATE_FROM}&amp;to={DATE_TO}"' in html
    assert f'value="{DATE_FROM}"' in html


def test_the_page_defaults_to_the_last_twelve_months(app, factory, world):
    page = manager_page(app, world)
    response = page.get("/reports")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('<tr><th scope="row">') >= 12
    assert 'role="img"' in html


def test_an_invalid_range_shows_the_problem(app, factory, world):
    page = manager_page(app, world)
    response = page.get("/reports", query_string={"from": "2025-06-01", "to": "2025-01-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert 'href="#to"' in html
    assert 'role="img"' not in html


def test_the_download_link_gives_the_csv(app, client, factory, world):
    fixture = build(app, client, world)
    page = manager_page(app, world)
    response = page.get("/reports/referrals.csv", query_string={"from": DATE_FROM, "to": DATE_TO})
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
    assert person.get("/reports/referrals.csv").status_code == 403
    assert 'href="/reports"' not in person.get("/account").get_data(as_text=True)


def test_managers_see_the_reports_link(app, factory, world):
    page = manager_page(app, world)
    home = page.get("/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/reports"[^>]*>\s*Reports\s*</a>', home)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/reports")
    assert response.status_code == 302
    assert response.location.startswith("/login")
