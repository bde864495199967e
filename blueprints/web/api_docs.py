"""The API documentation page: Swagger UI, served by the app itself.

The page and Swagger UI's files come from this server (the installed
`swagger_ui_bundle` package), never from another site, and the page has no
inline script or style: its set-up is in static/swagger-init.js. Both routes
are public (see policy.PUBLIC_ENDPOINTS): the description of the API is no
secret; calling the API still needs a bearer token.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.wrappers import Response

blp = Blueprint("web_api_docs", __name__)

SPEC_URL = "/api/v1/openapi.json"

# The only vendor files served: an allow-list, so no other file of the
# package (and nothing outside it) can be fetched.
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
)

# The files change only with the package version; browsers may keep them a day.
ASSET_MAX_AGE = 24 * 60 * 60


@blp.get("/api/docs")
def docs() -> str:
    return render_template("api_docs.html", spec_url=SPEC_URL)


@blp.get("/api/docs/assets/<path:filename>")
def asset(filename: str) -> Response:
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=ASSET_MAX_AGE)
