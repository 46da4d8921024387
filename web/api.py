"""The JSON API of the vacancy map, for the map page and other clients, documented at
/api/openapi.json. Public by default; a signed-in user gets the staff fields their role allows."""
from __future__ import annotations


from flask import Blueprint, g, jsonify, request

from registry.vacancy import search as vacancy
from registry.landsupply import service as landcalc_service
from registry.landsupply import tables as landcalc_tables

from .db import get_session
from registry.core import clock

bp = Blueprint("api", __name__, url_prefix="/api")


def _public() -> bool:
    return g.get("user") is None


@bp.errorhandler(LookupError)
def _missing(exc):
    return jsonify({"errors": [{"message": str(exc)}]}), 404


@bp.get("/buildings")
def buildings():
    q = vacancy.parse_query(request.args, clock.today())
    result = vacancy.search(get_session(), q, public=_public())
    if q.offset + result["numberReturned"] < result["numberMatched"] and not result["clustered"]:
        args = request.args.to_dict()
        args["offset"] = str(q.offset + q.limit)
        result["links"] = [{"rel": "next", "href": request.base_url + "?" + "&".join(f"{k}={v}" for k, v in args.items())}]
    resp = jsonify(result)
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/buildings/<int:building_id>")
def building(building_id):
    return jsonify(vacancy.building_card(get_session(), building_id, clock.today(), public=_public()))


@bp.get("/parks")
def parks():
    datum = "gcj02" if request.args.get("datum") == "gcj02" else "wgs84"
    resp = jsonify(vacancy.park_boundaries(get_session(), datum))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/landcalc")
def landcalc():
    # For staff: the answer draws on evaluation results that are not public.
    if g.get("user") is None:
        return jsonify({"errors": [{"message": "sign in first: the calculator is for staff"}]}), 401
    req = landcalc_service.parse(request.args)
    return jsonify(landcalc_service.as_json(landcalc_service.calculate(get_session(), req, clock.today())))


@bp.get("/landcalc/tables")
def landcalc_tables_list():
    out = []
    for tid in landcalc_tables.table_ids():
        t = landcalc_tables.load(tid)
        out.append({"id": t.id, "name": t.name, "source": t.source, "edition": t.edition,
                    "jurisdictions": list(t.jurisdictions), "extends": list(t.lineage[1:])})
    return jsonify(out)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


NO_NUL = "^[^\\x00]*$"


def openapi_document() -> dict:
    """The OpenAPI 3 description of /api, built from the same parameter list the API parses."""
    def schema(p):
        # Text never holds a NUL character (refused for every field, web/security.py).
        return {"integer": {"type": "integer"}, "number": {"type": "number", "minimum": 0},
                "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"}}.get(
                    p.type, {"type": "string", "pattern": NO_NUL})

    errors = {"description": "invalid parameters, each named", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"errors": {"type": "array", "items": {"type": "object"}}}}}}}
    fc = {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array", "items": {"type": "object"}},
        "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"}, "clustered": {"type": "boolean"},
        "links": {"type": "array", "items": {"type": "object"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Park registry API", "version": "1",
                 "description": "Vacant standard-factory space by bbox and filters, and the land-supply calculator. "
                                "Coordinates CGCS2000 (EPSG:4490) lon/lat unless datum=gcj02. Without a signed-in "
                                "session, public fields only (and no calculator)."},
        "paths": {
            "/api/buildings": {"get": {
                "summary": "Buildings (or clusters at low zoom) matching the filters, paged",
                "parameters": [{"name": p.name, "in": "query", "required": False, "description": p.description,
                                "schema": {**schema(p), **dict(p.constraints)}} for p in vacancy.PARAMS],
                "responses": {"200": {"description": "GeoJSON FeatureCollection",
                                      "content": {"application/geo+json": {"schema": fc}}}, "400": errors}}},
            "/api/buildings/{building_id}": {"get": {
                "summary": "One building's specs, available units and park contacts",
                "parameters": [{"name": "building_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 0, "maximum": vacancy.MAX_ID}}],
                "responses": {"200": {"description": "building card", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["id", "units", "park"]}}}},
                              "404": {"description": "no such building"}}}},
            "/api/parks": {"get": {
                "summary": "Park boundaries (the offline vector base)",
                "parameters": [{"name": "datum", "in": "query", "required": False, "schema": {"type": "string",
                                                                                            "enum": ["wgs84", "gcj02"]}}],
                "responses": {"200": {"description": "GeoJSON FeatureCollection",
                                      "content": {"application/geo+json": {"schema": fc}}}}}},
            "/api/landcalc": {"get": {
                "summary": "Land-supply calculation (供地测算) for a project; needs a signed-in session",
                "parameters": [{"name": p.name, "in": "query", "required": p.required, "description": p.description,
                                "schema": ({"type": "string", "example": "9,4.5,4.5", "pattern": NO_NUL}
                                           if p.type == "list" else schema(p))}
                               for p in landcalc_service.PARAMS],
                "responses": {"200": {"description": "verdict, land bounds, checks, yields, commitments, standard factories",
                                      "content": {"application/json": {"schema": {"type": "object", "required": [
                                          "verdict", "reasons", "bounds", "checks", "commitments", "standard_factory"]}}}},
                              "400": errors, "401": {"description": "not signed in"}}}},
            "/api/landcalc/tables": {"get": {
                "summary": "The land-use control indicator tables installed",
                "responses": {"200": {"description": "tables", "content": {"application/json": {"schema": {
                    "type": "array", "items": {"type": "object", "required": ["id", "name", "source"]}}}}}}}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3"}}}},
        },
    }
