"""The registry's layers as features: one page for the OGC API, or every feature into a file.

``page`` selects features of a layer (parks, plots, buildings, units, vacancies) by park, bbox and
property values, in id order, with the total matched; ``export`` writes all matching features to
GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or XLSX. Both show each reader what their
``Audience`` allows: anonymous readers only the public fields; a reader with some parks the private
fields (tenants, holders, lease rents) of those parks' features only, the other parks' left empty;
no rents for parks that hide them, except to their own readers. Units carry their status on a date
(derived from leases and reservations); vacancies are the units vacant on that date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, aliased

from geodata import area as geo_area
from geodata import writers
from ..storage import bulk
from ..core import tabular
from ..core.authz import EVERYTHING, Audience
from ..core.enums import UnitStatus
from ..core.models import MAX_ID, Building, Enterprise, Park, Plot, Unit
from ..occupancy import status
from ..core.tabular import Column as TableColumn, Table
from ..storage.spatial import bbox_filter
from .fields import LAYER_TITLES, GisField, fields

FORMATS = ("geojson", "gpkg", "shp", "kml", "csv", "xlsx")
SUFFIX = {**writers.FORMATS, "csv": ".csv", "xlsx": ".xlsx"}


@dataclass
class Page:
    layer: str
    fields: list[GisField]
    ids: list[int]
    columns: dict[str, list]  # field name → values, in ``ids`` order
    wkb: list  # WKB geometry per feature, EPSG:4490 (None where a park has no boundary)
    matched: int  # features matching the filters, over all pages

    def __len__(self) -> int:
        return len(self.ids)


def _select(layer: str, day: dt.date):
    """(statement, geometry column, field name → SQL expression) of ``layer``."""
    if layer == "parks":
        exprs = {"id": Park.id, "name": Park.name, "level": Park.level, "region": Park.jurisdiction_code,
                 "operator": Park.operator, "plan_mu": Park.planned_area_mu, "built_mu": Park.built_area_mu,
                 "contact": Park.contact_name, "phone": Park.contact_phone, "_park": Park.id}
        return select(Park.id).select_from(Park), Park.boundary, exprs
    if layer == "plots":
        holder = aliased(Enterprise)
        exprs = {"id": Plot.id, "park": Park.name, "code": Plot.code, "cert_no": Plot.certificate_no,
                 "cert_m2": Plot.certificate_area_m2, "area_m2": Plot.computed_area_m2,
                 "area_mu": Plot.area_m2 / geo_area.M2_PER_MU, "land_use": Plot.land_use,
                 "rights": Plot.rights_type, "holder": holder.name, "uscc": holder.uscc,
                 "supply_dt": Plot.supply_date, "price_wan": Plot.supply_price_wan, "status": Plot.status,
                 "_park": Park.id}
        stmt = (select(Plot.id).select_from(Plot).join(Park, Park.id == Plot.park_id)
                .outerjoin(holder, holder.id == Plot.holder_id))
        return stmt, Plot.geom, exprs
    if layer == "buildings":
        exprs = {"id": Building.id, "park": Park.name, "plot": Plot.code, "code": Building.code,
                 "name": Building.name, "type": Building.type, "status": Building.status,
                 "mode": Building.construction_mode, "floors": Building.floors_above, "gfa_m2": Building.gfa_m2,
                 "foot_m2": Building.footprint_area_m2, "structure": Building.structure,
                 "crane_t": Building.crane_tonnage_t, "power_kva": Building.power_kva,
                 "completed": Building.completion_date, "verified": Building.last_verified,
                 "rent": Building.asking_rent_yuan_m2_month, "ind_allow": Building.industries_allowed,
                 "ind_excl": Building.industries_excluded, "_hide": Park.hide_rents, "_park": Park.id}
        stmt = (select(Building.id).select_from(Building).join(Park, Park.id == Building.park_id)
                .outerjoin(Plot, Plot.id == Building.plot_id))
        return stmt, Building.footprint, exprs
    if layer in ("units", "vacancies"):
        exprs = {"id": Unit.id, "park": Park.name, "building": Building.code, "floor": Unit.floor_level,
                 "code": Unit.code, "area_m2": Unit.leasable_area_m2, "leasable": Unit.leasable,
                 "rent": Building.asking_rent_yuan_m2_month, "_hide": Park.hide_rents,
                 "_building_status": Building.status, "_completion": Building.completion_date, "_park": Park.id}
        stmt = (select(Unit.id).select_from(Unit).join(Building, Building.id == Unit.building_id)
                .join(Park, Park.id == Building.park_id))
        if layer == "vacancies":  # available by the day, as the map offers them
            stmt = stmt.where(status.building_ready_by(day), status.available_unit(day))
        return stmt, Building.footprint, exprs
    raise LookupError(f"no layer {layer!r}")


def queryables(layer: str, *, audience: Audience) -> list[GisField]:
    """The fields a reader may filter ``layer`` on (equality): the stored ones they may see."""
    derived = {"state", "tenant", "lease_end", "avail_from", "area_mu"}
    return [f for f in fields(layer, public=audience.public) if f.kind in ("str", "int", "enum", "bool", "date")
            and f.name not in derived]


def _condition(layer: str, exprs: dict, name: str, raw: str, audience: Audience):
    allowed = {f.name: f for f in queryables(layer, audience=audience)}
    if name not in allowed:
        raise ValueError(f"{name!r} is not a property of {layer} to filter on; expected one of " + ", ".join(allowed))
    f = allowed[name]
    try:
        if f.kind == "enum":
            value = f.enum.from_any(raw)
        elif f.kind == "int":
            value = int(raw)
            if not -MAX_ID <= value <= MAX_ID:  # beyond any stored integer: nothing can match
                return false()
        elif f.kind == "bool":
            value = str(raw).lower() in ("1", "true", "yes", "是")
        elif f.kind == "date":
            value = dt.date.fromisoformat(raw)
        else:
            value = raw
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: {exc}") from None
    if not f.public and not audience.every_park:
        # A private value is matched only where the reader may see it: asking for a credit code
        # must not tell whether it is a tenant of another operator's park.
        return (exprs[name] == value) & exprs["_park"].in_(audience.private_parks)
    return exprs[name] == value


def page(session: Session, layer: str, *, day: dt.date, audience: Audience, park: int | None = None,
         bbox: tuple[float, float, float, float] | None = None, filters: dict[str, str] | None = None,
         ids: list[int] | None = None, limit: int | None = None, offset: int = 0,
         count: bool = True) -> Page:
    """One page of ``layer``'s features in id order (all of them when ``limit`` is None).

    ``filters`` are equality conditions on queryable fields (enums by value or Chinese label);
    an unknown field or a bad value raises ValueError naming it. ``audience``: what the reader may
    see (``registry.core.authz.audience``).
    """
    stmt, geom_col, exprs = _select(layer, day)
    conds = []
    if park is not None:
        conds.append(exprs["id"] == park if layer == "parks" else Park.id == park)
    if bbox is not None:
        conds.append(bbox_filter(session, geom_col, bbox))
    for name, raw in (filters or {}).items():
        conds.append(_condition(layer, exprs, name, raw, audience))
    if ids is not None:
        conds.append(exprs["id"].in_(ids))
    stmt = stmt.where(*conds)
    matched = session.scalar(select(func.count()).select_from(stmt.subquery())) if count else -1
    wanted = [f for f in fields(layer, public=audience.public) if f.name in exprs]
    extra = [k for k in exprs if k.startswith("_")]
    cols = [exprs[f.name].label(f.name) for f in wanted] + [exprs[k].label(k) for k in extra]
    full = stmt.with_only_columns(*cols, func.ST_AsBinary(geom_col).label("_wkb")).order_by(exprs["id"])
    if limit is not None:
        # Deferred join: the page's ids first (an index scan that skips `offset` rows cheaply), then
        # the columns and geometries of those rows only. Skipping rows of the full query would
        # compute every skipped row's geometry (180 ms for offset 98,000 on PostGIS, now ~30).
        page_ids = list(session.scalars(stmt.with_only_columns(exprs["id"]).order_by(exprs["id"])
                                        .limit(limit).offset(offset)))
        full = full.where(exprs["id"].in_(page_ids))
    rows = session.execute(full).all()
    names = [f.name for f in wanted] + extra
    columns = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    wkb = [None if r[-1] is None else bytes(r[-1]) for r in rows]
    out_fields = list(fields(layer, public=audience.public))
    columns = _finish(session, layer, out_fields, columns, day, audience)
    return Page(layer, out_fields, columns["id"], columns, wkb, matched if count else len(rows))


def _finish(session: Session, layer: str, out_fields: list[GisField], columns: dict, day: dt.date,
            audience: Audience) -> dict:
    """Values as readers see them: Chinese labels for enums, lists as text, derived unit fields
    (status, tenant, lease end, available from); private values only of the parks the reader sees
    privately, and rents hidden where a park hides them from everyone else."""
    n = len(columns["id"])
    private = [audience.private(p) for p in columns.pop("_park")]
    for f in out_fields:
        if f.kind == "enum" and f.name in columns:
            columns[f.name] = [None if x is None else x.label for x in columns[f.name]]
        elif f.kind == "list" and f.name in columns:
            columns[f.name] = [None if not x else ",".join(map(str, x)) for x in columns[f.name]]
    hide = columns.pop("_hide", None)
    if hide is not None and "rent" in columns:
        columns["rent"] = [None if h and not mine else r for r, h, mine in zip(columns["rent"], hide, private)]
    ready = [status.ready_date(b, c, day) for b, c in zip(columns.pop("_building_status", [None] * n),
                                                          columns.pop("_completion", [None] * n))]
    if layer == "vacancies":
        columns["state"] = [UnitStatus.VACANT.label] * n
        columns["avail_from"] = [status.available_from(day, r, None) for r in ready]
    elif layer == "units":
        states = {}
        ids = columns["id"]
        for start in range(0, len(ids), 20000):
            states.update(status.unit_states(session, day, ids[start:start + 20000]))
        columns["state"] = [states[i].status.label for i in ids]
        columns["tenant"] = [states[i].tenant for i in ids]
        columns["lease_end"] = [states[i].last_day for i in ids]
        columns["avail_from"] = [states[i].available_from(day, r) for i, r in zip(ids, ready)]
        # A let unit's rent is its lease's (for the park's own readers); otherwise the asking rent.
        columns["rent"] = [states[i].rent_yuan_m2_month if states[i].lease_id and mine else r
                           for i, r, mine in zip(ids, columns["rent"], private)]
    for f in out_fields:
        columns.setdefault(f.name, [None] * n)
        if not f.public and not all(private):
            columns[f.name] = [x if mine else None for x, mine in zip(columns[f.name], private)]
    return columns


@bulk.collector_paused()
def export(session: Session, layer: str, fmt: str, path: str | Path, *, day: dt.date,
           audience: Audience = EVERYTHING, park: int | None = None, encoding: str = "UTF-8") -> int:
    """Writes every feature of ``layer`` (of one park, or all) to ``path`` in ``fmt``; returns the
    number written. The file appears only once complete."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of " + ", ".join(FORMATS))
    pg = page(session, layer, day=day, audience=audience, park=park, count=False)
    if fmt in ("csv", "xlsx"):
        data = tabular.to_xlsx(table(pg, day)) if fmt == "xlsx" else tabular.to_csv(table(pg, day))
        path = Path(path)
        with writers.staged(path) as tmp:
            tmp.write_bytes(data)
        return len(pg)
    cols = [writers.Column(f.name, f.alias, "str" if f.kind in ("enum", "list") else f.kind) for f in pg.fields]
    data = pg.columns
    title = None
    if fmt == "kml":
        # A placemark's <name> is what Google Earth and 奥维 list; it is a copy so that every field
        # still travels in the placemark's data (and imports back).
        title = "title"
        cols.append(writers.Column(title, "标注", "str"))
        keys = ["name"] if layer == "parks" else [k for k in ("building", "code", "name") if k in pg.columns]
        data = {**pg.columns, title: [" ".join(str(pg.columns[k][i]) for k in keys if pg.columns[k][i] is not None)
                                      for i in range(len(pg))]}
    writers.write(path, fmt, layer, cols, data, pg.wkb, encoding=encoding, title_field=title)
    return len(pg)


def table(pg: Page, day: dt.date) -> Table:
    """The page as a spreadsheet table: Chinese headers, and the geometry as WKT (EPSG:4490)."""
    cols = [TableColumn(f.name, f.alias, "#,##0.00" if f.kind == "float" else None, 14) for f in pg.fields]
    cols.append(TableColumn("wkt", "WKT", None, 40))
    wkt = shapely.to_wkt(shapely.from_wkb(pg.wkb), rounding_precision=9, trim=True) if len(pg) else []
    rows = []
    for i in range(len(pg)):
        row = {f.name: pg.columns[f.name][i] for f in pg.fields}
        row["wkt"] = wkt[i]
        rows.append(row)
    return Table(f"{LAYER_TITLES[pg.layer]}（{day}）", cols, rows,
                 notes=["坐标系：CGCS2000 经纬度（EPSG:4490），WKT 列为几何。字段说明见 docs/gis.md。"])
