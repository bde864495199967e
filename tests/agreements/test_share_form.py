"""The share form on the referral page: it offers the agreements in force
that the agency is a party to, or sharing without one with a reason; a
share with neither is refused with the error summary and nothing shared."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Share
from tests.agreements.conftest import make_agreement
from tests.blueprints.web.test_referral_detail_pages import error_messages, send, sign_in
from tests.referral_helpers import advance, create


def _referral(client, world) -> str:
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "accepted")
    return made["id"]


def _fields(world, **more):
    end = date.today() + timedelta(days=30)
    return {
        "organisation_id": str(world.charity.id),
        "purpose": "Mentoring place",
        "lawful_basis": "public_task",
        "expires_on-day": str(end.day),
        "expires_on-month": str(end.month),
        "expires_on-year": str(end.year),
        **more,
    }


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Share)) or 0


def test_the_form_offers_the_agreements_in_force_and_shares_under_one(client, app, world):
    rid = _referral(client, world)
    agreement = make_agreement(client, world.yjs_manager, world.yjs, world.charity).json
    ended = make_agreement(
        client,
        world.yjs_manager,
        world.yjs,
        world.charity,
        title="An old agreement",
        starts_on=(date.today() - timedelta(days=90)).isoformat(),
        ends_on=(date.today() - timedelta(days=1)).isoformat(),
    ).json
    manager = sign_in(app, world.yjs_manager.user)
    page = manager.get(f"/referrals/{rid}").get_data(as_text=True)
    assert f'value="{agreement["id"]}"' in page
    assert f'value="{ended["id"]}"' not in page
    assert "Share without an agreement" in page
    path = f"/referrals/{rid}"
    done = send(manager, path, f"{path}/shares", **_fields(world, agreement_id=agreement["id"]))
    assert done.status_code == 302
    shares = client.get(f"/api/v1/referrals/{rid}/shares", headers=world.yjs_manager.headers).json
    assert [s["agreement_id"] for s in shares] == [agreement["id"]]


def test_a_share_with_neither_is_refused_with_the_error_summary(client, app, world):
    rid = _referral(client, world)
    manager = sign_in(app, world.yjs_manager.user)
    path = f"/referrals/{rid}"
    before = _count(app)
    refused = send(manager, path, f"{path}/shares", **_fields(world))
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == [
        "Choose the information sharing agreement that covers this share, "
        "or say why you are sharing without one"
    ]
    assert 'href="#agreement_id"' in refused.get_data(as_text=True)
    short = send(
        manager,
        path,
        f"{path}/shares",
        **_fields(world, agreement_id="none", no_agreement_reason="Urgent"),
    )
    assert short.status_code == 422
    assert error_messages(short.get_data(as_text=True)) == [
        "Say in a few words why you are sharing without an agreement"
    ]
    assert _count(app) == before


def test_an_agreement_not_naming_the_recipient_is_refused_in_our_words(client, app, world):
    rid = _referral(client, world)
    police_only = make_agreement(client, world.yjs_manager, world.yjs, world.police).json
    manager = sign_in(app, world.yjs_manager.user)
    path = f"/referrals/{rid}"
    refused = send(
        manager, path, f"{path}/shares", **_fields(world, agreement_id=police_only["id"])
    )
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == [
        "This agreement does not name the agency you are sharing with"
    ]


def test_sharing_without_an_agreement_from_the_page_records_the_reason(client, app, world):
    rid = _referral(client, world)
    manager = sign_in(app, world.yjs_manager.user)
    path = f"/referrals/{rid}"
    reason = "Emergency tonight: the charity's outreach team is with him"
    done = send(
        manager,
        path,
        f"{path}/shares",
        **_fields(world, agreement_id="none", no_agreement_reason=reason),
    )
    assert done.status_code == 302
    shares = client.get(f"/api/v1/referrals/{rid}/shares", headers=world.yjs_manager.headers).json
    assert [(s["agreement_id"], s["no_agreement_reason"]) for s in shares] == [(None, reason)]
