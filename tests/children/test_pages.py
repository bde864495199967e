"""The pages: likely matches on the new-referral form, a child's page with
rectification and merging, and the printable subject access export."""

from __future__ import annotations

import re
import uuid

import pytest

from referral_app.extensions import db
from referral_app.models import Child, Referral
from tests.blueprints.web.test_referral_pages import new_referral_form, sign_in
from tests.children.conftest import child, events, refer
from tests.conftest import csrf_token


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
    assert "1 likely record of this child is held by other agencies" in page
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
    assert "No child with this id is visible to you." in refused.get_data(as_text=True)
    assert "Kai" not in refused.get_data(as_text=True)


def test_the_child_page_and_its_forms(app, client, world, browsers):
    first = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    second = refer(client, world.officer, world.yjs, child("Jaydn", "Miller", "2011-03-14"))
    manager = browsers["yjs_manager"]
    path = f"/children/{first['child']['id']}"
    page = manager.get(path).get_data(as_text=True)
    assert "Jayden Miller" in page
    assert first["reference"] in page
    assert "Correct the details" in page
    assert f'name="duplicate_id" value="{second["child"]["id"]}"' in page
    assert f"{path}/export" in page

    caseworker_page = browsers["caseworker"].get(path).get_data(as_text=True)
    assert "Correct the details" not in caseworker_page
    assert "/export" not in caseworker_page

    merged = manager.post(
        f"{path}/merge",
        data={"csrf_token": csrf_token(manager, path), "duplicate_id": second["child"]["id"]},
    )
    assert merged.status_code == 302
    page = manager.get(path).get_data(as_text=True)
    assert "Records merged: 1 referral moved" in page
    assert second["reference"] in page
    undo = re.search(rf"{path}/merges/([0-9a-f-]{{36}})/undo", page)
    assert undo
    undone = manager.post(undo.group(0), data={"csrf_token": csrf_token(manager, path)})
    assert undone.status_code == 302
    assert second["reference"] not in manager.get(path).get_data(as_text=True)


def rectify_form(client, path, **changes):
    form = {
        "csrf_token": csrf_token(client, path),
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
    assert "Enter the first name." in text
    assert "Date of birth must be a real date." in text
    assert "Not a UK postcode." in text
    with app.app_context():
        kept = db.session.get(Child, uuid.UUID(made["child"]["id"]))
        assert (kept.first_name, kept.postcode) == ("Jayden", "SS1 2AA")
    assert len(events(app, "child.rectify")) == 1


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
    page = browsers["police_manager"].get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Subject access export" in text
    assert made["reference"] in text
    assert "Police internal note" in text
    assert "Shared note from the YJS" in text
    assert "YJS internal note" not in text
    assert "Referral: create" in text  # who accessed it
    assert len(events(app, "child.export")) == 1
    assert browsers["officer"].get(path).status_code == 403
