"""The /directory page: a GOV.UK search form (type, age, postcode) and the
services found as summary cards; a bad age or postcode answered with the
error summary in our words (422); a full postcode swapped for its
district in the address; linked from the navigation of case roles."""

from __future__ import annotations

import re

import pytest

from tests.blueprints.web.test_referral_detail_pages import sign_in
from tests.page_errors import assert_plain_errors, text_of


@pytest.fixture
def officer_page(app, world):
    return sign_in(app, world.officer.user)


def cards(html: str) -> list[str]:
    return [
        text_of(title)
        for title in re.findall(r'<h3 class="govuk-summary-card__title">(.*?)</h3>', html, re.S)
    ]


def test_the_navigation_links_to_the_directory(officer_page, imported):
    html = officer_page.get("/").get_data(as_text=True)
    assert 'href="/directory"' in html


def test_every_active_service_is_shown_before_searching(officer_page, imported):
    html = officer_page.get("/directory").get_data(as_text=True)
    assert "5 services found" in text_of(html)
    assert "Harlow Detached Youth Work" not in cards(html)


def test_a_search_by_type_age_and_district_shows_summary_cards(officer_page, imported):
    response = officer_page.get("/directory?type=mentoring&age=14&postcode=SS1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert cards(html) == ["Southend Youth Mentoring"]
    page = text_of(html)
    assert "Provider Southend Mentoring Trust" in page
    assert "Ages 10 to 17" in page
    assert "Areas SS1, SS2" in page
    assert "Phone: 01702 555 010" in page


def test_a_service_without_districts_says_it_has_no_area_limit(officer_page, imported):
    html = officer_page.get("/directory?type=substance+misuse&postcode=CM1").get_data(as_text=True)
    assert cards(html) == ["Essex Young People's Drug and Alcohol Service"]
    assert "Areas No area limit (Essex)" in text_of(html)


def test_the_type_select_lists_the_terms_of_active_services(officer_page, imported):
    html = officer_page.get("/directory").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="type".*?</select>', html, re.S)
    assert select
    assert re.findall(r'<option value="([^"]*)"', select.group(0)) == [
        "",
        "diversion",
        "education",
        "mentoring",
        "sport",
        "substance misuse",
    ]


def test_a_full_postcode_is_kept_as_its_district_only(officer_page, imported):
    response = officer_page.get("/directory?postcode=ss1+2aa&age=14")
    assert response.status_code == 302
    assert "postcode=SS1" in response.location
    assert "2AA" not in response.location.upper()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("age=30", "Enter the child's age in years, from 0 to 25"),
        ("age=ten", "Enter the child's age in years, from 0 to 25"),
        ("postcode=nowhere", "Enter a postcode, like SS1 2AA, or a postcode district, like SS1"),
    ],
)
def test_a_bad_search_shows_the_error_summary_in_our_words(officer_page, imported, query, message):
    response = officer_page.get(f"/directory?{query}")
    assert response.status_code == 422
    assert_plain_errors(response.get_data(as_text=True), message)


def test_nothing_found_says_so(officer_page, imported):
    html = officer_page.get("/directory?type=education&postcode=CM2").get_data(as_text=True)
    assert "0 services found" in text_of(html)
    assert "No active service matches" in text_of(html)


def test_results_come_in_pages(officer_page, app, imported):
    from referral_app.extensions import db
    from referral_app.services import directory_import

    with app.app_context():
        directory_import.import_services(
            [{"id": f"many-{n}", "name": f"Club {n:02}"} for n in range(25)],
            feed="many",
        )
        db.session.commit()
    first = officer_page.get("/directory").get_data(as_text=True)
    assert len(cards(first)) == 20
    assert 'href="/directory?page=2"' in first
    second = officer_page.get("/directory?page=2").get_data(as_text=True)
    assert len(cards(second)) == 10
