"""Subject access: everything an agency holds about a child, and who saw it."""

from __future__ import annotations

from tests.children.conftest import child, events, refer, refer_about
from tests.referral_helpers import share_with


def note(client, actor, referral_id, body, visibility):
    response = client.post(
        f"/api/v1/referrals/{referral_id}/notes",
        json={"body": body, "visibility": visibility},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json


def export(client, actor, child_id):
    return client.get(f"/api/v1/children/{child_id}/export", headers=actor.headers)


def scenario(client, world):
    """Police -> YJS about Jayden, accepted by the YJS and shared with the
    charity, with notes of each kind; and the charity's own referral of him
    on to the stranger agency, which neither the police nor the YJS hold."""
    referral = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"action": "accept"},
        headers=world.yjs_manager.headers,
    )
    note(client, world.yjs_manager, referral["id"], "YJS internal: family context", "internal")
    note(client, world.yjs_manager, referral["id"], "Shared: attended first session", "shared")
    note(client, world.officer, referral["id"], "Police internal: intelligence", "internal")
    share_with(client, world, referral["id"], world.charity)
    note(client, world.charity_worker, referral["id"], "Charity internal: mentor notes", "internal")
    # The charity refers Jayden on to the stranger agency, which reads his record.
    unseen = refer_about(client, world.charity_worker, world.stranger_org, referral["child"]["id"])
    read = client.get(f"/api/v1/children/{referral['child']['id']}", headers=world.stranger.headers)
    assert read.status_code == 200
    return referral, unseen


def test_export_holds_exactly_what_the_agency_may_see(app, client, world):
    referral, unseen = scenario(client, world)
    child_id = referral["child"]["id"]
    response = export(client, world.police_manager, child_id)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["child"]["first_name"] == "Jayden"
    assert body["organisation"]["id"] == str(world.police.id)
    # Only the referral the police hold, not the charity's onward referral.
    assert [item["referral"]["id"] for item in body["referrals"]] == [referral["id"]]
    (item,) = body["referrals"]
    bodies = {n["body"] for n in item["notes"]}
    assert bodies == {"Shared: attended first session", "Police internal: intelligence"}
    assert [change["to_status"] for change in item["history"]] == ["submitted", "accepted"]
    assert [grant["organisation"]["id"] for grant in item["shares"]] == [str(world.charity.id)]
    text = response.get_data(as_text=True)
    assert "YJS internal" not in text
    assert "Charity internal" not in text
    assert unseen["id"] not in text
    assert str(world.stranger_org.id) not in text
    # Who accessed it: the YJS's reads of the referral are there...
    who = {(entry["actor_organisation"]["id"], entry["action"]) for entry in body["access"]}
    assert (str(world.yjs.id), "referral.note_added") in who
    assert (str(world.police.id), "referral.create") in who
    # ...but not the stranger agency's dealings with the child's record, which
    # would tell the police it holds something about him.
    assert all(
        entry["actor_organisation"]["id"] != str(world.stranger_org.id) for entry in body["access"]
    )
    assert body["access_truncated"] is False


def test_the_charity_sees_its_own_share_and_shared_notes(client, world):
    referral, unseen = scenario(client, world)
    body = export(client, world.charity_manager, referral["child"]["id"]).json
    ids = {item["referral"]["id"] for item in body["referrals"]}
    assert ids == {referral["id"], unseen["id"]}
    shared = next(item for item in body["referrals"] if item["referral"]["id"] == referral["id"])
    assert {n["body"] for n in shared["notes"]} == {
        "Shared: attended first session",
        "Charity internal: mentor notes",
    }
    assert [grant["organisation"]["id"] for grant in shared["shares"]] == [str(world.charity.id)]


def test_the_export_is_audited_as_a_disclosure(app, client, world):
    referral, _ = scenario(client, world)
    export(client, world.yjs_manager, referral["child"]["id"])
    (event,) = events(app, "child.export")
    assert event.record_type == "child"
    assert event.record_id == referral["child"]["id"]
    assert event.record_ids == [referral["id"]]
    assert event.recipient_organisation_id == world.yjs.id
    assert event.reason == "subject access"
    assert "Jayden" not in str(event.canonical())
    # The next export lists the first one among the accesses.
    again = export(client, world.yjs_manager, referral["child"]["id"]).json
    assert "child.export" in {entry["action"] for entry in again["access"]}


def test_only_managers_export(client, world):
    referral, _ = scenario(client, world)
    for actor in (world.officer, world.caseworker, world.charity_worker):
        assert export(client, actor, referral["child"]["id"]).status_code == 403


def test_the_export_includes_actions_and_meeting_decisions(app, client, world):
    """The work after the referral is the child's data too: the actions on
    each referral the agency holds and what meetings decided; the page
    shows them."""
    import uuid
    from datetime import timedelta

    from referral_app.extensions import db
    from referral_app.models import AgendaDecision, Referral, RiskLevel, User, uk_today, utcnow
    from referral_app.services import actions, meeting_agenda, meetings
    from tests.children.test_pages import page_tokens, sign_in
    from tests.factories import commit_and_seal

    referral, _unseen = scenario(client, world)
    with app.app_context():
        manager = db.session.get(User, world.yjs_manager.user.id)
        held = db.session.get(Referral, uuid.UUID(referral["id"]))
        actions.create_action(
            manager,
            held,
            description="Offer a mentor from the boxing club",
            owning_organisation_id=world.yjs.id,
            due_on=uk_today() + timedelta(days=5),
        )
        meeting = meetings.convene(
            manager,
            title="Southend MACE",
            held_at=utcnow() - timedelta(hours=2),
            invited_organisation_ids=[world.police.id, world.charity.id],
            online=True,
        )
        item = meeting_agenda.add_to_agenda(manager, meeting, held.id)
        meeting_agenda.record_item(
            manager,
            meeting,
            item.id,
            decision=AgendaDecision.CONTINUE,
            discussion="Older males seen collecting him from school.",
            risk_level=RiskLevel.HIGH,
        )
        commit_and_seal(app)
    body = export(client, world.police_manager, referral["child"]["id"]).json
    (item_out,) = body["referrals"]
    assert [a["description"] for a in item_out["actions"]] == [
        "Offer a mentor from the boxing club"
    ]
    (decided,) = item_out["meeting_decisions"]
    assert decided["meeting"]["title"] == "Southend MACE"
    assert decided["decision"] == "continue"
    assert decided["discussion"] == "Older males seen collecting him from school."
    assert "Stranger" not in str(item_out)
    # The printable export page shows them too.
    browser = sign_in(app, world.police_manager.user)
    path = f"/children/{referral['child']['id']}"
    page = browser.post(f"{path}/export", data=page_tokens(browser, path))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Offer a mentor from the boxing club" in html
    assert "Older males seen collecting him from school." in html


def test_the_export_includes_the_screenings_with_their_evidence_and_judgement(app, client, world):
    """A screening is the child's data: its answers with the evidence, the
    level indicated and the judgement with its reason, in the JSON and on
    the printable page."""
    from tests.children.test_pages import page_tokens, sign_in
    from tests.screenings.conftest import answers, judge, screen

    referral, _unseen = scenario(client, world)
    made = screen(client, world.officer, referral["id"], answers=answers(("weapon_found",))).json
    judged = judge(
        client,
        world.yjs_manager,
        referral["id"],
        made["id"],
        judgement_level="medium",
        judgement_reason="Found at a cousin's flat; he was not there.",
    )
    assert judged.status_code == 200, judged.json
    body = export(client, world.police_manager, referral["child"]["id"]).json
    (item_out,) = body["referrals"]
    (screening,) = item_out["screenings"]
    assert screening["indicated_level"] == "high"
    assert screening["judgement_level"] == "medium"
    assert screening["judgement_reason"] == "Found at a cousin's flat; he was not there."
    assert screening["answers"]["weapon_found"]["evidence"] == "Seen: weapon_found."
    browser = sign_in(app, world.police_manager.user)
    path = f"/children/{referral['child']['id']}"
    page = browser.post(f"{path}/export", data=page_tokens(browser, path))
    html = page.get_data(as_text=True)
    assert "Exploitation screenings" in html
    assert "Found at a cousin&#39;s flat; he was not there." in html
    assert "weapon found: Seen: weapon_found." in html
