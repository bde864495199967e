"""Admin and audit pages: who may reach them and what they change."""

from __future__ import annotations

from referral_app.models import Role
from tests.blueprints.web.test_referral_pages import sign_in
from tests.conftest import csrf_token


def test_org_admin_adds_a_user_and_case_roles_cannot(app, factory):
    org = factory.organisation()
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    page = admin.get("/admin/users")
    assert page.status_code == 200
    created = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(admin, "/admin/users"),
            "email": "new.caseworker@example.org",
            "full_name": "New Caseworker",
            "organisation_id": str(org.id),
            "roles": ["caseworker"],
            "password": "a long enough passphrase",
        },
    )
    assert created.status_code == 302
    assert "new.caseworker@example.org" in admin.get("/admin/users").get_data(as_text=True)
    short = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(admin, "/admin/users"),
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
    assert referrer.get("/admin/organisations").status_code == 403


def test_org_admin_disables_a_user(app, factory):
    org = factory.organisation()
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=org))
    victim = factory.user(Role.CASEWORKER, organisation=org)
    victim_client = sign_in(app, victim)
    response = admin.post(
        f"/admin/users/{victim.id}",
        data={"csrf_token": csrf_token(admin, "/admin/users"), "roles": ["caseworker"]},
    )
    assert response.status_code == 302
    assert victim_client.get("/").status_code == 302  # signed out


def test_system_admin_adds_an_organisation(app, factory):
    admin = sign_in(app, factory.user(Role.SYSTEM_ADMIN))
    created = admin.post(
        "/admin/organisations",
        data={
            "csrf_token": csrf_token(admin, "/admin/organisations"),
            "name": "Hertfordshire Constabulary",
            "code": "herts-police",
            "kind": "police",
        },
    )
    assert created.status_code == 302
    assert "Hertfordshire Constabulary" in admin.get("/admin/organisations").get_data(as_text=True)


def test_auditor_reads_and_verifies_the_trail(app, factory):
    auditor = sign_in(app, factory.user(Role.AUDITOR))
    page = auditor.get("/audit")
    assert page.status_code == 200
    assert "auth.login" in page.get_data(as_text=True)
    verified = auditor.post("/audit/verify", data={"csrf_token": csrf_token(auditor, "/audit")})
    assert verified.status_code == 200
    assert "The chain verifies" in verified.get_data(as_text=True)
    caseworker = sign_in(app, factory.user(Role.CASEWORKER))
    assert caseworker.get("/audit").status_code == 403
