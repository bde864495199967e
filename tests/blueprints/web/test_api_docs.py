"""The API documentation page: public, self-hosted Swagger UI, no inline
script or style (ready for a strict Content-Security-Policy)."""

from __future__ import annotations

import re

import pytest

from referral_app.policy import PUBLIC_ENDPOINTS

ASSET_URL = re.compile(r'(?:src|href)="(/api/docs/assets/[^"]+)"')
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def docs_page(client) -> str:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_both_routes_are_public():
    assert {"web_api_docs.docs", "web_api_docs.asset"} <= PUBLIC_ENDPOINTS


def test_docs_page_is_served_without_signing_in(client):
    page = docs_page(client)
    assert "<title>API documentation" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert "/static/swagger-init.js" in page


def test_docs_page_loads_swagger_ui_from_this_server(client):
    page = docs_page(client)
    assets = ASSET_URL.findall(page)
    assert "/api/docs/assets/swagger-ui.css" in assets
    assert "/api/docs/assets/swagger-ui-bundle.js" in assets
    for url in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert not url.startswith(("http://", "https://", "//")), url


def test_docs_page_has_no_inline_script_or_style(client):
    page = docs_page(client)
    scripts = INLINE_SCRIPT.findall(page)
    assert scripts, "the page loads its scripts"
    assert [body for body in scripts if body.strip()] == []
    assert re.search(r"<script\b(?![^>]*\bsrc=)", page) is None
    assert re.search(r"\son[a-z]+\s*=", page, re.IGNORECASE) is None  # no event handlers
    assert re.search(r"\sstyle\s*=", page, re.IGNORECASE) is None
    assert "<style" not in page.lower()


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/api/docs/assets/swagger-ui.css", "text/css"),
        ("/api/docs/assets/swagger-ui-bundle.js", "text/javascript"),
        ("/api/docs/assets/swagger-ui-standalone-preset.js", "text/javascript"),
        ("/static/swagger-init.js", "text/javascript"),
    ],
)
def test_assets_are_served_with_their_types(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert (response.content_length or 0) > 100
    response.close()


def test_init_script_reads_the_spec_url_from_the_page(client):
    response = client.get("/static/swagger-init.js")
    script = response.get_data(as_text=True)
    response.close()
    assert "data-spec-url" in script
    assert "validatorUrl: null" in script  # never calls validator.swagger.io
    assert "http://" not in script
    assert "https://" not in script


@pytest.mark.parametrize(
    "path",
    [
        "/api/docs/assets/..%2f..%2fsecret",
        "/api/docs/assets/..%2f__init__.py",
        "/api/docs/assets/../../../../etc/passwd",
        "/api/docs/assets/%2e%2e/%2e%2e/__init__.py",
        "/api/docs/assets/index.html",
        "/api/docs/assets/swagger-initializer.js",
        "/api/docs/assets/swagger-ui-bundle.js.map",
        "/api/docs/assets/",
        "/api/docs/assets/nonexistent.js",
    ],
)
def test_only_the_listed_vendor_files_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    response.close()


def test_assets_refuse_writes(client):
    assert client.post("/api/docs/assets/swagger-ui.css").status_code == 405
