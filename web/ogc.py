"""OGC API - Features under /ogc: GeoJSON for GIS clients (QGIS, GDAL, OWSLib), HTML for people.

Each view reads the request, calls one function of registry.gis.ogc and renders its result as JSON
or through templates/ogc.html (?f=html, or a browser's Accept header). Public fields only unless
signed in, and private ones only of the parks the reader may see.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, g, render_template, request

from registry.core.authz import audience
from registry.gis import ogc

from .db import get_session
from registry.core import clock

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


def _audience():
    return audience(g.get("user"))


def _base() -> str:
    return request.url_root.rstrip("/") + "/ogc"


def _html() -> bool:
    f = request.args.get("f")
    if f:
        if f not in ("json", "html"):
            raise ogc.BadRequest(f"f={f!r}: expected json or html")
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", "application/geo+json", "text/html"])
    return best == "text/html"


def _json(data, media="application/json", status=200, headers=None) -> Response:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return Response(text, status=status, mimetype=media, headers=headers or {})


def _page(kind: str, data: dict, **extra) -> str:
    return render_template("ogc.html", kind=kind, data=data, base=_base(), **extra)


@bp.errorhandler(ogc.BadRequest)
def _bad(exc):
    return _json({"code": "InvalidParameterValue", "description": str(exc)}, status=400)


@bp.errorhandler(ogc.NotFound)
def _missing(exc):
    return _json({"code": "NotFound", "description": str(exc)}, status=404)


@bp.get("/")
def landing():
    data = ogc.landing(_base())
    return _page("landing", data) if _html() else _json(data)


@bp.get("/conformance")
def conformance():
    data = ogc.conformance()
    return _page("conformance", data) if _html() else _json(data)


@bp.get("/api")
def api():
    data = ogc.openapi(_base(), audience=_audience())
    if _html():
        return _page("api", data)
    return _json(data, "application/vnd.oai.openapi+json;version=3.0")


@bp.get("/collections")
def collections():
    data = ogc.collections(get_session(), _base())
    return _page("collections", data) if _html() else _json(data)


@bp.get("/collections/<collection_id>")
def collection(collection_id):
    data = ogc.collection(get_session(), _base(), collection_id)
    return _page("collection", data) if _html() else _json(data)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id):
    data = ogc.queryables_schema(_base(), collection_id, audience=_audience())
    return _page("queryables", data) if _html() else _json(data, "application/schema+json")


@bp.get("/collections/<collection_id>/schema")
def schema(collection_id):
    data = ogc.schema(_base(), collection_id, audience=_audience())
    return _page("queryables", data) if _html() else _json(data, "application/schema+json")


@bp.get("/collections/<collection_id>/items")
def items(collection_id):
    html = _html()
    result = ogc.items(get_session(), _base(), collection_id, request.args.to_dict(), audience=_audience(),
                       day=clock.today(), html=html)
    if html:
        return _page("items", result.data, collection_id=collection_id,
                     fields=ogc.layer_fields(collection_id, audience=_audience()))
    return _json(result.body, "application/geo+json", headers={"Content-Crs": f"<{result.crs}>"})


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id, feature_id):
    html = _html()
    result = ogc.item(get_session(), _base(), collection_id, feature_id, request.args.to_dict(), audience=_audience(),
                      day=clock.today())
    if html:
        return _page("item", result.data, collection_id=collection_id,
                     fields=ogc.layer_fields(collection_id, audience=_audience()))
    return _json(result.body, "application/geo+json", headers={"Content-Crs": f"<{result.crs}>"})
