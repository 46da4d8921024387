"""Response security headers: a strict Content-Security-Policy with a per-request nonce, framing and
sniffing protection, and HSTS behind HTTPS.

The policy works because every script, style, font and image is served by the app itself
(web/static/vendor). The only inline code is what folium generates for the map and the JSON data
blocks; those carry the request's nonce. Basemap tiles, when a remote basemap is configured, are the
one exception, and only for images from that basemap's host.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request

from registry.core.validation import Problem, ValidationError

# Where each configurable basemap's tiles come from (web/vacancy_map.py builds the tile URLs).
TIANDITU_DEFAULT = "https://t{s}.tianditu.gov.cn"  # the national service; a provincial node replaces it
BASEMAP_IMAGE_SOURCES = {
    "tianditu": ["https://*.tianditu.gov.cn"],
    "amap": ["https://*.is.autonavi.com"],
}


SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def csp_nonce() -> str:
    """This request's nonce, made on first use; templates put it on inline <script>/<style>."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def image_sources(config) -> list[str]:
    """The image origins the configured basemap needs besides the app itself."""
    kind = config.get("BASEMAP", "none")
    custom = {"xyz": config.get("XYZ_URL"), "tianditu": config.get("TIANDITU_URL")}.get(kind)
    if custom and custom != TIANDITU_DEFAULT:
        parts = urlsplit(custom)
        # Leaflet's {s} subdomain placeholder becomes a wildcard host.
        host = parts.netloc.replace("{s}.", "*.").replace("{s}", "*")
        return [f"{parts.scheme}://{host}"] if parts.scheme in ("http", "https") else []
    return BASEMAP_IMAGE_SOURCES.get(kind, [])


def policy(nonce: str | None, images: list[str]) -> str:
    """The Content-Security-Policy header value."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self'{inline}",
        f"style-src 'self'{inline}",
        "img-src " + " ".join(["'self'", "data:", "blob:", *images]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _refuse_nul_bytes():
    """No text the registry stores may hold a NUL character (PostgreSQL cannot store it): a request
    carrying one in a query or form field is refused, naming the field."""
    for source, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if "\x00" in value or "\x00" in name:
                raise ValidationError(Problem(f"{source}.{name[:40]!r}", "contains a NUL character",
                                              "text without control characters"))



def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_refuse_nul_bytes)
    images = image_sources(app.config)

    @app.after_request
    def _headers(resp):
        if resp.mimetype == "image/svg+xml":
            # Our charts (matplotlib) style themselves inline; opened on their own they are documents,
            # so they get a policy of their own that still runs no script at all.
            resp.headers.setdefault("Content-Security-Policy", SVG_POLICY)
        resp.headers.setdefault("Content-Security-Policy", policy(g.get("csp_nonce"), images))
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp
