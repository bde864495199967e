"""The chronology's pages: the page with its filters, the printable page and
the CSV download, for each agency of a child held by three (and a fourth),
never with another agency's internal note, and each audited."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
import uuid

import pytest
from sqlalchemy import select

from blueprints.web.forms import is_framework_message
from referral_app.extensions import db
from referral_app.models import AuditEvent
from tests.chronology.world import (
    EARLIER_CONTACT,
    FORMULA,
    HOME_VISIT,
    INTERNAL,
    SIGNIFICANT,
    UNMARKED,
    Child,
    sign_in,
    uk_day,
)

AGENCIES = {
    "officer": ("police", ("a",)),
    "yjs_manager": ("yjs", ("a",)),
    "charity_manager": ("charity", ("a", "b")),
    "council_manager": (None, ("b",)),
}


def text_of(html: str) -> str:
    return html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def error_messages(html: str) -> list[str]:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return (
        [text_of(item) for item in re.findall(r"<a [^>]*>(.*?)</a>", found.group(1), re.S)]
        if found
        else []
    )


def events_of(html: str) -> str:
    """The events part of the page (after the filter form)."""
    return text_of(html.split('id="events-heading"', 1)[1])


def page_path(child: Child) -> str:
    return f"/children/{child.child_id}/chronology"


def browser_for(app, child: Child, who: str):
    return sign_in(app, child.user(who))


def download(browser, path: str) -> object:
    """Send the page's CSV form, with its tokens and hidden filters, as a browser would."""
    html = browser.get(path).get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="([^"]+chronology\.csv)"[^>]*>(.*?)</form>', html, re.S
    )
    assert form, "no download form"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2))
    return browser.post(html_lib.unescape(form.group(1)), data=_multi(fields))


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(html_lib.unescape(value))
    return data


def reads(app, user_id, reason: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "referral.chronology_read",
                    AuditEvent.actor_user_id == user_id,
                    AuditEvent.reason == reason,
                )
            )
        )


# --- the page ------------------------------------------------------------------------


def test_the_childs_page_links_to_its_chronology(app, child):
    browser = browser_for(app, child, "yjs_manager")
    html = browser.get(f"/children/{child.child_id}").get_data(as_text=True)
    assert f'href="{page_path(child)}"' in html


@pytest.mark.parametrize("who", sorted(AGENCIES))
def test_the_page_shows_its_agencys_events_in_date_order_and_no_one_elses_internal_notes(
    app, child, who
):
    own, held = AGENCIES[who]
    response = browser_for(app, child, who).get(page_path(child))
    assert response.status_code == 200
    shown = events_of(response.get_data(as_text=True))
    for agency, body in INTERNAL.items():
        assert (body in shown) == (agency == own), agency
    assert UNMARKED not in shown
    for name in ("a", "b"):
        assert (getattr(child, name)["reference"] in shown) == (name in held)
    if "a" in held:
        assert shown.index(EARLIER_CONTACT) < shown.index(HOME_VISIT) < shown.index(SIGNIFICANT)
    assert len(reads(app, child.user(who).id, "chronology")) == len(held)


def test_another_agencys_child_is_a_404_page(app, child):
    browser = browser_for(app, child, "stranger")
    for path in (page_path(child), page_path(child) + "/print"):
        response = browser.get(path)
        assert response.status_code == 404
        assert "Jayden" not in response.get_data(as_text=True)


def test_the_filters_narrow_the_events(app, child):
    browser = browser_for(app, child, "yjs_manager")
    seven, five = uk_day(7), uk_day(5)
    query = {
        "from-day": seven.day,
        "from-month": seven.month,
        "from-year": seven.year,
        "to-day": five.day,
        "to-month": five.month,
        "to-year": five.year,
    }
    shown = events_of(browser.get(page_path(child), query_string=query).get_data(as_text=True))
    assert INTERNAL["yjs"] in shown
    assert HOME_VISIT in shown
    assert EARLIER_CONTACT not in shown
    assert "2 events" in shown
    only = events_of(
        browser.get(page_path(child), query_string={"kind": "meeting_decision"}).get_data(True)
    )
    assert "1 event " in only
    assert "only meeting decision" in only


def test_filters_that_cannot_be_used_are_said_in_plain_words(app, child):
    browser = browser_for(app, child, "yjs_manager")
    response = browser.get(
        page_path(child),
        query_string={"from-day": "31", "from-month": "2", "from-year": "2026", "kind": "gossip"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_messages(html) == [
        "The start date must be a real date",
        "Select kinds of event from the list",
    ]
    assert not any(is_framework_message(message) for message in error_messages(html))
    backwards = browser.get(
        page_path(child), query_string={"from": "2026-03-01", "to": "2026-02-01"}
    )
    assert error_messages(backwards.get_data(as_text=True)) == [
        "The end date must be the same as or after the start date"
    ]
    missing = browser.get(page_path(child), query_string={"to-day": "3", "to-year": "2026"})
    assert error_messages(missing.get_data(as_text=True)) == ["The end date must include a month"]


def test_no_events_is_said_in_words(app, child):
    browser = browser_for(app, child, "yjs_manager")
    shown = events_of(
        browser.get(
            page_path(child), query_string={"from": "2001-01-01", "to": "2001-12-31"}
        ).get_data(True)
    )
    assert "0 events" in shown
    assert "No events match what you chose." in shown


# --- print -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(AGENCIES))
def test_the_printable_page_has_the_same_events_and_no_one_elses_internal_notes(app, child, who):
    own, held = AGENCIES[who]
    browser = browser_for(app, child, who)
    response = browser.get(page_path(child) + "/print")
    assert response.status_code == 200
    printed = text_of(response.get_data(as_text=True))
    assert "Printed by" in printed
    for agency, body in INTERNAL.items():
        assert (body in printed) == (agency == own), agency
    assert UNMARKED not in printed
    assert len(reads(app, child.user(who).id, "chronology printed")) == len(held)


def test_the_printable_page_keeps_the_filters(app, child):
    browser = browser_for(app, child, "yjs_manager")
    page = browser.get(page_path(child), query_string={"kind": "contact"}).get_data(as_text=True)
    link = re.search(r'href="([^"]+/chronology/print[^"]*)"', page)
    assert link
    printed = text_of(browser.get(html_lib.unescape(link.group(1))).get_data(as_text=True))
    assert HOME_VISIT in printed
    assert SIGNIFICANT not in printed
    assert "only contact or visit" in printed


# --- CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(AGENCIES))
def test_the_csv_has_the_events_and_no_one_elses_internal_notes(app, child, who):
    own, held = AGENCIES[who]
    response = download(browser_for(app, child, who), page_path(child))
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Jayden" not in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["date", "time_utc", "kind", "what_happened", "detail", "agency", "referral"]
    assert {row[6] for row in rows[1:]} == {getattr(child, name)["reference"] for name in held}
    assert [row[1] for row in rows[1:]] == sorted(row[1] for row in rows[1:])
    for agency, body in INTERNAL.items():
        assert (body in text) == (agency == own), agency
    assert UNMARKED not in text
    assert len(reads(app, child.user(who).id, "chronology exported as CSV")) == len(held)


def test_the_csv_neutralises_a_note_that_a_spreadsheet_would_run(app, child):
    response = download(browser_for(app, child, "charity_manager"), page_path(child))
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    details = [row[4] for row in rows[1:]]
    assert "'" + FORMULA in details
    assert FORMULA not in details
    assert not [cell for row in rows[1:] for cell in row if cell.startswith(("=", "+", "-", "@"))]


def test_the_csv_keeps_the_filters(app, child):
    browser = browser_for(app, child, "charity_manager")
    response = download(browser, page_path(child) + "?kind=referral_made")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [row[2] for row in rows[1:]] == ["Referral made", "Referral made"]


def test_the_csv_is_a_post_with_the_csrf_token(app, child):
    browser = browser_for(app, child, "charity_manager")
    assert browser.get(page_path(child) + ".csv").status_code == 405
    refused = browser.post(page_path(child) + ".csv", data={})
    assert refused.status_code == 400
    assert reads(app, child.user("charity_manager").id, "chronology exported as CSV") == []


def test_another_agency_cannot_download_it(app, child):
    browser = browser_for(app, child, "stranger")
    page = browser.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = browser.post(page_path(child) + ".csv", data={"csrf_token": token.group(1)})
    assert response.status_code == 404
    assert "text/csv" not in response.content_type
    assert str(uuid.UUID(child.child_id)) not in response.get_data(as_text=True)
