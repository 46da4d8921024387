"""OGC API - Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS by reference), read-only.

Framework-free, as pygeoapi keeps its core: each function takes the request's base URL and
parameters and returns plain data; web/ogc.py turns it into responses. Collections are the
registry's layers (registry.gis.fields): parks, plots, buildings and the units vacant today.
Anonymous readers get the public fields only, as on the investor map; a signed-in reader the
private fields of the parks they may see (``registry.core.authz.Audience``).

Coordinates are CRS84 (lon, lat) unless ``crs`` asks for EPSG:4490, whose axis order is
latitude, longitude.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import shapely
from sqlalchemy.orm import Session

from ..core.authz import Audience
from ..core.models import MAX_ID, Building, Park, Plot
from ..storage.spatial import extent
from .exporter import Page, page, queryables
from .fields import fields
from ..core import clock

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_LIST = (CRS84, EPSG4490)
DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
COLLECTIONS = {
    "parks": ("园区 Parks", "园区边界与基本信息 Park boundaries, levels, operators and contacts"),
    "plots": ("地块 Plots", "工业用地宗地：编号、面积（亩）、用途、供地日期、状态 Land plots"),
    "buildings": ("楼栋 Buildings", "厂房与配套楼栋：类型、层数、建筑面积、行车、供电 Factory buildings"),
    "vacancies": ("空置房源 Vacant units", "今日空置、可出租的房源单元（楼栋轮廓）Units vacant today"),
}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
RESERVED = {"f", "bbox", "bbox-crs", "limit", "offset", "crs"}
_GEOMETRY = {"parks": Park.boundary, "plots": Plot.geom, "buildings": Building.footprint}  # vacancies: footprints


class BadRequest(ValueError):
    """A parameter the API does not define or cannot read (answered with 400)."""


class NotFound(LookupError):
    """No such collection or feature (answered with 404)."""


@dataclass(frozen=True)
class Items:
    body: str  # the GeoJSON text
    crs: str  # the URI of the coordinates' CRS (Content-Crs header)
    data: dict | None = None  # the same as data, for the HTML page


def _link(href: str, rel: str, type_: str, title: str = "") -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def landing(base: str) -> dict:
    return {
        "title": "园区与标准厂房资产登记 OGC API - Features",
        "description": "Industrial parks, plots, factory buildings and vacant units of the registry (read-only).",
        "links": [
            _link(f"{base}/?f=json", "self", "application/json", "this document"),
            _link(f"{base}/?f=html", "alternate", "text/html", "this document as HTML"),
            _link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            _link(f"{base}/api?f=html", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            _link(f"{base}/collections", "data", "application/json", "the collections"),
        ],
    }


def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def _check(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise NotFound(f"no collection {collection!r}; the collections are " + ", ".join(COLLECTIONS))


def _extent(session: Session, collection: str) -> tuple[float, float, float, float] | None:
    return extent(session, _GEOMETRY.get(collection, Building.footprint))


def collection(session: Session, base: str, collection_id: str) -> dict:
    _check(collection_id)
    title, description = COLLECTIONS[collection_id]
    url = f"{base}/collections/{collection_id}"
    bbox = _extent(session, collection_id)
    return {
        "id": collection_id, "title": title, "description": description, "itemType": "feature",
        "crs": list(CRS_LIST), "storageCrs": EPSG4490,
        "extent": {"spatial": {"bbox": [list(bbox)] if bbox else [[73.0, 3.0, 135.5, 54.0]], "crs": CRS84}},
        "links": [
            _link(url, "self", "application/json", title),
            _link(f"{url}?f=html", "alternate", "text/html", title),
            _link(f"{url}/items", "items", "application/geo+json", f"{title}: features"),
            _link(f"{url}/items?f=html", "items", "text/html", f"{title}: features as HTML"),
            _link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "properties to filter on"),
            _link(f"{url}/schema", "describedby", "application/schema+json", "every property and its type"),
        ],
    }


def collections(session: Session, base: str) -> dict:
    return {"links": [_link(f"{base}/collections", "self", "application/json"),
                      _link(f"{base}/collections?f=html", "alternate", "text/html")],
            "collections": [collection(session, base, c) for c in COLLECTIONS],
            "crs": list(CRS_LIST)}


_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "enum": "string", "bool": "boolean",
               "date": "string", "list": "string"}


def queryables_schema(base: str, collection_id: str, *, audience: Audience) -> dict:
    _check(collection_id)
    props = {}
    for f in queryables(collection_id, audience=audience):
        prop = {"title": f.alias, "type": _JSON_TYPES[f.kind]}
        if f.kind == "enum":
            prop["enum"] = [m.label for m in f.enum]
        if f.kind == "date":
            prop["format"] = "date"
        props[f.name] = prop
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{collection_id}/queryables", "type": "object",
            "title": COLLECTIONS[collection_id][0], "properties": props, "additionalProperties": False}


def schema(base: str, collection_id: str, *, audience: Audience) -> dict:
    """Every property of the collection's features with its type (what GDAL reads to type fields
    before it has seen a value)."""
    _check(collection_id)
    props = {}
    for f in fields(collection_id, public=audience.public):
        if f.name == "id":
            continue
        prop = {"title": f.alias, "type": _JSON_TYPES[f.kind]}
        if f.kind == "date":
            prop["format"] = "date"
        props[f.name] = prop
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{collection_id}/schema", "type": "object",
            "title": COLLECTIONS[collection_id][0], "properties": props}


def _crs(value: str | None, name: str) -> str:
    if value in (None, ""):
        return CRS84
    text = value.strip("<>[] ")
    aliases = {"EPSG:4490": EPSG4490, "EPSG:4326": CRS84, "CRS84": CRS84, "OGC:CRS84": CRS84}
    text = aliases.get(text.upper(), text)
    if text not in CRS_LIST:
        raise BadRequest(f"{name}={value!r} is not offered; expected {CRS84} or {EPSG4490}")
    return text


def _bbox(value: str | None, bbox_crs: str) -> tuple[float, float, float, float] | None:
    if value in (None, ""):
        return None
    try:
        parts = [float(x) for x in value.split(",")]
    except ValueError:
        raise BadRequest(f"bbox={value!r}: expected four numbers minLon,minLat,maxLon,maxLat") from None
    if len(parts) == 6:  # 3-D boxes: heights are ignored
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise BadRequest(f"bbox={value!r}: expected four numbers minLon,minLat,maxLon,maxLat")
    if bbox_crs == EPSG4490:  # latitude first
        parts = [parts[1], parts[0], parts[3], parts[2]]
    if parts[0] > parts[2] or parts[1] > parts[3]:
        raise BadRequest(f"bbox={value!r}: the minimum exceeds the maximum")
    return parts[0], parts[1], parts[2], parts[3]


def _int(args: dict, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a whole number") from None
    if value < low:
        raise BadRequest(f"{name}={value} is below {low}")
    return min(value, high) if high is not None else value


def items(session: Session, base: str, collection_id: str, args: dict[str, str], *, audience: Audience,
          day: dt.date, html: bool = False) -> Items:
    """One page of a collection's features, with self/next/prev links carrying every parameter."""
    _check(collection_id)
    crs = _crs(args.get("crs"), "crs")
    bbox = _bbox(args.get("bbox"), _crs(args.get("bbox-crs"), "bbox-crs"))
    limit = _int(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(args, "offset", 0, 0, MAX_ID)  # past every feature: an empty page
    filters = {k: val for k, val in args.items() if k not in RESERVED}
    try:
        pg = page(session, collection_id, day=day, audience=audience, bbox=bbox, filters=filters, limit=limit,
                  offset=offset)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    url = f"{base}/collections/{collection_id}/items"
    kept = {k: val for k, val in args.items() if k not in ("offset", "f")}

    def href(off: int, fmt: str = "json") -> str:
        query = {**kept, "offset": str(off), "f": fmt}
        return url + "?" + "&".join(f"{k}={_quote(val)}" for k, val in query.items())

    links = [_link(href(offset), "self", "application/geo+json", "this page"),
             _link(href(offset, "html"), "alternate", "text/html", "this page as HTML"),
             _link(f"{base}/collections/{collection_id}", "collection", "application/json")]
    if offset + len(pg) < pg.matched:
        links.append(_link(href(offset + limit), "next", "application/geo+json", "next page"))
    if offset > 0:
        links.append(_link(href(max(0, offset - limit)), "prev", "application/geo+json", "previous page"))
    head = {"type": "FeatureCollection", "numberMatched": pg.matched, "numberReturned": len(pg),
            "timeStamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    body = _feature_collection(pg, head, crs)
    return Items(body, crs, json.loads(body) if html else None)


def item(session: Session, base: str, collection_id: str, feature_id: str, args: dict[str, str], *,
         audience: Audience, day: dt.date) -> Items:
    _check(collection_id)
    unknown = set(args) - {"f", "crs"}
    if unknown:
        raise BadRequest("unknown parameter(s) " + ", ".join(sorted(unknown)) + " for a single feature")
    crs = _crs(args.get("crs"), "crs")
    try:
        fid = int(feature_id)
        if not 0 < fid <= MAX_ID:  # anything else names no feature
            raise ValueError
    except ValueError:
        raise NotFound(f"no feature {feature_id!r} in {collection_id}") from None
    pg = page(session, collection_id, day=day, audience=audience, ids=[fid], count=False)
    if not len(pg):
        raise NotFound(f"no feature {feature_id!r} in {collection_id}")
    url = f"{base}/collections/{collection_id}/items"
    text = _features(pg, crs)[0]
    feature = json.loads(text)
    feature["links"] = [_link(f"{url}/{fid}?f=json", "self", "application/geo+json"),
                        _link(f"{url}/{fid}?f=html", "alternate", "text/html"),
                        _link(f"{base}/collections/{collection_id}", "collection", "application/json")]
    return Items(json.dumps(feature, ensure_ascii=False, default=_default), crs, feature)


def _quote(value: str) -> str:
    return quote(str(value), safe=",:/")


def _default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _geometries(pg: Page, crs: str) -> list[str]:
    """Each feature's geometry as GeoJSON text, in one vectorised call; lat/lon for EPSG:4490."""
    present = np.array([w is not None for w in pg.wkb], dtype=bool)
    out = np.full(len(pg), "null", dtype=object)
    if present.any():
        geoms = shapely.from_wkb(np.array(pg.wkb, dtype=object)[present])
        if crs == EPSG4490:
            geoms = shapely.transform(geoms, lambda c: c[:, ::-1])
        out[present] = shapely.to_geojson(geoms)
    return out.tolist()


def _features(pg: Page, crs: str) -> list[str]:
    geometry = _geometries(pg, crs)
    names = [f.name for f in pg.fields if f.name != "id"]
    out = []
    for i, fid in enumerate(pg.ids):
        props = {n: pg.columns[n][i] for n in names}
        out.append(f'{{"type":"Feature","id":{fid},"geometry":{geometry[i]},"properties":'
                   f'{json.dumps(props, ensure_ascii=False, default=_default)}}}')
    return out


def _feature_collection(pg: Page, head: dict, crs: str) -> str:
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ',"features":[' + ",".join(_features(pg, crs)) + "]}"


def openapi(base: str, *, audience: Audience) -> dict:
    """The OpenAPI 3.0 definition of this endpoint, built from the same collection and field lists
    the handlers use (so it cannot drift from them)."""
    def param(name, where, schema, description, required=False, explode=None):
        p = {"name": name, "in": where, "required": required, "schema": schema, "description": description}
        if explode is not None:
            p["style"], p["explode"] = "form", explode
        return p

    common = [
        param("f", "query", {"type": "string", "enum": ["json", "html"]}, "response format"),
    ]
    items_params = common + [
        param("bbox", "query", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
              "minLon,minLat,maxLon,maxLat (in bbox-crs)", explode=False),
        param("bbox-crs", "query", {"type": "string", "enum": list(CRS_LIST)}, "CRS of bbox"),
        param("crs", "query", {"type": "string", "enum": list(CRS_LIST)}, "CRS of the response's coordinates"),
        param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
              "features per page"),
        param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "features to skip"),
    ]
    feature_collection = {"type": "object", "required": ["type", "features"],
                          "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                                         "features": {"type": "array", "items": {"$ref": "#/components/schemas/feature"}},
                                         "numberMatched": {"type": "integer", "minimum": 0},
                                         "numberReturned": {"type": "integer", "minimum": 0},
                                         "timeStamp": {"type": "string", "format": "date-time"},
                                         "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"type": "integer"}, "geometry": {"nullable": True, "type": "object"},
                              "properties": {"type": "object", "nullable": True},
                              "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}}
    link = {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}}

    def ok(schema_ref: str, media: str = "application/json") -> dict:
        return {"200": {"description": "OK", "content": {media: {"schema": {"$ref": schema_ref}},
                                                          "text/html": {"schema": {"type": "string"}}}},
                "400": {"description": "a parameter was not understood"},
                "404": {"description": "not found"}}

    paths = {
        "/": {"get": {"summary": "landing page", "operationId": "getLandingPage", "parameters": common,
                      "responses": ok("#/components/schemas/any")}},
        "/conformance": {"get": {"summary": "conformance classes", "operationId": "getConformance",
                                 "parameters": common, "responses": ok("#/components/schemas/any")}},
        "/collections": {"get": {"summary": "the collections", "operationId": "getCollections",
                                 "parameters": common, "responses": ok("#/components/schemas/any")}},
    }
    for cid, (title, _desc) in COLLECTIONS.items():
        props = [param(f.name, "query", {"type": _JSON_TYPES[f.kind]}, f"{f.alias}: equal to")
                 for f in queryables(cid, audience=audience)]
        paths[f"/collections/{cid}"] = {"get": {"summary": title, "operationId": f"describe_{cid}",
                                                "parameters": common, "responses": ok("#/components/schemas/any")}}
        paths[f"/collections/{cid}/queryables"] = {"get": {
            "summary": f"{title}: properties to filter on", "operationId": f"queryables_{cid}",
            "responses": ok("#/components/schemas/any", "application/schema+json")}}
        paths[f"/collections/{cid}/schema"] = {"get": {
            "summary": f"{title}: every property and its type", "operationId": f"schema_{cid}",
            "responses": ok("#/components/schemas/any", "application/schema+json")}}
        paths[f"/collections/{cid}/items"] = {"get": {
            "summary": f"{title}: features", "operationId": f"items_{cid}", "parameters": items_params + props,
            "responses": ok("#/components/schemas/featureCollection", "application/geo+json")}}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": {
            "summary": f"{title}: one feature", "operationId": f"item_{cid}",
            "parameters": common + [param("featureId", "path", {"type": "integer"}, "feature id", True),
                                    param("crs", "query", {"type": "string", "enum": list(CRS_LIST)}, "CRS")],
            "responses": ok("#/components/schemas/feature", "application/geo+json")}}
    return {"openapi": "3.0.3",
            "info": {"title": "园区与标准厂房资产登记 OGC API - Features", "version": "1.0.0",
                     "description": "Read-only OGC API - Features of the registry's parks, plots, buildings and "
                                    "vacant units. Public fields without sign-in."},
            "servers": [{"url": base}], "paths": paths,
            "components": {"schemas": {"featureCollection": feature_collection, "feature": feature, "link": link,
                                       "any": {"type": "object"}}}}


def layer_fields(collection_id: str, *, audience: Audience):
    """The properties a collection's features carry (for the HTML pages' column headers)."""
    _check(collection_id)
    return [f for f in fields(collection_id, public=audience.public) if f.name != "id"]

