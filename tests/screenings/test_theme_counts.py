"""The reports' count of "yes" indicators by theme: the latest screening of
each referral the agency holds, nothing of referrals it does not hold."""

from __future__ import annotations

from referral_app.extensions import db
from referral_app.models import User
from referral_app.services import screenings
from tests.actions.conftest import audit_events
from tests.screenings.conftest import answers, screen


def counts(app, actor) -> dict[str, tuple[int, int]]:
    with app.app_context():
        user = db.session.get(User, actor.user.id)
        found = screenings.yes_by_theme(user)
        db.session.commit()
        return {row.theme_id: (row.screenings, row.indicators) for row in found}


def test_counts_come_from_the_latest_screening_of_each_held_referral(client, app, world, referral):
    rid = referral["id"]
    screen(client, world.officer, rid, answers=answers(("weapon_found", "drugs_found")))
    screen(client, world.officer, rid, answers=answers(("missing_overnight", "missing_episodes")))
    found = counts(app, world.yjs_manager)
    assert found["missing"] == (1, 2)
    assert found["drugs_weapons"] == (0, 0)  # only in the earlier screening
    assert found["online"] == (0, 0)
    assert next(iter(found)) == "missing"  # the tool's order
    assert [
        event.action for event in audit_events(app, "report.screening_themes", world.yjs_manager)
    ]


def test_an_agency_that_holds_nothing_counts_nothing(client, app, world, referral):
    screen(client, world.officer, referral["id"], answers=answers(("weapon_found",)))
    assert set(counts(app, world.stranger_manager).values()) == {(0, 0)}
    assert counts(app, world.officer)["drugs_weapons"] == (1, 1)


SUMMARY = "/api/v1/reports/summary"


def test_the_report_summary_counts_themes_over_its_own_referrals(client, world, referral):
    rid = referral["id"]
    screen(client, world.officer, rid, answers=answers(("weapon_found", "drugs_found")))
    for manager in (world.yjs_manager, world.police_manager):
        response = client.get(SUMMARY, headers=manager.headers)
        assert response.status_code == 200, response.json
        themes = {row["theme_id"]: row for row in response.json["screening_themes"]}
        assert themes["drugs_weapons"]["screenings"] == 1
        assert themes["drugs_weapons"]["indicators"] == 2
        assert themes["missing"]["indicators"] == 0
        assert themes["drugs_weapons"]["title"]
    # An agency with no referral in the report counts nothing.
    response = client.get(SUMMARY, headers=world.stranger_manager.headers)
    assert {row["indicators"] for row in response.json["screening_themes"]} == {0}


def test_the_report_summary_leaves_out_referrals_made_outside_its_range(client, world, referral):
    screen(client, world.officer, referral["id"], answers=answers(("weapon_found",)))
    response = client.get(
        SUMMARY,
        query_string={"from": "2020-01-01", "to": "2020-12-31"},
        headers=world.yjs_manager.headers,
    )
    assert response.status_code == 200, response.json
    assert {row["indicators"] for row in response.json["screening_themes"]} == {0}


def test_the_reports_page_shows_the_themes(app, client, world, referral):
    from tests.blueprints.web.test_referral_detail_pages import sign_in
    from tests.page_errors import tables

    screen(client, world.officer, referral["id"], answers=answers(("weapon_found",)))
    page = sign_in(app, world.yjs_manager.user).get("/reports")
    assert page.status_code == 200
    found = [
        table
        for table in tables(page.get_data(as_text=True))
        if table["caption"] == "Indicators answered yes, by theme"
    ]
    assert found, "no table of screening themes on the reports page"
    rows = {row[0]: row[1:] for row in found[0]["rows"][1:]}
    weapons = next(title for title in rows if "weapon" in title.lower())
    assert rows[weapons] == ["1", "1"]
