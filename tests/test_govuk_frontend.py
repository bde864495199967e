"""The pages stand on the real GOV.UK Frontend: the vendored files are the
pinned release, the macros are the release's matching port, the one inline
script the page template has is the one the CSP allows, and this service
(not on GOV.UK) carries no crown and no GDS Transport font."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path

from referral_app.security import CONTENT_SECURITY_POLICY, GOVUK_TEMPLATE_SCRIPT_HASH

ROOT = Path(__file__).resolve().parents[1]
VENDORED = ROOT / "referral_app" / "static" / "govuk"
# govuk-frontend-jinja's releases and the govuk-frontend release each ports.
MACROS_FOR = {"4.1": "6.3.0"}


def pinned_release() -> str:
    package = json.loads((ROOT / "assets" / "package.json").read_text())
    return package["dependencies"]["govuk-frontend"]


def test_the_vendored_files_are_the_pinned_release():
    pinned = pinned_release()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact release"
    assert (VENDORED / "VERSION").read_text().strip() == pinned
    script = (VENDORED / "govuk-frontend.min.js").read_text()
    assert f'version="{pinned}"' in script


def test_the_macros_are_the_port_of_the_pinned_release():
    macros = version("govuk-frontend-jinja")
    assert MACROS_FOR[".".join(macros.split(".")[:2])] == pinned_release()


def test_no_gds_transport_font_and_no_source_map_requests():
    css = (VENDORED / "govuk-frontend.min.css").read_text()
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "sourceMappingURL" not in (VENDORED / "govuk-frontend.min.js").read_text()


def test_the_one_inline_script_is_allowed_by_its_hash_and_nothing_else(client):
    html = client.get("/login").get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" == GOVUK_TEMPLATE_SCRIPT_HASH
    assert f"script-src 'self' {GOVUK_TEMPLATE_SCRIPT_HASH}" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert '<script type="module" src="/static/init.js"></script>' in html


def test_pages_carry_no_crown(client):
    html = client.get("/login").get_data(as_text=True)
    for crown in ("govuk-logo", "crown", "govuk-crest", "Crown copyright", "GOV.UK"):
        assert crown not in html


def test_the_design_system_files_and_the_favicon_are_served(client):
    for path, kind in (
        ("/static/govuk/govuk-frontend.min.css", "text/css"),
        ("/static/govuk/govuk-frontend.min.js", "javascript"),
        ("/static/init.js", "javascript"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/static/favicon.ico", "image/"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert kind in response.content_type, (path, response.content_type)
        response.close()
