"""Enrolment is not a password-only door: where TOTP_ENROLMENT_NEEDS_CODE
(production), a user without an authenticator cannot set one up with their
password alone. They need a one-time code an admin issued: shown once,
kept only as a hash, lapsing, used up by the enrolment, audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest

from referral_app.extensions import db
from referral_app.models import AuditEvent, Role, User, utcnow
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer, token_for


@pytest.fixture
def codes_needed(app):
    app.config["TOTP_ENROLMENT_NEEDS_CODE"] = True
    yield
    app.config["TOTP_ENROLMENT_NEEDS_CODE"] = False


def enrol(client, enrolment_code=None):
    text = client.get("/account/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-key">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    data = {
        "csrf_token": csrf_token(client, "/account/totp"),
        "current_password": PASSWORD,
        "otp": pyotp.TOTP(secret).now(),
    }
    if enrolment_code is not None:
        data["enrolment_code"] = enrolment_code
    return client.post("/account/totp", data=data)


def issue_through_the_page(app, admin, user) -> str:
    browser = sign_in(app, admin)
    page = browser.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Issue an enrolment code" in page
    shown = browser.post(
        f"/admin/users/{user.id}/enrolment-code",
        data={"csrf_token": csrf_token(browser, f"/admin/users/{user.id}")},
    )
    assert shown.status_code == 200
    return re.search(r'class="app-code">([A-Z0-9-]+)<', shown.get_data(as_text=True)).group(1)


def test_rejects_enrolment_with_the_password_alone(app, factory, codes_needed):
    user = factory.user(Role.CASEWORKER)
    client = sign_in(app, user)
    assert "Enrolment code" in client.get("/account/totp").get_data(as_text=True)
    refused = enrol(client)
    assert refused.status_code == 422
    assert "Enter the enrolment code your administrator gave you" in refused.get_data(True)
    assert enrol(client, "AAAA-BBBB-CCCC").status_code == 422
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret is None


def test_an_admins_code_lets_the_user_enrol_once(app, factory, codes_needed):
    user = factory.user(Role.CASEWORKER)
    admin = factory.user(Role.ORG_ADMIN, organisation=_org_of(app, user))
    code = issue_through_the_page(app, admin, user)
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert code.replace("-", "") not in (stored.enrolment_code_hash or "")
        issued = db.session.query(AuditEvent).filter_by(action="user.enrolment_code_issued")
        assert issued.count() == 1
        assert code not in str(issued.one().canonical())
    client = sign_in(app, user)
    assert enrol(client, code.lower()).status_code == 302  # case and dashes forgiven
    with app.app_context():
        person = db.session.get(User, user.id)
        assert person.totp_secret is not None
        assert person.enrolment_code_hash is None  # used up


def test_a_lapsed_code_is_refused(app, factory, codes_needed):
    user = factory.user(Role.CASEWORKER)
    admin = factory.user(Role.ORG_ADMIN, organisation=_org_of(app, user))
    code = issue_through_the_page(app, admin, user)
    with app.app_context():
        person = db.session.get(User, user.id)
        person.enrolment_code_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert enrol(sign_in(app, user), code).status_code == 422


def test_the_api_issues_a_code_only_for_users_the_admin_manages(app, client, factory):
    user = factory.user(Role.CASEWORKER)
    admin = factory.user(Role.ORG_ADMIN, organisation=_org_of(app, user))
    stranger_admin = factory.user(Role.ORG_ADMIN)
    issued = client.post(
        f"/api/v1/users/{user.id}/enrolment-code", headers=bearer(token_for(client, admin))
    )
    assert issued.status_code == 201
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", issued.json["code"])
    refused = client.post(
        f"/api/v1/users/{user.id}/enrolment-code",
        headers=bearer(token_for(client, stranger_admin)),
    )
    assert refused.status_code in (403, 404)


def test_without_the_setting_enrolment_needs_no_code(app, factory):
    client = sign_in(app, factory.user(Role.CASEWORKER))
    assert "Enrolment code" not in client.get("/account/totp").get_data(as_text=True)
    assert enrol(client).status_code == 302


def _org_of(app, user):
    from tests.factories import OrgInfo

    with app.app_context():
        organisation = db.session.get(User, user.id).organisation
        return OrgInfo(organisation.id, organisation.code, organisation.name)
