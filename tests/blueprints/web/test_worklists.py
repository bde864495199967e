"""The home page's worklists, the referral list (filters, order, pages) and
the search by name that keeps names out of URLs (post/redirect/get), through
the Flask test client; and the attacks: another agency's referrals in no
list, count or saved search."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blueprints.web import worklists
from blueprints.web.forms import is_framework_message
from blueprints.web.listing import COLUMNS
from referral_app.extensions import db
from referral_app.models import AuditEvent, Referral, Role, SavedSearch, utcnow
from referral_app.services import paging, saved_searches
from referral_app.templating import uk_date, uk_time
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token
from tests.referral_helpers import act, advance, create, make_world, share_with

REFERENCE = re.compile(r">(R-\d{4}-\d{6})</a>")
SEARCH_URL = re.compile(r"^/referrals/search/([0-9a-f-]{36})$")


def references(response) -> list[str]:
    """The references in the page's tables, in the order shown."""
    assert response.status_code == 200, response.status_code
    return REFERENCE.findall(response.get_data(as_text=True))


def text(response) -> str:
    return response.get_data(as_text=True)


def child(first: str, last: str = "Miller", born: str = "2011-03-14") -> dict[str, str]:
    return {"first_name": first, "last_name": last, "date_of_birth": born}


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def submitted(client, world, count: int, **overrides) -> list[dict]:
    made = []
    for _ in range(count):
        referral = create(client, world.officer, world.yjs, **overrides)
        advance(client, world, referral["id"], "submitted")
        made.append(referral)
    return made


def search(client, term: str, path: str = "/referrals/search"):
    return client.post(path, data={"csrf_token": csrf_token(client, "/referrals"), "q": term})


# --- the home page ------------------------------------------------------------


def test_home_says_25_of_31_and_links_to_the_rest(app, client, world):
    submitted(client, world, 31)
    manager = sign_in(app, world.yjs_manager.user)
    home = manager.get("/")
    page = text(home)
    assert "Showing 25 of 31" in page
    assert len(references(home)) == 25
    link = re.search(r'href="([^"]+)">See all 31 awaiting triage<', page)
    assert link, "no link to the whole worklist"
    everything = link.group(1).replace("&amp;", "&")
    assert everything == "/referrals?direction=incoming&status=submitted&sort=deadline"
    first = manager.get(everything)
    assert "Showing 1 to 25 of 31 referrals" in text(first)
    second = manager.get(everything + "&page=2")
    assert "Showing 26 to 31 of 31 referrals" in text(second)
    assert len(set(references(first)) | set(references(second))) == 31


def test_awaiting_triage_puts_the_overdue_first(app, client, world):
    low = submitted(client, world, 2, risk_level="low")
    late = low[1]
    with app.app_context():
        db.session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(late["id"]))
            .values(triage_deadline=utcnow() - timedelta(hours=2))
        )
        db.session.commit()
    submitted(client, world, 1, risk_level="high")
    home = sign_in(app, world.yjs_manager.user).get("/")
    shown = references(home)
    assert shown[0] == late["reference"]
    first_row = text(home).split(late["reference"], 1)[1].split("</tr>", 1)[0]
    assert "Overdue" in first_row


def test_each_role_sees_its_worklists(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    caseworker = text(sign_in(app, world.caseworker.user).get("/"))
    assert "Assigned to me" in caseworker
    assert referral["reference"] in caseworker
    assert "Awaiting triage" not in caseworker  # managers triage
    officer = text(sign_in(app, world.officer.user).get("/"))
    assert "Sent by my agency" in officer
    assert "My drafts" in officer
    assert "Assigned to me" not in officer  # a referrer is never assigned one
    assert referral["reference"] in officer


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.ORG_ADMIN, ["/admin/users"]),
        (Role.AUDITOR, ["/audit"]),
        (Role.SYSTEM_ADMIN, ["/admin/users", "/admin/organisations", "/audit"]),
    ],
)
def test_people_without_case_work_get_links_to_their_pages(app, factory, role, links):
    home = sign_in(app, factory.user(role)).get("/")
    page = text(home)
    assert home.status_code == 200
    for link in links:
        assert f'href="{link}"' in page
    assert "Awaiting triage" not in page
    assert "Sent by my agency" not in page


def test_shared_with_us_shows_the_purpose_and_end_date(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    share = share_with(client, world, referral["id"], world.charity, days=20)
    stored = _share_row(app, share["id"]).expires_at
    ends = f"{uk_date(stored)}<br>{uk_time(stored, with_date=False)}"  # in UK time
    charity = sign_in(app, world.charity_worker.user)
    home = text(charity.get("/"))
    assert "Shared with us" in home
    section = home.split('id="worklist-shared"', 1)[1]
    assert referral["reference"] in section
    assert "Mentoring programme place" in section
    assert ends in section
    listing = text(charity.get("/referrals?direction=shared"))
    assert "Purpose of the share" in listing
    assert "Mentoring programme place" in listing
    assert ends in listing
    # An agency holding no shares has no such section.
    assert "Shared with us" not in text(sign_in(app, world.stranger.user).get("/"))


def _share_row(app, share_id: str):
    from referral_app.models import Share

    with app.app_context():
        return db.session.get(Share, uuid.UUID(share_id))


def test_my_drafts_are_the_drafts_i_made(app, client, factory, world):
    mine = create(client, world.officer, world.yjs)
    colleague_user = factory.user(Role.REFERRER, organisation=world.police)
    from tests.factories import bearer, token_for
    from tests.referral_helpers import Actor

    colleague = Actor(colleague_user, bearer(token_for(client, colleague_user)))
    theirs = create(client, colleague, world.yjs)
    sent = create(client, world.officer, world.yjs)
    advance(client, world, sent["id"], "submitted")
    officer = sign_in(app, world.officer.user)
    home = text(officer.get("/"))
    drafts = home.split('id="worklist-drafts"', 1)[1]
    assert mine["reference"] in drafts
    assert theirs["reference"] not in drafts
    assert sent["reference"] not in drafts
    assert 'href="/referrals?drafts=mine">See all 1 of your drafts<' in drafts
    assert references(officer.get("/referrals?drafts=mine")) == [mine["reference"]]
    # The colleague's draft is still the agency's: it is in "Sent by my agency".
    sent_section = home.split('id="worklist-sent"', 1)[1].split('id="worklist-drafts"', 1)[0]
    assert theirs["reference"] in sent_section


# --- the list: pages, order, filters ---------------------------------------------


def test_the_list_pages_through_every_referral_once(app, client, world):
    made = submitted(client, world, 30)
    manager = sign_in(app, world.yjs_manager.user)
    first = manager.get("/referrals?direction=incoming")
    page = text(first)
    assert "Showing 1 to 25 of 30 referrals" in page
    assert 'aria-current="page"' in page
    assert 'href="/referrals?direction=incoming&amp;page=2" rel="next"' in page
    assert 'rel="prev"' not in page
    second = manager.get("/referrals?direction=incoming&page=2")
    assert "Showing 26 to 30 of 30 referrals" in text(second)
    assert 'href="/referrals?direction=incoming" rel="prev"' in text(second)
    assert 'rel="next"' not in text(second)
    seen = references(first) + references(second)
    assert sorted(seen) == sorted(referral["reference"] for referral in made)


def test_a_long_list_is_counted_only_so_far_and_says_so(app, client, world, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_WINDOW", 3)
    for _ in range(30):
        create(client, world.officer, world.yjs)
    officer = sign_in(app, world.officer.user)
    page = text(officer.get("/referrals"))
    assert "More than 3 referrals: showing 1 to 25" in page
    assert 'href="/referrals?page=2" rel="next"' in page
    assert "govuk-pagination__item--ellipsis" in page  # pages beyond those counted
    second = officer.get("/referrals?page=2")
    assert len(references(second)) == 5
    home = text(officer.get("/"))
    assert "Showing 25 of more than 3" in home
    assert ">See all sent by your agency (more than 3)<" in home


def test_a_page_past_the_end_still_offers_the_way_back(app, client, world):
    submitted(client, world, 3)
    past = sign_in(app, world.yjs_manager.user).get("/referrals?page=5")
    assert past.status_code == 200
    assert references(past) == []
    assert 'href="/referrals?page=4" rel="prev"' in text(past)


def test_the_list_sorts_by_a_column_both_ways(app, client, world):
    for first, born in (("Zara", "2012-01-01"), ("Adam", "2010-01-01"), ("Milo", "2014-01-01")):
        submitted(client, world, 1, child=child(first, born=born))
    manager = sign_in(app, world.yjs_manager.user)

    def children(response) -> list[str]:
        return re.findall(r"<td class=\"govuk-table__cell\">(\w+) Miller</td>", text(response))

    ascending = manager.get("/referrals?sort=child")
    assert children(ascending) == ["Adam", "Milo", "Zara"]
    assert re.search(
        r'aria-sort="ascending"><a class="govuk-link" href="/referrals\?sort=-child"',
        text(ascending),
    )
    assert children(manager.get("/referrals?sort=-child")) == ["Zara", "Milo", "Adam"]
    assert children(manager.get("/referrals?sort=age")) == ["Milo", "Zara", "Adam"]
    assert children(manager.get("/referrals?sort=-age")) == ["Adam", "Zara", "Milo"]
    # Every column sorts either way; the sorted header alone says how.
    for key, *_ in COLUMNS:
        for sort in (key, f"-{key}"):
            response = manager.get(f"/referrals?sort={sort}")
            assert len(references(response)) == 3, sort
            assert text(response).count("aria-sort=") == 1, sort


def test_the_list_sorts_by_risk_and_last_activity(app, client, world):
    low = submitted(client, world, 1, risk_level="low")[0]
    high = submitted(client, world, 1, risk_level="high")[0]
    medium = submitted(client, world, 1, risk_level="medium")[0]
    manager = sign_in(app, world.yjs_manager.user)
    by_risk = references(manager.get("/referrals?sort=-risk"))
    assert by_risk == [high["reference"], medium["reference"], low["reference"]]
    # A note is activity: the oldest referral becomes the most recent.
    note = client.post(
        f"/api/v1/referrals/{low['id']}/notes",
        json={"body": "Spoke to the school.", "visibility": "shared"},
        headers=world.yjs_manager.headers,
    )
    assert note.status_code == 201, note.json
    assert references(manager.get("/referrals?sort=-activity"))[0] == low["reference"]


def test_filters_narrow_the_list(app, client, world):
    high = submitted(client, world, 1, risk_level="high")[0]
    low = submitted(client, world, 1, risk_level="low")[0]
    working = create(client, world.officer, world.yjs)
    advance(client, world, working["id"], "in_progress")
    manager = sign_in(app, world.yjs_manager.user)
    assert references(manager.get("/referrals?risk_level=low")) == [low["reference"]]
    assert references(manager.get("/referrals?status=in_progress")) == [working["reference"]]
    caseworker = sign_in(app, world.caseworker.user)
    assert references(caseworker.get("/referrals?assigned_to=me")) == [working["reference"]]
    officer = sign_in(app, world.officer.user)
    outgoing = set(references(officer.get("/referrals?direction=outgoing")))
    assert outgoing == {high["reference"], low["reference"], working["reference"]}
    assert references(officer.get("/referrals?direction=incoming")) == []
    page = text(manager.get("/referrals?risk_level=low&overdue=true"))
    assert '<option value="low" selected>' in page
    assert 'id="overdue" name="overdue" type="checkbox" value="true" checked' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=nope", "Select an order from the list"),
        ("sort=-newest", "Select an order from the list"),
        ("status=sleeping", "Select a status from the list"),
        ("risk_level=extreme", "Select a risk level from the list"),
        ("direction=sideways", "Select incoming, sent by us or shared with us"),
        ("overdue=perhaps", "Tick overdue or leave it empty"),
        ("drafts=theirs", "Tick my drafts or leave it empty"),
        ("assigned_to=you", "Tick assigned to me or leave it empty"),
        ("page=0", "Choose a page of the list"),
        ("page=two", "Choose a page of the list"),
        ("page=99999999999", "Choose a page of the list"),
        ("q=Jayden", "names must not appear in web addresses"),
        ("colour=blue", "Check your answers and try again"),
    ],
)
def test_a_bad_sort_or_filter_is_an_error_on_the_page(app, world, query, message):
    response = sign_in(app, world.yjs_manager.user).get(f"/referrals?{query}")
    assert response.status_code == 422
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error: " in page
    shown = re.findall(r'<a href="#[\w-]+">([^<]+)</a>', page)
    assert shown
    assert not any(is_framework_message(line) for line in shown)


def test_the_list_costs_the_same_statements_at_any_page_size(app, client, world, monkeypatch):
    for n in range(12):
        referral = create(client, world.officer, world.yjs)
        advance(client, world, referral["id"], "submitted")
        if n % 3 == 0:
            share_with(client, world, referral["id"], world.charity)
    manager = sign_in(app, world.yjs_manager.user)
    charity = sign_in(app, world.charity_manager.user)
    located = search(manager, "Jayden").location

    def statements(who, path: str, size: int) -> int:
        monkeypatch.setattr(worklists, "PAGE_SIZE", size)
        monkeypatch.setattr("blueprints.web.referral_search.PAGE_SIZE", size)
        response = who.get(path)
        assert response.status_code == 200
        return int(response.headers["X-Query-Count"])

    app.config["QUERY_COUNT_HEADER"] = True
    try:
        for who, path in (
            (manager, "/referrals"),
            (manager, "/referrals?sort=child"),
            (manager, "/referrals?sort=-activity"),
            (charity, "/referrals?direction=shared"),
            (manager, "/"),
            (charity, "/"),
            (manager, located),
        ):
            small, large = statements(who, path, 2), statements(who, path, 12)
            assert small == large, (path, small, large)
    finally:
        app.config["QUERY_COUNT_HEADER"] = False


# --- search: post/redirect/get --------------------------------------------------------


def test_a_search_is_stored_and_shown_at_an_address_without_the_name(app, client, world):
    made = submitted(client, world, 2)
    submitted(client, world, 1, child=child("Kai", "Turner"))
    manager = sign_in(app, world.yjs_manager.user)
    posted = search(manager, "Jayden Miller")
    assert posted.status_code == 303
    assert SEARCH_URL.match(posted.location)
    assert "jayden" not in posted.location.lower()
    results = manager.get(posted.location)
    assert sorted(references(results)) == sorted(referral["reference"] for referral in made)
    assert 'value="Jayden Miller"' in text(results)  # the form, for another go
    # Refreshing (or Back, or a bookmark) runs it again: still there, and current.
    another = submitted(client, world, 1)[0]
    again = manager.get(posted.location)
    assert another["reference"] in references(again)
    # No link on the page carries the name either.
    assert not re.search(r'href="[^"]*(?i:jayden)', text(again))


def test_the_stored_search_keeps_no_name_in_the_audit_trail(app, client, world):
    submitted(client, world, 1)
    manager = sign_in(app, world.yjs_manager.user)
    located = search(manager, "Jayden").location
    manager.get(located)
    search_id = SEARCH_URL.match(located).group(1)
    with app.app_context():
        stored = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.search_saved")
        ).all()
        assert [event.record_id for event in stored] == [search_id]
        assert stored[0].fields == ["q"]
        assert "Jayden" not in repr([vars(event) for event in stored])
        viewed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.search")
        ).all()
        assert viewed  # each viewing is a search, audited with the ids shown


def test_search_results_page_and_sort_by_their_own_address(app, client, world, monkeypatch):
    monkeypatch.setattr("blueprints.web.referral_search.PAGE_SIZE", 2)
    made = submitted(client, world, 5)
    manager = sign_in(app, world.yjs_manager.user)
    located = search(manager, "jayden").location
    seen, page = [], 1
    while True:
        response = manager.get(f"{located}?page={page}")
        seen += references(response)
        if 'rel="next"' not in text(response):
            break
        assert f'href="{located}?page={page + 1}" rel="next"' in text(response)
        page += 1
    assert sorted(seen) == sorted(referral["reference"] for referral in made)
    ordered = references(manager.get(f"{located}?sort=reference"))
    assert ordered == sorted(ordered)
    assert manager.get(f"{located}?sort=nope").status_code == 422


def test_an_empty_search_is_an_error_on_the_page(app, world):
    manager = sign_in(app, world.yjs_manager.user)
    response = search(manager, "  ")
    assert response.status_code == 422
    assert "Enter a child&#39;s name or a referral reference" in text(response)
    too_long = search(manager, "x" * 101)
    assert too_long.status_code == 422
    assert "Name or reference must be 100 characters or less" in text(too_long)


def test_the_lists_old_search_form_still_searches_the_same_way(app, client, world):
    made = submitted(client, world, 1)[0]
    manager = sign_in(app, world.yjs_manager.user)
    posted = search(manager, "Jayden", path="/referrals")
    assert posted.status_code == 303
    assert SEARCH_URL.match(posted.location)
    assert references(manager.get(posted.location)) == [made["reference"]]
    filters_only = manager.post(
        "/referrals", data={"csrf_token": csrf_token(manager, "/referrals"), "status": "submitted"}
    )
    assert filters_only.status_code == 303
    assert filters_only.location == "/referrals?status=submitted"


def test_another_users_search_is_not_found(app, client, factory, world):
    submitted(client, world, 1)
    located = search(sign_in(app, world.yjs_manager.user), "Jayden").location
    colleague = sign_in(app, factory.user(Role.MANAGER, organisation=world.yjs))
    response = colleague.get(located)
    assert response.status_code == 404
    assert "Jayden" not in text(response)
    assert sign_in(app, world.stranger_manager.user).get(located).status_code == 404


def test_an_expired_search_says_so_and_offers_the_form(app, client, world):
    submitted(client, world, 1)
    manager = sign_in(app, world.yjs_manager.user)
    located = search(manager, "Jayden").location
    with app.app_context():
        db.session.execute(update(SavedSearch).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    expired = manager.get(located)
    assert expired.status_code == 410
    page = text(expired)
    assert "This search has expired. Search again." in page
    assert 'action="/referrals/search"' in page
    assert "Jayden" not in page
    # Storing the next search deletes the expired one; its address still says so.
    search(manager, "Kai")
    with app.app_context():
        assert db.session.get(SavedSearch, uuid.UUID(SEARCH_URL.match(located).group(1))) is None
    assert "This search has expired." in text(manager.get(located))


def test_forget_expired_deletes_only_expired_searches(app, world):
    with app.app_context():
        from referral_app.models import User

        user = db.session.get(User, world.officer.user.id)
        kept = saved_searches.store(user, {"q": "Kai"})
        gone = saved_searches.store(user, {"q": "Jayden"})
        gone.expires_at = utcnow() - timedelta(minutes=1)
        db.session.flush()
        assert saved_searches.forget_expired() == 1
        remaining = db.session.scalars(select(SavedSearch.id)).all()
        assert kept.id in remaining
        assert gone.id not in remaining
        db.session.rollback()


# --- attacks: another agency's referrals in no list, count or search ---------


def test_another_agencys_referrals_are_in_no_list_or_count(app, client, world):
    made = submitted(client, world, 3)
    working = create(client, world.officer, world.yjs)
    advance(client, world, working["id"], "in_progress")
    references_made = {referral["reference"] for referral in [*made, working]}
    stranger = sign_in(app, world.stranger_manager.user)
    home = stranger.get("/")
    assert not references_made & set(references(home))
    assert "Showing" not in text(home)
    for query in (
        "",
        "direction=incoming",
        "direction=outgoing",
        "direction=shared",
        "status=submitted",
        "sort=-activity",
        "overdue=false",
    ):
        response = stranger.get(f"/referrals?{query}")
        assert not references_made & set(references(response)), query
        assert "0 referrals" in text(response), query
    for term in ("Jayden", made[0]["reference"]):
        located = search(stranger, term).location
        found = stranger.get(located)
        assert references(found) == []
        assert "0 referrals" in text(found)


def test_a_saved_search_run_again_after_a_share_is_revoked_shows_nothing(app, client, world):
    referral = create(client, world.officer, world.yjs)
    advance(client, world, referral["id"], "in_progress")
    share = share_with(client, world, referral["id"], world.charity)
    charity = sign_in(app, world.charity_manager.user)
    located = search(charity, "Jayden").location
    assert references(charity.get(located)) == [referral["reference"]]
    shared_list = charity.get("/referrals?direction=shared")
    assert references(shared_list) == [referral["reference"]]
    revoked = client.delete(
        f"/api/v1/referrals/{referral['id']}/shares/{share['id']}",
        headers=world.yjs_manager.headers,
    )
    assert revoked.status_code in (200, 204), revoked.json
    assert references(charity.get(located)) == []
    assert references(charity.get("/referrals?direction=shared")) == []
    assert referral["reference"] not in text(charity.get("/"))
    assert "Shared with us" not in text(charity.get("/"))


def test_a_declined_referral_leaves_the_triage_count(app, client, world):
    made = submitted(client, world, 2)
    declined = act(client, world.yjs_manager, made[0]["id"], "decline", reason="Out of area.")
    assert declined.status_code == 200
    home = text(sign_in(app, world.yjs_manager.user).get("/"))
    assert "Showing 1 of 1" in home
    assert made[0]["reference"] not in home.split('id="worklist-triage"', 1)[1].split("</table>")[0]
