"""Response headers, set in one place for every response."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# The one inline script there is: GOV.UK Frontend's page template marks the
# body as able to run the design system's JavaScript before the page paints.
# It is fixed text, allowed by its hash (tests/test_govuk_frontend.py checks
# the hash against what the template renders); everything else is a file.
GOVUK_TEMPLATE_SCRIPT_HASH = "'sha256-GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw='"

# No other inline script, no inline style, nothing from other sites, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {GOVUK_TEMPLATE_SCRIPT_HASH}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)

STATIC_PREFIXES = ("/static/", "/api/docs/assets/")


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if current_app.config.get("HSTS_SECONDS"):
        headers["Strict-Transport-Security"] = (
            f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains"
        )
    if not request.path.startswith(STATIC_PREFIXES):
        # Case data must not linger in browser or proxy caches.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
