"""Admin and audit pages: who may reach them, what they change, the audit
page's filters (each of them, and the values it cannot use), and the error
pages."""

from __future__ import annotations

import re
import uuid

from referral_app.models import Role
from referral_app.services.audit import Verification
from tests.blueprints.web.test_audit_page import event_actions
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token


def test_org_admin_adds_a_user_and_case_roles_cannot(app, factory):
    org = factory.organisation()
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert 'href="/admin/users/new"' in page.get_data(as_text=True)
    created = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(admin, "/admin/users/new"),
            "email": "new.caseworker@example.org",
            "full_name": "New Caseworker",
            "organisation_id": str(org.id),
            "roles": ["caseworker"],
            "password": "a long enough passphrase",
        },
    )
    assert created.status_code == 302
    listed = admin.get("/admin/users").get_data(as_text=True).replace("<wbr>", "")
    assert "new.caseworker@example.org" in listed
    short = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(admin, "/admin/users/new"),
            "email": "x@example.org",
            "full_name": "X",
            "organisation_id": str(org.id),
            "roles": ["caseworker"],
            "password": "short",
        },
    )
    assert short.status_code == 422
    assert "There is a problem" in short.get_data(as_text=True)
    referrer = sign_in(app, factory.user(Role.REFERRER, organisation=org))
    assert referrer.get("/admin/users").status_code == 403
    assert referrer.get("/admin/users/new").status_code == 403
    assert referrer.get("/admin/organisations").status_code == 403


def test_org_admin_disables_a_user(app, factory):
    org = factory.organisation()
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    victim = factory.user(Role.CASEWORKER, organisation=org)
    victim_client = sign_in(app, victim)
    page = f"/admin/users/{victim.id}"
    response = admin.post(
        page,
        data={"csrf_token": csrf_token(admin, page), "roles": ["caseworker"], "active": "false"},
    )
    assert response.status_code == 302
    assert victim_client.get("/").status_code == 302  # signed out
    shown = admin.get(page).get_data(as_text=True)
    assert "account is disabled and they have been signed out everywhere" in shown
    assert "Disabled: cannot sign in" in shown


def test_another_agencys_user_page_does_not_exist_for_an_org_admin(app, factory):
    admin = sign_in(app, factory.user(Role.ORG_ADMIN))
    stranger = factory.user(Role.CASEWORKER)
    assert admin.get(f"/admin/users/{stranger.id}").status_code == 404
    assert admin.get(f"/admin/users/{uuid.uuid4()}").status_code == 404


def test_an_admin_cannot_sign_themselves_out_from_their_user_page(app, factory):
    """Their own page sends them to their account for that (which keeps
    this browser signed in)."""
    admin_user = factory.user(Role.ORG_ADMIN)
    admin = sign_in(app, admin_user)
    own = admin.get(f"/admin/users/{admin_user.id}").get_data(as_text=True)
    assert "/sign-out" not in own
    assert 'href="/account"' in own


def test_system_admin_adds_an_organisation(app, factory):
    admin = sign_in(app, factory.user(Role.SYSTEM_ADMIN))
    created = admin.post(
        "/admin/organisations",
        data={
            "csrf_token": csrf_token(admin, "/admin/organisations/new"),
            "name": "Hertfordshire Constabulary",
            "code": "herts-police",
            "kind": "police",
        },
    )
    assert created.status_code == 302
    listed = admin.get("/admin/organisations").get_data(as_text=True)
    assert "Hertfordshire Constabulary has been added." in listed
    assert "herts-police" in listed.replace("<wbr>", "")


def test_auditor_reads_and_verifies_the_trail(app, factory):
    auditor = sign_in(app, factory.user(Role.AUDITOR))
    page = auditor.get("/audit")
    assert page.status_code == 200
    assert event_actions(page)
    assert set(event_actions(page)) <= {"Signed in", "Session started"}
    verified = auditor.post("/audit/verify", data={"csrf_token": csrf_token(auditor, "/audit")})
    assert verified.status_code == 200
    text = verified.get_data(as_text=True)
    assert re.search(r"The audit trail is intact: [\d,]+ events? checked", text)
    caseworker = sign_in(app, factory.user(Role.CASEWORKER))
    assert caseworker.get("/audit").status_code == 403


def test_a_broken_chain_names_the_first_bad_event(app, factory, monkeypatch):
    from referral_app.services import audit

    monkeypatch.setattr(
        audit, "verify", lambda _session: Verification(ok=False, checked=1234, first_bad_seq=57)
    )
    auditor = sign_in(app, factory.user(Role.AUDITOR))
    verified = auditor.post("/audit/verify", data={"csrf_token": csrf_token(auditor, "/audit")})
    text = verified.get_data(as_text=True)
    assert "The audit trail is broken at event 57" in text
    assert "1,234 events were checked" in text


# --- Error pages ------------------------------------------------------------------


def test_error_pages_say_what_happened_in_plain_words(app, factory):
    caseworker = sign_in(app, factory.user(Role.CASEWORKER))
    missing = caseworker.get("/no-such-page")
    assert missing.status_code == 404
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in missing.get_data(as_text=True)
    forbidden = caseworker.get("/audit")
    assert forbidden.status_code == 403
    assert "You do not have permission to see this page" in forbidden.get_data(as_text=True)
    wrong_method = caseworker.get("/audit/verify")
    assert wrong_method.status_code == 405
    assert "This page cannot be opened directly" in wrong_method.get_data(as_text=True)
    no_token = caseworker.post("/account", data={"current_password": "x"})
    assert no_token.status_code == 400
    text = no_token.get_data(as_text=True)
    assert "Sorry, the page could not be sent" in text
    assert "CSRF" not in text


def test_a_crash_on_a_page_is_a_plain_500_page(app, factory, monkeypatch):
    from referral_app.services import users

    def crash(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    admin = sign_in(app, factory.user(Role.ORG_ADMIN))
    monkeypatch.setattr(users, "list_users", crash)
    response = admin.get("/admin/users")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in text
    assert "secret internal detail" not in text
    assert "RuntimeError" not in text


def test_the_api_keeps_its_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["status"] == 404
