"""The pages: likely matches on the new-referral form, a child's page with
rectification and merging, and the printable subject access export."""

from __future__ import annotations

import re
import uuid

import pytest

from referral_app.extensions import db
from referral_app.models import Child, Referral, utcnow
from tests.blueprints.web.test_referral_pages import new_referral_form, sign_in
from tests.children.conftest import child, events, refer, refer_about
from tests.page_errors import assert_plain_errors, text_of


@pytest.fixture
def browsers(app, world):
    return {
        name: sign_in(app, getattr(world, name).user)
        for name in ("officer", "police_manager", "yjs_manager", "caseworker", "stranger_manager")
    }


def referral_child(app, referral_path: str) -> Child:
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(referral_path.rsplit("/", 1)[1]))
        return referral.child


def test_the_form_offers_likely_matches_before_creating_a_child(app, client, world, browsers):
    officer = browsers["officer"]
    # Someone else's record of him, which the police cannot see: the first
    # referral creates the police's record, and says others hold one.
    refer(client, world.stranger, world.charity, child("Jayden", "Miller", "2011-03-14"))
    first = officer.post("/referrals/new", data=new_referral_form(officer, world.yjs))
    assert first.status_code == 302
    told = officer.get(first.location).get_data(as_text=True)
    assert "1 likely record of this child is held by other agencies" in told
    known = referral_child(app, first.location)

    form = new_referral_form(officer, world.yjs, **{"child-first_name": "Jay"})
    asked = officer.post("/referrals/new", data=form)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Is this a child your agency already knows?" in page
    assert f'value="{known.id}"' in page
    assert "born 14 March 2011, SS1 2AA" in page
    assert re.search(r"Score \d+ out of 100: first name a short form", page)
    # "Jay" is not near-exactly "Jayden": the record held elsewhere is not
    # counted for this search (matching is not an oracle).
    assert "held by other agencies" not in page
    assert 'value="Jay"' in page  # the typed details are kept
    with app.app_context():
        assert db.session.query(Child).filter_by(first_name="Jay").count() == 0

    # Submitting again without an answer asks again, with an error.
    again = officer.post("/referrals/new", data={**form, "matches_shown": "1"})
    assert again.status_code == 422
    assert "Choose one of these records" in again.get_data(as_text=True)

    # An error elsewhere on the form keeps the matches and the choice made...
    choice = {"matches_shown": "1", "child_choice": str(known.id)}
    incomplete = officer.post("/referrals/new", data={**form, **choice, "risk_level": "severe"})
    assert incomplete.status_code == 422
    page = incomplete.get_data(as_text=True)
    assert 'href="#risk_level"' in page
    assert re.search(rf'value="{known.id}"\s+checked', page)
    # ...and so does a refusal of the referral (a reason is needed to submit).
    refused = officer.post("/referrals/new", data={**form, **choice, "reason": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'href="#reason"' in page
    assert f'name="child_choice" value="{known.id}"' in page
    assert "the existing record you chose" in page

    # The known record is chosen: no new child.
    chosen = officer.post(
        "/referrals/new", data={**form, "matches_shown": "1", "child_choice": str(known.id)}
    )
    assert chosen.status_code == 302
    assert referral_child(app, chosen.location).id == known.id

    # "None of these": a new record.
    created = officer.post(
        "/referrals/new", data={**form, "matches_shown": "1", "child_choice": "new"}
    )
    assert created.status_code == 302
    fresh = referral_child(app, created.location)
    assert fresh.id != known.id
    assert fresh.first_name == "Jay"
    assert len(events(app, "child.match")) == 4  # the first, and each time they were shown


def test_choosing_a_record_the_agency_cannot_see_is_refused(app, client, world, browsers):
    officer = browsers["officer"]
    officer.post("/referrals/new", data=new_referral_form(officer, world.yjs))
    theirs = refer(client, world.stranger, world.charity, child("Kai", "Jones", "2010-01-01"))
    form = new_referral_form(
        officer, world.yjs, matches_shown="1", child_choice=theirs["child"]["id"]
    )
    refused = officer.post("/referrals/new", data=form)
    assert refused.status_code == 422
    assert "Choose one of these records, or confirm none of them is this child" in (
        refused.get_data(as_text=True)
    )
    assert "Kai" not in refused.get_data(as_text=True)


def test_the_child_page_and_its_forms(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    page = manager.get(path).get_data(as_text=True)
    assert "Jayden Miller" in page
    assert "14 March 2011 (age " in page
    assert f'<a class="govuk-link" href="/referrals/{first["id"]}">{first["reference"]}</a>' in page
    assert "Correct the details" in page
    assert re.search(rf'name="duplicate_id" type="radio" value="{second["child"]["id"]}"', page)
    assert "Merging moves every referral" in page  # the warning before the choice
    assert f'action="{path}/export"' in page  # a POST, with the CSRF token

    caseworker_page = browsers["caseworker"].get(path).get_data(as_text=True)
    assert "Correct the details" not in caseworker_page
    assert "/export" not in caseworker_page
    assert browsers["caseworker"].get(f"{path}/merge").status_code == 403

    # Choosing the record shows what the merge will do; nothing changes yet.
    check = manager.get(f"{path}/merge", query_string={"duplicate_id": second["child"]["id"]})
    assert check.status_code == 200
    shown = text_of(check.get_data(as_text=True))
    assert "Merge these records?" in shown
    assert "The record of Jayden Miller stays. 1 referral about Jaydn Miller moves to it" in shown
    assert second["reference"] in shown
    assert check.get_data(as_text=True).count(f'href="{path}"') == 2  # back, and cancel
    assert events(app, "child.merge") == []

    merged = manager.post(
        f"{path}/merge",
        data={
            **page_tokens(manager, check.request.full_path),
            "duplicate_id": second["child"]["id"],
        },
    )
    assert merged.status_code == 302
    page = manager.get(path).get_data(as_text=True)
    assert "Records merged: 1 referral moved" in page
    assert second["reference"] in page
    undo = re.search(rf"{path}/merges/([0-9a-f-]{{36}})/undo", page)
    assert undo
    # Undoing, too, says first what will happen.
    asked = manager.get(undo.group(0))
    assert asked.status_code == 200
    said = text_of(asked.get_data(as_text=True))
    assert "Undo this merge?" in said
    assert "1 referral moves back to it" in said
    assert second["reference"] in said
    assert len(events(app, "child.merge")) == 1
    assert events(app, "child.unmerge") == []
    undone = manager.post(undo.group(0), data=page_tokens(manager, undo.group(0)))
    assert undone.status_code == 302
    page = manager.get(path).get_data(as_text=True)
    assert "Merge undone: 1 referral moved back" in page
    assert second["reference"] not in page


def page_tokens(client, path: str) -> dict[str, str]:
    """The CSRF and one-time form tokens of the (last) form on `path`."""
    page = client.get(path).get_data(as_text=True)
    tokens = dict(re.findall(r'name="(csrf_token|form_token)" value="([^"]+)"', page))
    assert set(tokens) == {"csrf_token", "form_token"}, path
    return tokens


def rectify_form(client, path, **changes):
    form = {
        **page_tokens(client, path),
        "first_name": "Jayden",
        "last_name": "Miller",
        "dob-day": "14",
        "dob-month": "3",
        "dob-year": "2011",
        "gender": "",
        "address": "",
        "postcode": "SS1 2AA",
        "school": "Southend High",
    }
    form.update(changes)
    return form


def test_rectify_through_the_page(app, client, world, browsers):
    made = refer(
        client,
        world.officer,
        world.yjs,
        child("Jaydn", "Miller", "2011-03-14", "SS1 2AA", school="Southend High"),
    )
    manager = browsers["police_manager"]
    path = f"/children/{made['child']['id']}"
    saved = manager.post(f"{path}/rectify", data=rectify_form(manager, path, **{"dob-day": "15"}))
    assert saved.status_code == 302
    page = manager.get(path).get_data(as_text=True)
    assert "Details corrected: first name, date of birth." in page
    (event,) = events(app, "child.rectify")
    assert event.fields == ["date_of_birth", "first_name"]

    bad = manager.post(
        f"{path}/rectify",
        data=rectify_form(manager, path, first_name="", **{"dob-month": "13"}, postcode="nope"),
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert_plain_errors(
        text,
        "Enter the child's first name",
        "Date of birth must be a real date",
        "Enter a real postcode",
    )
    assert 'href="#first_name"' in text
    assert 'href="#dob-day"' in text
    assert 'value="nope"' in text  # what was typed is kept, to be corrected
    with app.app_context():
        kept = db.session.get(Child, uuid.UUID(made["child"]["id"]))
        assert (kept.first_name, kept.postcode) == ("Jayden", "SS1 2AA")
    assert len(events(app, "child.rectify")) == 1


def test_a_correction_the_service_refuses_is_a_plain_error_on_the_page(
    app, client, world, browsers
):
    made = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{made['child']['id']}"
    form = rectify_form(manager, path, school="Westcliff High")
    with app.app_context():  # anonymised under the retention policy meanwhile
        record = db.session.get(Child, uuid.UUID(made["child"]["id"]))
        record.anonymised_at = utcnow()
        db.session.commit()
    refused = manager.post(f"{path}/rectify", data=form)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert assert_plain_errors(page) == [
        "The child's record was anonymised under the retention policy"
    ]
    assert 'href="#rectify-heading"' in page
    assert events(app, "child.rectify") == []


TOO_LONG = "x" * 501
EMPTY = {
    "first_name": "",
    "last_name": "",
    "dob-day": "",
    "dob-month": "",
    "dob-year": "",
    "postcode": "",
    "school": "",
}


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        (
            EMPTY,
            [
                "Enter the child's first name",
                "Enter the child's last name",
                "Enter the child's date of birth",
            ],
        ),
        (
            {"first_name": " ", "last_name": "x" * 101, "dob-day": "", "dob-year": ""},
            [
                "Enter the child's first name",
                "Last name must be 100 characters or less",
                "Date of birth must include a day and year",
            ],
        ),
        (
            {"dob-day": "31", "dob-month": "2", "gender": "x" * 41, "address": TOO_LONG},
            [
                "Date of birth must be a real date",
                "Gender must be 40 characters or less",
                "Address must be 500 characters or less",
            ],
        ),
        ({"dob-year": "2099"}, ["Date of birth must be in the past"]),
        ({"dob-year": "1990"}, ["The child must be under 25"]),
        (
            {"dob-day": "x", "dob-month": "-1", "dob-year": "20x6"},
            ["Date of birth must be a real date"],
        ),
        ({"dob-year": "99999999999999999999"}, ["Date of birth must be a real date"]),
        ({"dob-day": "99999999999999999999"}, ["Date of birth must be a real date"]),
        (
            {"postcode": "SS1 2AAA", "school": "y" * 201},
            ["Enter a real postcode", "School must be 200 characters or less"],
        ),
    ],
)
def test_bad_corrections_are_refused_in_plain_words(
    app, client, world, browsers, changes, messages
):
    made = refer(
        client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14", "SS1 2AA")
    )
    manager = browsers["yjs_manager"]
    path = f"/children/{made['child']['id']}"
    response = manager.post(f"{path}/rectify", data=rectify_form(manager, path, **changes))
    assert response.status_code == 422
    assert_plain_errors(response.get_data(as_text=True), *messages)
    assert events(app, "child.rectify") == []
    with app.app_context():
        kept = db.session.get(Child, uuid.UUID(made["child"]["id"]))
        assert (kept.first_name, kept.last_name, str(kept.date_of_birth), kept.postcode) == (
            "Jayden",
            "Miller",
            "2011-03-14",
            "SS1 2AA",
        )


def test_a_form_sent_with_nothing_at_all_is_refused_in_plain_words(app, client, world, browsers):
    made = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{made['child']['id']}"
    tokens = {"csrf_token": page_tokens(manager, path)["csrf_token"]}
    rectified = manager.post(f"{path}/rectify", data=tokens)
    assert rectified.status_code == 422
    assert_plain_errors(rectified.get_data(as_text=True))
    merged = manager.post(f"{path}/merge", data=tokens)
    assert merged.status_code == 422
    assert_plain_errors(merged.get_data(as_text=True), "Select the record to merge into this one")
    assert events(app, "child.rectify") == events(app, "child.merge") == []


@pytest.mark.parametrize("chosen", [None, "", "not-an-id", "self"])
def test_merging_without_choosing_a_record_asks_for_one(app, client, world, browsers, chosen):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    query = (
        {}
        if chosen is None
        else {"duplicate_id": first["child"]["id"] if chosen == "self" else chosen}
    )
    expected = (
        "Select another record: a record cannot be merged into itself"
        if chosen == "self"
        else "Select the record to merge into this one"
    )
    # The choice (a GET to the page that says what will happen)...
    asked = manager.get(f"{path}/merge", query_string=query)
    assert asked.status_code == 422
    page = asked.get_data(as_text=True)
    assert_plain_errors(page, expected)
    assert 'href="#duplicate_id"' in page
    assert 'id="duplicate_id"' in page  # the link has somewhere to go
    # ...and the merge itself (a POST, as if the confirmation page were tampered with).
    sent = manager.post(f"{path}/merge", data={**page_tokens(manager, path), **query})
    assert sent.status_code == 422
    assert_plain_errors(sent.get_data(as_text=True), expected)
    assert events(app, "child.merge") == []


def test_a_merge_the_service_refuses_is_a_plain_error_on_the_page(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    # The police also referred the second record to the charity: a referral
    # the youth justice service neither made nor received, which it may not move.
    refer_about(client, world.officer, world.charity, second["child"]["id"])
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    form = {**page_tokens(manager, path), "duplicate_id": second["child"]["id"]}
    refused = manager.post(f"{path}/merge", data=form)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    (message,) = assert_plain_errors(page)
    assert message.startswith("Other agencies referred or received referrals")
    assert 'href="#duplicate_id"' in page
    assert events(app, "child.merge") == []
    with app.app_context():
        assert db.session.get(Child, uuid.UUID(second["child"]["id"])).merged_into_id is None


def test_an_undo_sent_twice_undoes_once(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    form = {**page_tokens(manager, path), "duplicate_id": second["child"]["id"]}
    assert manager.post(f"{path}/merge", data=form).status_code == 302
    # The merged record is gone from view: merging it again is a 404.
    again = manager.post(
        f"{path}/merge", data={**page_tokens(manager, path), "duplicate_id": second["child"]["id"]}
    )
    assert again.status_code == 404
    page = manager.get(path).get_data(as_text=True)
    undo = re.search(rf"{path}/merges/[0-9a-f-]{{36}}/undo", page).group(0)
    first_undo = page_tokens(manager, undo)
    second_undo = page_tokens(manager, undo)  # a second tab, opened before the first was used
    assert manager.post(undo, data=first_undo).status_code == 302
    # The same form sent again goes where the first went, and undoes nothing more.
    resent = manager.post(undo, data=first_undo)
    assert (resent.status_code, resent.location) == (302, path)
    # The second tab's form: the merge is undone already, a plain error.
    late = manager.post(undo, data=second_undo)
    assert late.status_code == 409
    assert assert_plain_errors(late.get_data(as_text=True)) == [
        "This merge has already been undone"
    ]
    assert 'href="#merges-heading"' in late.get_data(as_text=True)
    assert len(events(app, "child.unmerge")) == 1


def test_a_double_clicked_merge_merges_once(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    confirm = f"{path}/merge?duplicate_id={second['child']['id']}"
    form = {**page_tokens(manager, confirm), "duplicate_id": second["child"]["id"]}
    assert manager.post(f"{path}/merge", data=form).status_code == 302
    again = manager.post(f"{path}/merge", data=form)
    assert again.status_code == 302
    assert again.location == path
    assert len(events(app, "child.merge")) == 1


def test_another_agencys_child_is_404_on_every_child_page(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    theirs = refer(client, world.stranger, world.charity, child("Jayden", "Millar", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    # A record of another agency's chosen for a merge does not exist.
    assert (
        manager.get(
            f"{path}/merge", query_string={"duplicate_id": theirs["child"]["id"]}
        ).status_code
        == 404
    )
    merged = manager.post(
        f"{path}/merge", data={**page_tokens(manager, path), "duplicate_id": second["child"]["id"]}
    )
    assert merged.status_code == 302
    undo = re.search(r"/merges/([0-9a-f-]{36})/undo", manager.get(path).get_data(as_text=True))
    assert undo
    stranger = browsers["stranger_manager"]
    exported = stranger.post(f"{path}/export", data=page_tokens(stranger, "/referrals/new"))
    assert exported.status_code == 404
    for page in (
        path,
        f"{path}/merge?duplicate_id={second['child']['id']}",
        f"{path}{undo.group(0)}",
    ):
        response = stranger.get(page)
        assert response.status_code == 404, page
        assert "Jayden" not in response.get_data(as_text=True)
    # A merge into another record than the one it was made into is not found either.
    other = f"/children/{theirs['child']['id']}{undo.group(0)}"
    assert stranger.get(other).status_code == 404


def test_the_printable_export(app, client, world, browsers):
    made = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    for author, body, visibility in (
        (world.officer, "Police internal note", "internal"),
        (world.yjs_manager, "YJS internal note", "internal"),
        (world.yjs_manager, "Shared note from the YJS", "shared"),
    ):
        client.post(
            f"/api/v1/referrals/{made['id']}/notes",
            json={"body": body, "visibility": visibility},
            headers=author.headers,
        )
    path = f"/children/{made['child']['id']}/export"
    manager = browsers["police_manager"]
    # The export is an audited disclosure: a POST with the CSRF token, so no
    # other site can make a browser ask for one.
    assert manager.get(path).status_code == 405
    page = manager.post(path, data=page_tokens(manager, f"/children/{made['child']['id']}"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Subject access export" in text
    assert made["reference"] in text
    assert "Police internal note" in text
    assert "Shared note from the YJS" in text
    assert "YJS internal note" not in text
    assert "Referral: create" in text  # who accessed it
    assert "14 March 2011 (age " in text
    assert 'class="govuk-summary-list"' in text
    # Times in UK time, with the zone (the API keeps UTC).
    assert re.search(r"as at \d{1,2} \w+ \d{4}, \d{1,2}:\d{2}[ap]m (GMT|BST)\.", text)
    assert " UTC" not in text
    assert len(events(app, "child.export")) == 1
    officer = browsers["officer"]
    assert officer.post(path, data=page_tokens(officer, "/referrals/new")).status_code == 403
    forged = manager.post(path, data={})  # no CSRF token: refused, nothing disclosed
    assert forged.status_code == 400
    assert len(events(app, "child.export")) == 1
