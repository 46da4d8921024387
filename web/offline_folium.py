"""Folium without the internet: its CDN links rewritten to the vendored copies under /static/vendor.

Patched once, at app start-up, by assigning new class-level asset lists (folium's own lists are never
mutated). ``render_parts`` refuses to return a page that still references a remote script or style.
"""
from __future__ import annotations

import re

import folium
import folium.plugins
from folium.elements import JSCSSMixin

PREFIX = "/static/vendor"
CDN_TO_LOCAL = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/1.9.3/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet.awesome-markers/2.0.5/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet.awesome-markers/2.0.5/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "fontawesome-free/6.2.0/css/all.min.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        "folium/leaflet.awesome.rotate.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster/1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster/1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster/1.1.0/MarkerCluster.Default.css",
}
# Bootstrap (and Bootstrap 3 glyphicons) restyle the whole page and the map needs neither.
DROP = {"glyphicons_css", "bootstrap", "bootstrap_css"}
_EXTERNAL = re.compile(r'''<(?:script[^>]*\ssrc|link[^>]*\shref)=["']((?:https?:)?//[^"']+)''')
_INLINE = re.compile(r"<(script|style)>")
_patched = False


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def use_local_assets(prefix: str = PREFIX) -> None:
    """Points every folium class's JS/CSS at the vendored files (idempotent)."""
    global _patched
    if _patched:
        return
    for cls in {JSCSSMixin, *_subclasses(JSCSSMixin)}:
        for attr in ("default_js", "default_css"):
            if attr in cls.__dict__:
                setattr(cls, attr, [(n, f"{prefix}/{CDN_TO_LOCAL[u]}" if u in CDN_TO_LOCAL else u)
                                    for n, u in cls.__dict__[attr] if n not in DROP])
    _patched = True


def render_parts(m: folium.Map, nonce: str) -> dict[str, str]:
    """The map's <head> links, its <div> and its script, for embedding in our own page.

    Folium's inline <script> and <style> blocks in the header get ``nonce`` (the page's CSP nonce);
    the caller puts the returned script in a <script> tag carrying the same nonce.
    """
    root = m.get_root()
    root.render()
    parts = {"header": root.header.render(), "html": root.html.render(), "script": root.script.render()}
    left = _EXTERNAL.findall(parts["header"] + parts["html"])
    if left:
        raise RuntimeError(f"remote assets left in the map page: {left}")
    parts["header"] = _INLINE.sub(lambda t: f'<{t.group(1)} nonce="{nonce}">', parts["header"])
    return parts
