"""Single sign-on in Chromium: a user signs in through their agency's OpenID
provider (a real one on loopback, tests/sso/provider.py): from the sign-in
page to the agency's choice, the provider's own sign-in page, and back to
their home page."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from referral_app import document_storage
from referral_app.extensions import db
from referral_app.models import Role
from referral_app.models.sso import IdentityProvider
from tests.browser import assert_accessible
from tests.factories import Factory, commit_and_seal
from tests.sso import provider as loopback
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET, LoopbackProvider

_codes = itertools.count(1)


@pytest.fixture(scope="module")
def provider() -> Iterator[LoopbackProvider]:
    with loopback.serving() as serving:
        yield serving


def agency_with_sso(live_app: Flask, factory: Factory, provider: LoopbackProvider, name: str):  # type: ignore[no-untyped-def]
    org = factory.organisation(code=f"sso-agency-{next(_codes)}")
    with live_app.app_context():
        db.session.add(
            IdentityProvider(
                organisation_id=org.id,
                display_name=name,
                issuer=provider.url,
                client_id=CLIENT_ID,
                client_secret_encrypted=document_storage.encrypt(
                    f"idp-{org.id.hex}", CLIENT_SECRET.encode()
                ),
            )
        )
        commit_and_seal(live_app)
    return org


def test_a_user_signs_in_through_the_loopback_provider(
    page: Page, base_url: str, live_app: Flask, factory: Factory, provider: LoopbackProvider
) -> None:
    org = agency_with_sso(live_app, factory, provider, "Riverside Council accounts")
    user = factory.user(Role.CASEWORKER, organisation=org)
    provider.person("r.khan", email=user.email, email_verified=True)

    page.goto(f"{base_url}/login")
    page.get_by_role("link", name="sign in with your organisation's account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sign in with your organisation's account"
    )
    assert_accessible(page)
    page.get_by_role("link", name="Sign in with Riverside Council accounts").click()

    # The provider's own sign-in page.
    expect(page).to_have_url(re.compile(re.escape(provider.url) + r"/authorize\?"))
    page.get_by_label("Username").fill("r.khan")
    page.get_by_label("Password").fill(loopback.PASSWORD)
    with page.expect_navigation(url=f"{base_url}/"):
        page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Welcome, User \d+$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_an_unknown_account_gets_the_page_saying_so(
    page: Page, base_url: str, live_app: Flask, factory: Factory, provider: LoopbackProvider
) -> None:
    org = agency_with_sso(live_app, factory, provider, "Hillside Police accounts")
    provider.person("nobody", email="nobody@hillside.example", email_verified=True)
    page.goto(f"{base_url}/sign-in/sso/{org.code}")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill(loopback.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have not been signed in")
    expect(page.get_by_text(f"Your account at {org.name} is not set up here")).to_be_visible()
    assert_accessible(page)
