"""The JSON API of the vacancy map, for the map page and other clients, documented at
/api/openapi.json. Public by default; a signed-in user gets the staff fields their role allows."""
from __future__ import annotations


from flask import Blueprint, g, jsonify, request

from registry.vacancy import cards
from registry.vacancy import search as vacancy
from registry.landsupply import service as landcalc_service
from registry.landsupply import tables as landcalc_tables

from .db import get_session
from registry.core import authz, clock

bp = Blueprint("api", __name__, url_prefix="/api")


def _audience():
    return authz.audience(g.get("user"))


@bp.errorhandler(LookupError)
def _missing(exc):
    return jsonify({"errors": [{"message": str(exc)}]}), 404


@bp.get("/buildings")
def buildings():
    q = vacancy.parse_query(request.args, clock.today())
    result = vacancy.search(get_session(), q, audience=_audience())
    if q.offset + result["numberReturned"] < result["numberMatched"] and not result["clustered"]:
        args = request.args.to_dict()
        args["offset"] = str(q.offset + q.limit)
        result["links"] = [{"rel": "next", "href": request.base_url + "?" + "&".join(f"{k}={v}" for k, v in args.items())}]
    resp = jsonify(result)
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/buildings/<int:building_id>")
def building(building_id):
    # The map's filters, when given, mark which units fit them (the card shows those).
    q = vacancy.parse_query(request.args, clock.today())
    needs = q.needs if (q.needs.about_space or q.available_by != q.day) else None
    return jsonify(cards.building_card(get_session(), building_id, clock.today(), audience=_audience(), needs=needs))


@bp.get("/parks")
def parks():
    resp = jsonify(cards.park_boundaries(get_session(), vacancy.parse_datum(request.args)))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/landcalc")
def landcalc():
    # For staff: the answer draws on evaluation results that are not public.
    if g.get("user") is None:
        return jsonify({"errors": [{"message": "sign in first: the calculator is for staff"}]}), 401
    req = landcalc_service.parse(request.args)
    return jsonify(landcalc_service.as_json(landcalc_service.calculate(get_session(), req, clock.today(),
                                                                       _audience())))


@bp.get("/landcalc/tables")
def landcalc_tables_list():
    return jsonify(landcalc_tables.listing())


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def openapi_document() -> dict:
    """The OpenAPI 3 description of /api: each feature contributes the paths it serves, built from
    the same parameter list it parses."""
    paths = {**vacancy.openapi_paths(), **landcalc_service.openapi_paths()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Park registry API", "version": "1",
                 "description": "Vacant standard-factory space by bbox and filters, and the land-supply calculator. "
                                "Coordinates CGCS2000 (EPSG:4490) lon/lat unless datum=gcj02. Without a signed-in "
                                "session, public fields only (and no calculator)."},
        "paths": {**{bp.url_prefix + path: item for path, item in paths.items()},
                  "/api/openapi.json": {"get": {"summary": "This document",
                                                "responses": {"200": {"description": "OpenAPI 3"}}}}},
    }
