"""Vacancy search for the investor map: which buildings have space matching an investor's needs.

One aggregate query per request: buildings in the bbox (through the spatial index), joined to their
units, storeys, the end of each unit's last lease and the reservations on the day that matters,
grouped per building. Availability is the registry's one rule (``registry.occupancy.status``): a unit
counts as available when its building is ready by the ``available_by`` date (default: today), it is
vacant then (leasable, free from that day on, not held for a prospect) and it meets the investor's
needs (``registry.vacancy.needs``: storey, floor load, clear height, crane, power, area). Its
available-from date is the latest of today, its building's completion and the end of its last lease.

Buildings are classed fully vacant / partly vacant / fully let / under construction. At low zoom the
result is clustered on the server (a grid of cells), so a province-wide view stays small.

Public mode (the investor map without login) never returns tenants, and returns no rents for parks
that hide them. Query parameters are defined once, in ``PARAMS``; the web API and its OpenAPI
document are built from that list.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import shapely
from sqlalchemy import Float, String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.orm import Session

from geodata import chinacoords
from ..core import validation as v
from ..core.params import REFUSED, Param, parse_all
from ..core.enums import BuildingStatus, BuildingType
from ..core.authz import Audience
from ..core.models import MAX_ID, Building, Park, Unit
from ..occupancy import status
from ..storage.spatial import as_geojson, bbox_filter, box_centre, children_aggregated, computed_cte, with_lookup
from .needs import SpaceNeeds, move_in_day, building_fits, storey_fits, with_storeys

POLYGON_ZOOM = 14  # from this zoom on, footprints; below, points
CLUSTER_ZOOM = 11  # below this zoom, server-side clusters
MAX_LIST = 100  # buildings listed beside clusters
MAX_LIMIT = 2000
AVAILABILITY = ("fully_vacant", "partly_vacant", "fully_let", "under_construction")


_DEGREES = r"-?\d{1,3}(\.\d*)?"  # a bbox corner in decimal degrees


def _bbox(text: str) -> tuple[float, float, float, float]:
    parts = [float(x) for x in text.split(",")]
    if len(parts) != 4 or not all(map(math.isfinite, parts)):
        raise ValueError(text)
    # Corners in either order: the box they span (a point or a line finds what touches it).
    return (min(parts[0], parts[2]), min(parts[1], parts[3]), max(parts[0], parts[2]), max(parts[1], parts[3]))


def _industry(text: str) -> str:
    return v.check_industry_code(text, "query.industry")[:2]


def _datum(text: str) -> str:
    if text.lower() not in ("wgs84", "gcj02", "cgcs2000"):
        raise ValueError(text)
    return "gcj02" if text.lower() == "gcj02" else "wgs84"


PARAMS: tuple[Param, ...] = (
    Param("bbox", "text", "minLon,minLat,maxLon,maxLat in the display datum (see datum)",
          pattern=f"^{_DEGREES},{_DEGREES},{_DEGREES},{_DEGREES}$", convert=_bbox),
    Param("zoom", "integer", f"map zoom: footprints from {POLYGON_ZOOM}, points below, server clusters below {CLUSTER_ZOOM}",
          minimum=0, maximum=24),
    Param("park", "integer", "only this park (id)", minimum=1, maximum=MAX_ID),
    Param("min_area", "number", "available area at least (m²)", minimum=0),
    Param("max_area", "number", "available area at most (m²)", minimum=0),
    Param("ground_floor", "boolean", "count only ground-floor units"),
    Param("min_load", "number", "minimum floor load of the units' storey (t/m²)", minimum=0),
    Param("min_height", "number", "minimum storey height (m)", minimum=0),
    Param("crane", "boolean", "only buildings with a crane"),
    Param("min_power", "number", "minimum power supply (kVA)", minimum=0),
    Param("max_rent", "number", "maximum asking rent (元/m²·月)", minimum=0),
    Param("type", "choice", "building type: " + ", ".join(t.value for t in BuildingType),
          choices=tuple(t.value for t in BuildingType), convert=BuildingType.from_any),
    Param("available_by", "date", "space free on this date (YYYY-MM-DD; default today; an earlier date means today)"),
    Param("industry", "choice", "GB/T 4754-2017 大类 of the investor's project, e.g. 39: only buildings that allow it",
          choices=tuple(c for c, i in v.industries().items() if i.level == "大类"), convert=_industry),
    Param("only_available", "boolean", "only buildings with available space (implied by the space filters)"),
    DATUM := Param("datum", "choice", "coordinates for display: wgs84 (CGCS2000, default) or gcj02 (AMap basemaps)",
                   choices=("wgs84", "gcj02", "cgcs2000"), convert=_datum),
    Param("limit", "integer", f"features per page (default 500, at most {MAX_LIMIT})", minimum=1, maximum=MAX_LIMIT),
    Param("offset", "integer", "features to skip (paging)", minimum=0, maximum=MAX_ID),
    Param("list", "integer", f"when the answer is clustered (zoom below {CLUSTER_ZOOM}), also this many matching "
          f"buildings with the most available space, as points, under 'list' (default 0, at most {MAX_LIST})",
          minimum=0, maximum=MAX_LIST),
)
PARAM_NAMES = {p.name for p in PARAMS}


@dataclass(frozen=True)
class VacancyQuery:
    day: dt.date
    available_by: dt.date
    bbox: tuple[float, float, float, float] | None = None
    zoom: int = 15
    park: int | None = None
    min_area: float | None = None
    max_area: float | None = None
    ground_floor: bool = False
    min_load: float | None = None
    min_height: float | None = None
    crane: bool = False
    min_power: float | None = None
    max_rent: float | None = None
    type: BuildingType | None = None
    industry: str | None = None
    only_available: bool = False
    datum: str = "wgs84"
    limit: int = 500
    offset: int = 0
    list: int = 0  # with clusters, also the buildings with most space (the map's list)

    @property
    def needs(self) -> SpaceNeeds:
        """The investor's needs, as the land calculator states them too."""
        return SpaceNeeds(available_by=self.available_by, ground_floor=self.ground_floor, min_load_t_m2=self.min_load,
                          min_height_m=self.min_height, crane_t=0.0 if self.crane else None,
                          min_power_kva=self.min_power, min_area_m2=self.min_area, max_area_m2=self.max_area)

    @property
    def space_filters(self) -> bool:
        return self.needs.about_space or self.available_by != self.day


def parse_datum(params: Mapping[str, str]) -> str:
    """The display datum asked for (``datum``, as the map's query takes it); default wgs84."""
    return parse_all((DATUM,), params, prefix="query.").get("datum", "wgs84")


def parse_query(params: Mapping[str, str], today: dt.date) -> VacancyQuery:
    """A query from URL parameters; every bad one is named in one ValidationError."""
    out = parse_all(PARAMS, params, prefix="query.")
    out["available_by"] = move_in_day(out.get("available_by"), today)
    return VacancyQuery(day=today, **out)


_FEATURES = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array", "items": {"type": "object"}},
    "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"}, "clustered": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "object"}},
    "links": {"type": "array", "items": {"type": "object"}}}}


def openapi_paths() -> dict:
    """The map API's part of the OpenAPI document (paths under the API's root), from ``PARAMS``."""
    geojson = {"description": "GeoJSON FeatureCollection", "content": {"application/geo+json": {"schema": _FEATURES}}}
    return {
        "/buildings": {"get": {
            "summary": "Buildings (or clusters at low zoom) matching the filters, paged",
            "parameters": [p.openapi() for p in PARAMS],
            "responses": {"200": geojson, "400": REFUSED}}},
        "/buildings/{building_id}": {"get": {
            "summary": "One building's specs, available units and park contacts",
            "parameters": [{"name": "building_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}],
            "responses": {"200": {"description": "building card", "content": {"application/json": {"schema": {
                "type": "object", "required": ["id", "units", "park"]}}}},
                          "404": {"description": "no such building"}}}},
        "/parks": {"get": {
            "summary": "Park boundaries (the offline vector base)",
            "parameters": [{"name": "datum", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["wgs84", "gcj02"]}}],
            "responses": {"200": geojson}}},
    }


def display_geometry(coords_geojson: dict, datum: str) -> dict:
    """A GeoJSON geometry in the display datum: as stored (CGCS2000), or shifted to GCJ-02 for AMap."""
    if datum != "gcj02":
        return coords_geojson
    return shapely.geometry.mapping(chinacoords.convert_geometry(shapely.geometry.shape(coords_geojson), "wgs84", "gcj02"))


def _storage_bbox(q: VacancyQuery):
    if q.bbox is None or q.datum != "gcj02":
        return q.bbox
    # The display shift is a few hundred metres; convert the corners back to CGCS2000.
    x0, y0 = chinacoords.gcj02_to_wgs84(q.bbox[0], q.bbox[1])
    x1, y1 = chinacoords.gcj02_to_wgs84(q.bbox[2], q.bbox[3])
    return (x0, y0, x1, y1)


def _building_filters(session: Session, q: VacancyQuery) -> list:
    """The conditions on the building itself (bbox through the spatial index, park, specs, industry)."""
    out = []
    bbox = _storage_bbox(q)
    if bbox is not None:
        out.append(bbox_filter(session, Building.footprint, bbox))
    if q.park is not None:
        out.append(Building.park_id == q.park)
    if q.type is not None:
        out.append(Building.type == q.type)
    out += building_fits(q.needs)
    if q.max_rent is not None:
        out.append(Building.asking_rent_yuan_m2_month <= q.max_rent)
    if q.industry:
        token = f'%"{q.industry}"%'
        out.append(or_(Building.industries_excluded.is_(None), ~cast(Building.industries_excluded, String).like(token)))
        out.append(or_(Building.industries_allowed.is_(None), cast(Building.industries_allowed, String).like(token)))
    return out


def _unit_aggregates(q: VacancyQuery, area, last_end, fits, held, held_until) -> list:
    """Per building, over its leasable units: the area and count of the units available by
    ``available_by`` (meeting the storey needs, vacant then: free from that day on and not held;
    the building's readiness is applied per building), the units vacant today, all leasable
    units, the available units free today and held for no one after today, and the earliest day
    another available unit frees up (its last lease and any reservation over). Each is one aggregate with a FILTER,
    so a unit's conditions are evaluated once per aggregate, never re-derived from building
    columns."""
    free_now = status.free_from(q.day, last_end)
    # Asked about today, "free then" is "free now".
    free_then = free_now if q.available_by == q.day else status.free_from(q.available_by, last_end)
    ok = and_(fits, free_then, ~held)
    # Available by then but reserved meanwhile: it can be had once the reservation is over.
    free_for_good = and_(free_now, held_until.is_(None))
    return [func.coalesce(func.sum(area).filter(ok), 0.0).label("ok_m2"),
            func.count().filter(ok).label("ok_units"),
            func.count().filter(free_now).label("vacant_now"),
            func.count().label("leasable_units"),
            func.count().filter(and_(ok, free_for_good)).label("ok_free_now"),
            func.min(status.later_of(last_end, held_until)).filter(and_(ok, ~free_for_good)).label("next_end")]


def _units_per_building(session: Session, q: VacancyQuery):
    """The unit aggregates of each matching building (``_unit_aggregates``), as a FROM item to join
    to ``Building``, the join condition, and the conditions on the building still to apply. Only
    leasable units count: an owner's own workshop is never space on the market. Each unit's last
    lease is looked up once (``status.last_lease_end``: one ordered probe of the B-tree on
    (unit_id, start_date, end_date)); how the units are gathered per building is the backend's
    (``storage.spatial.children_aggregated``)."""
    return children_aggregated(
        session, parent=Building, child=Unit, link=Unit.building_id == Building.id, child_where=[Unit.leasable],
        columns={"area": Unit.leasable_area_m2, "fits": storey_fits(q.needs), "held": status.held_on(q.available_by),
                 "held_until": status.held_until(q.day)},
        joins=lambda stmt: with_storeys(stmt, q.needs), lookup=status.last_lease_end(), label="last_end",
        aggregates=lambda c: _unit_aggregates(q, c["area"], c["last_end"], c["fits"], c["held"], c["held_until"]),
        parent_where=_building_filters(session, q))


def _per_building(session: Session, q: VacancyQuery):
    """A SELECT over ``Building`` of the matching buildings with their availability: the
    building's id and ``available_m2``, ``available_units``, ``vacant_now``, ``leasable_units``,
    ``ok_free_now``, ``next_end``. Buildings with no leasable units (own factories, dormitories)
    are not on the map. Callers add the building's own columns."""
    units, on, building_filters = _units_per_building(session, q)
    # Space in a building still under construction is available once it is completed.
    ready = status.building_ready_by(q.available_by)
    area = case((ready, units.c.ok_m2), else_=0.0)
    stmt = (select(Building.id, area.label("available_m2"),
                   case((ready, units.c.ok_units), else_=0).label("available_units"),
                   units.c.vacant_now, units.c.leasable_units,
                   case((ready, units.c.ok_free_now), else_=0).label("ok_free_now"),
                   case((ready, units.c.next_end)).label("next_end"))
            .select_from(Building).join(units, on).where(units.c.leasable_units > 0, *building_filters))
    if q.only_available or q.space_filters:
        stmt = stmt.where(area > 0)
    if q.needs.min_area_m2:
        stmt = stmt.where(area >= q.needs.min_area_m2)
    if q.needs.max_area_m2:
        stmt = stmt.where(area <= q.needs.max_area_m2)
    return stmt


def availability(day: dt.date, building_status: BuildingStatus, completion: dt.date | None, available_units: int,
                 vacant_now: int, leasable_units: int) -> str:
    """How the map colours a building on ``day``: being built (not completed by then), fully
    vacant, partly vacant or fully let."""
    if not status.completed_on(building_status, completion, day):
        return "under_construction"
    if leasable_units and vacant_now == leasable_units:
        return "fully_vacant"
    if available_units or vacant_now:
        return "partly_vacant"
    return "fully_let"


def search(session: Session, q: VacancyQuery, *, audience: Audience) -> dict:
    """A GeoJSON FeatureCollection of matching buildings (or clusters), paged, for the map and list.
    A park that hides its rents shows them only to its own readers (``audience``)."""
    if q.zoom < CLUSTER_ZOOM:
        out = _clusters(session, q)
        if q.list:  # the list beside the map names buildings at every zoom, most space first
            out["list"] = search(session, replace(q, zoom=CLUSTER_ZOOM, limit=q.list, offset=0, list=0),
                                 audience=audience)["features"]
        return out
    rows = session.execute(feature_statement(session, q)).all()
    # The total comes with every row (a window count); past the last page, count separately.
    total = rows[0][-1] if rows else session.scalar(select(func.count()).select_from(
        _per_building(session, q).subquery()))
    features = []
    for (bid, area, units, vacant_now, leasable, free_now, next_end, code, name, type_, bstatus, park_id, park_name,
         hide, floors, gfa, crane, power, rent, completion, verified, gj, x, y, _total) in rows:
        props = {
            "id": bid, "code": code, "name": name, "park_id": park_id, "park": park_name,
            "type": type_.value, "type_label": type_.label, "status": bstatus.value,
            "availability": availability(q.day, bstatus, completion, units, vacant_now, leasable),
            "available_m2": round(area, 2), "available_units": units,
            "available_from": _available_from(q.day, bstatus, completion, units, free_now, next_end),
            "floors": floors, "gfa_m2": gfa, "crane_t": crane, "power_kva": power,
            "asking_rent": None if hide and not audience.private(park_id) else rent,
            "last_verified": verified.isoformat() if verified else None,
        }
        features.append({"type": "Feature", "id": bid, "properties": props,
                         "geometry": display_geometry(json.loads(gj) if gj is not None else
                                              {"type": "Point", "coordinates": [x, y]}, q.datum)})
    return {"type": "FeatureCollection", "features": features, "numberMatched": int(total),
            "numberReturned": len(features), "clustered": False}


def _available_from(day: dt.date, building_status: BuildingStatus, completion: dt.date | None,
                    available_units: int, free_now: int, next_end: dt.date | None) -> str | None:
    """The first day some of the building's available space can be had (``status.available_from``
    of its earliest unit); for a building with none, its completion date while it is being built."""
    if available_units:
        ready = status.ready_date(building_status, completion, day)
        return status.available_from(day, ready, None if free_now else next_end).isoformat()
    return completion.isoformat() if completion and not status.completed_on(building_status, completion, day) else None


def feature_statement(session: Session, q: VacancyQuery):
    """The SQL of one page of features with the total count (benchmarks run it alone: the floor)."""
    avail = _per_building(session, q)
    # Points as two numbers: parsing thousands of tiny GeoJSON strings costs more than the query.
    # A point sits at its bounding box's centre, as in the clusters (read from the stored box).
    geom = ((as_geojson(Building.footprint), literal(None), literal(None)) if q.zoom >= POLYGON_ZOOM
            else (literal(None), *box_centre(session, Building.footprint)))
    return (avail.add_columns(Building.code, Building.name, Building.type, Building.status, Building.park_id,
                              Park.name, Park.hide_rents, Building.floors_above, Building.gfa_m2,
                              Building.crane_tonnage_t, Building.power_kva, Building.asking_rent_yuan_m2_month,
                              Building.completion_date, Building.last_verified, *geom,
                              func.count().over().label("total"))
            .join(Park, Park.id == Building.park_id)
            .order_by(avail.selected_columns.available_m2.desc(), Building.id).limit(q.limit).offset(q.offset))


def _clusters(session: Session, q: VacancyQuery) -> dict:
    """Grid clusters: count, available area and mean position of the matching buildings per cell.

    Without filters on the space itself, buildings are counted from their own columns plus one
    existence check for leasable units (a partial index of them), which keeps a province-wide view
    fast; the space filters need the per-unit aggregate. Buildings sit at their bounding box's
    centre.
    """
    cell = 360.0 / (2 ** q.zoom) / 4  # about a quarter of a 256-px tile
    cx, cy = box_centre(session, Building.footprint)
    if q.space_filters or q.only_available:
        avail = _per_building(session, q)
        placed = avail.with_only_columns(cx.label("x"), cy.label("y"),
                                         avail.selected_columns.available_m2.label("area"))
    else:
        # One probe of the leasable-units index per building (LATERAL … LIMIT 1 on PostgreSQL,
        # whose planner otherwise hashes every unit in the province for a semi-join).
        lettable = select(Unit.id).where(Unit.building_id == Building.id, Unit.leasable).limit(1).correlate(Building)
        placed = with_lookup(session, select(cx.label("x"), cy.label("y"), cast(null(), Float).label("area")),
                             lettable, "lettable")
        placed = placed.where(*_building_filters(session, q)).where(placed.selected_columns.lettable.is_not(None))
    p = computed_cte(session, placed, "placed")
    gx = func.floor(p.c.x / cell)
    gy = func.floor(p.c.y / cell)
    stmt = select(func.count(), func.sum(p.c.area), func.avg(p.c.x), func.avg(p.c.y))
    rows = session.execute(stmt.group_by(gx, gy)).all()
    total = sum(int(r[0]) for r in rows)
    features = []
    for n, area, x, y in rows:
        geometry = display_geometry({"type": "Point", "coordinates": [float(x), float(y)]}, q.datum)
        features.append({"type": "Feature", "properties": {"cluster": True, "count": int(n),
                                                           "available_m2": None if area is None else round(float(area), 1)},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features, "numberMatched": int(total),
            "numberReturned": len(features), "clustered": True}
