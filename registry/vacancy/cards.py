"""What an investor is shown of one building: its card (specs, the units on offer and from when,
the park's contacts), its site plan among its neighbours, the one-page brochure made of both, and the
parks' outlines that the offline map draws. Public readers get no tenants, and no rents where the
park hides them."""
from __future__ import annotations

import datetime as dt
import json

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.geometry import for_display

from ..core.authz import Audience
from ..core.models import Building, Park, Unit
from ..occupancy import status
from ..storage.spatial import as_geojson, bbox_filter
from .needs import SpaceNeeds, storey_fits, with_storeys
from .search import display_geometry


def building_card(session: Session, building_id: int, day: dt.date, *, audience: Audience,
                  needs: SpaceNeeds | None = None) -> dict:
    """Everything the map's detail panel and the brochure show about one building: to the park's own
    readers (``audience``) every unit with its tenant, lease and reservation; to everyone else the
    units on offer, and rents unless the park hides them. With the investor's ``needs`` (the map's
    filters), each unit says whether it ``fits`` them: on offer, free by the day asked, on a
    storey that meets them (the same rule as the map's search)."""
    b = session.get(Building, building_id)
    if b is None:
        raise LookupError(f"no building #{building_id}")
    park = b.park
    public = not audience.private(park.id)
    hide = public and park.hide_rents
    states = status.unit_states(session, day, building_id=b.id)
    ready = status.ready_date(b.status, b.completion_date, day)
    floors = {f.level: f for f in b.floors}
    fitting = None if needs is None else set(session.scalars(with_storeys(
        select(Unit.id).where(Unit.building_id == b.id, storey_fits(needs)), needs)))
    units = []
    for u in sorted(b.units, key=lambda u: (u.floor_level, u.code)):
        s = states[u.id]
        if s.status not in status.OFFERED and public:
            continue
        fl = floors.get(u.floor_level)
        free = s.available_from(day, ready) if s.status in status.OFFERED else None
        entry = {"id": u.id, "code": u.code, "floor": u.floor_level, "area_m2": u.leasable_area_m2,
                 "status": s.status.value, "status_label": s.status.label,
                 "storey_height_m": fl.storey_height_m if fl else None,
                 "floor_load_t_m2": round(fl.floor_load_t_m2, 2) if fl and fl.floor_load_t_m2 else None,
                 "available_from": free.isoformat() if free else None,
                 "rent": None if hide else b.asking_rent_yuan_m2_month}
        if fitting is not None:
            entry["fits"] = u.id in fitting and free is not None and free <= needs.available_by
        if not public:
            entry.update({"tenant": s.tenant, "lease_rent": s.rent_yuan_m2_month,
                          "last_day": s.last_day.isoformat() if s.last_day else None, "prospect": s.prospect})
        units.append(entry)
    geom = shapely.geometry.mapping(for_display(to_shape(b.footprint)))
    return {
        "id": b.id, "code": b.code, "name": b.name, "type": b.type.value, "type_label": b.type.label,
        "status": b.status.value, "status_label": b.status.label, "floors": b.floors_above, "gfa_m2": b.gfa_m2,
        "structure": b.structure.label if b.structure else None, "crane_t": b.crane_tonnage_t, "power_kva": b.power_kva,
        "asking_rent": None if hide else b.asking_rent_yuan_m2_month, "completion_date":
        b.completion_date.isoformat() if b.completion_date else None,
        "last_verified": b.last_verified.isoformat() if b.last_verified else None,
        "industries_allowed": b.industries_allowed, "industries_excluded": b.industries_excluded,
        "industries_allowed_named": _named(b.industries_allowed), "industries_excluded_named": _named(b.industries_excluded),
        "photo": b.photo, "storeys": [{"level": f.level, "height_m": f.storey_height_m,
                                        "load_t_m2": round(f.floor_load_t_m2, 2) if f.floor_load_t_m2 else None}
                                       for f in b.floors],
        "units": units, "park": {"id": park.id, "name": park.name, "operator": park.operator,
                                 "contact": park.contact_name, "phone": park.contact_phone},
        "footprint": geom, "public": public,
    }


def _named(codes) -> list[str]:
    """GB/T 4754-2017 codes as people read them: 26 化学原料和化学制品制造业."""
    from ..core.validation import industries
    table = industries()
    return [f"{c} {table[c].name}" if c in table else str(c) for c in (codes or [])]


def park_boundaries(session: Session, datum: str = "wgs84") -> dict:
    """Every park's boundary with its name: the offline vector base of the map."""
    rows = session.execute(select(Park.id, Park.name, Park.level, as_geojson(Park.boundary))
                           .where(Park.boundary.is_not(None)).order_by(Park.name)).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": pid, "properties": {"id": pid, "name": name, "level": level.label},
         "geometry": display_geometry(json.loads(gj), datum)} for pid, name, level, gj in rows]}


def site_plan(session: Session, building_id: int, half_m: float = 250.0) -> dict:
    """The building among its neighbours in a square of 2 × ``half_m`` metres, in local metres
    (y up) of its Gauss-Krüger zone: rings for the park boundary, the other buildings and this one."""
    from shapely.geometry import box

    from geodata import crs
    b = session.get(Building, building_id)
    if b is None:
        raise LookupError(f"no building #{building_id}")
    me = for_display(to_shape(b.footprint))
    c = me.centroid
    t = crs.transformer(crs.CGCS2000, crs.gk3_epsg_for_lon(c.x))
    cx, cy = t.transform(c.x, c.y)
    window = box(cx - half_m, cy - half_m, cx + half_m, cy + half_m)

    def rings(geom) -> list[list[tuple[float, float]]]:
        local = shapely.transform(geom, t.transform, interleaved=False).intersection(window)
        out = []
        for poly in getattr(local, "geoms", [local]):
            if poly.geom_type == "Polygon" and not poly.is_empty:
                out.append([(round(x - cx + half_m, 1), round(y - cy + half_m, 1)) for x, y in poly.exterior.coords])
        return out

    near = session.scalars(select(Building).where(
        Building.park_id == b.park_id, Building.id != b.id,
        bbox_filter(session, Building.footprint, (c.x - 0.01, c.y - 0.01, c.x + 0.01, c.y + 0.01)))).all()
    return {"size": 2 * half_m, "park": rings(for_display(to_shape(b.park.boundary))) if b.park.boundary is not None else [],
            "others": [r for o in near for r in rings(for_display(to_shape(o.footprint)))], "this": rings(me)}


def brochure(session: Session, building_id: int, day: dt.date, *, audience: Audience) -> dict:
    """The one-page brochure's content: the building card and its site plan."""
    return {"card": building_card(session, building_id, day, audience=audience),
            "site_plan": site_plan(session, building_id)}
