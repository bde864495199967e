"""The org admin's pages: register a system (the secret shown once, an error
summary in our words for a bad form), change it, rotate and retire its
secrets, revoke it; nobody else reaches them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from referral_app.models import Role
from tests.conftest import csrf_token
from tests.factories import PASSWORD, Factory, UserInfo
from tests.referral_helpers import World
from tests.system_accounts.conftest import token_request


def sign_in(app: Flask, user: UserInfo) -> FlaskClient:
    browser = app.test_client()
    answer = browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": user.email, "password": PASSWORD},
    )
    assert answer.status_code == 302
    return browser


def form_token(page: str) -> dict[str, str]:
    found = dict(re.findall(r'name="(csrf_token|form_token)" value="([^"]+)"', page))
    assert "csrf_token" in found
    return found


def post(browser: FlaskClient, page_path: str, action: str, **fields: object):
    page = browser.get(page_path).get_data(as_text=True)
    return browser.post(action, data={**form_token(page), **fields})


def test_an_org_admin_registers_rotates_retires_and_revokes_a_system(
    app: Flask, client: FlaskClient, factory: Factory, world: World
) -> None:
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=world.police))
    home = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/systems"' in home
    assert "no system accounts" in admin.get("/admin/systems").get_data(as_text=True)

    made = post(
        admin,
        "/admin/systems/new",
        "/admin/systems",
        name="Police records system",
        description="Niche RMS",
        permissions=["referrals:read", "referrals:create", "referrals:transition"],
    )
    assert made.status_code == 200
    shown = made.get_data(as_text=True)
    secret = re.search(r'id="client-secret">(rfs_[^<]+)<', shown)
    client_id = re.search(r'id="client-id">(sys_[^<]+)<', shown)
    assert secret is not None
    assert client_id is not None
    assert "shown once" in shown
    assert token_request(client, client_id.group(1), secret.group(1)).status_code == 200

    listing = admin.get("/admin/systems").get_data(as_text=True)
    detail_path = re.search(r'href="(/admin/systems/[0-9a-f-]{36})"', listing)
    assert detail_path is not None
    detail = admin.get(detail_path.group(1)).get_data(as_text=True)
    assert secret.group(1) not in detail
    assert client_id.group(1) in detail
    assert "Read referrals" in detail

    rotated = post(admin, detail_path.group(1), detail_path.group(1) + "/secrets")
    assert rotated.status_code == 200
    new_secret = re.search(r'id="client-secret">(rfs_[^<]+)<', rotated.get_data(as_text=True))
    assert new_secret is not None
    assert new_secret.group(1) != secret.group(1)
    detail = admin.get(detail_path.group(1)).get_data(as_text=True)
    retire_actions = re.findall(r'action="(/admin/systems/[^"]+/retire)"', detail)
    assert len(retire_actions) == 2
    # Retire the first (the older) secret.
    retired = post(admin, detail_path.group(1), retire_actions[0])
    assert retired.status_code == 302
    assert token_request(client, client_id.group(1), secret.group(1)).status_code == 401
    assert token_request(client, client_id.group(1), new_secret.group(1)).status_code == 200

    changed = post(
        admin,
        detail_path.group(1),
        detail_path.group(1),
        name="Records (read only)",
        description="",
        permissions=["referrals:read"],
    )
    assert changed.status_code == 302
    assert "Records (read only) has been changed" in admin.get(changed.location).get_data(
        as_text=True
    )

    revoked = post(admin, detail_path.group(1), detail_path.group(1) + "/revoke")
    assert revoked.status_code == 302
    after = admin.get(revoked.location).get_data(as_text=True)
    assert "has been revoked" in after
    assert "Revoked" in after
    assert token_request(client, client_id.group(1), new_secret.group(1)).status_code == 401


def test_a_bad_form_gets_an_error_summary_and_registers_nothing(
    app: Flask, factory: Factory, world: World
) -> None:
    admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=world.police))
    refused = post(admin, "/admin/systems/new", "/admin/systems", name="", description="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "Enter the system&#39;s name" in page or "Enter the system's name" in page
    assert "Select at least one permission" in page
    smuggled = post(
        admin,
        "/admin/systems/new",
        "/admin/systems",
        name="Greedy",
        permissions=["users:manage"],
    )
    assert smuggled.status_code == 422
    assert "Select permissions from the list" in smuggled.get_data(as_text=True)
    assert "no system accounts" in admin.get("/admin/systems").get_data(as_text=True)


def test_nobody_else_reaches_the_pages(
    app: Flask, client: FlaskClient, factory: Factory, world: World
) -> None:
    police_admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=world.police))
    made = post(
        police_admin,
        "/admin/systems/new",
        "/admin/systems",
        name="Police records system",
        permissions=["referrals:read"],
    )
    assert made.status_code == 200
    listing = police_admin.get("/admin/systems").get_data(as_text=True)
    detail_path = re.search(r'href="(/admin/systems/[0-9a-f-]{36})"', listing)
    assert detail_path is not None
    other_admin = sign_in(app, factory.user(Role.ORG_ADMIN, organisation=world.yjs))
    assert other_admin.get(detail_path.group(1)).status_code == 404
    assert "Police records system" not in other_admin.get("/admin/systems").get_data(as_text=True)
    manager = sign_in(app, factory.user(Role.MANAGER, organisation=world.police))
    assert manager.get("/admin/systems").status_code == 403
    assert manager.get(detail_path.group(1)).status_code == 403
    assert 'href="/admin/systems"' not in manager.get("/").get_data(as_text=True)
