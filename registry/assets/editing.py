"""Creating and editing parks, plots, buildings (with storeys) and units.

One ``save_*`` function per kind: it checks the user's scope and the version they saw, assigns every
field (collecting every invalid one into one ValidationError), and flushes. The caller commits.
Geometry arrives as GeoJSON or WKT in EPSG:4490 lon/lat (what the map editor produces).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from dataclasses import dataclass

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core import limits, validation as v
from ..core.authz import require_admin, require_write_park
from ..core.conflicts import check_version
from ..core.enums import (BuildingStatus, BuildingType, ConstructionMode, LandUse, ParkLevel, PlotStatus, RightsType,
                          Structure)
from ..core.integrity import unique_problems
from ..core.models import KN_PER_T, get_by_id, Building, Enterprise, Floor, Jurisdiction, Park, Plot, Unit, User


ENUMS = {"level": ParkLevel, "land_use": LandUse, "rights_type": RightsType, "status": None, "type": BuildingType,
         "construction_mode": ConstructionMode, "structure": Structure}
PARK_FIELDS = ["name", "level", "operator", "boundary", "planned_area_mu", "built_area_mu", "contact_name",
               "contact_phone"]
PLOT_FIELDS = ["code", "geom", "certificate_area_m2", "land_use", "rights_type", "certificate_no", "supply_date",
               "supply_price_wan", "status"]
BUILDING_FIELDS = ["code", "name", "footprint", "type", "status", "construction_mode", "floors_above", "gfa_m2",
                   "structure", "crane_tonnage_t", "power_kva", "completion_date"]
UNIT_FIELDS = ["floor_level", "code", "leasable_area_m2", "leasable"]
STATUS_ENUM = {"plot": PlotStatus, "building": BuildingStatus}


def _geometry(value):
    """GeoJSON text (a geometry, Feature or FeatureCollection of one area) or WKT → shapely."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("{"):
        obj = json.loads(text)
        if obj.get("type") == "FeatureCollection":
            geoms = [shapely.geometry.shape(f["geometry"]) for f in obj.get("features", []) if f.get("geometry")]
            return shapely.union_all(geoms) if geoms else None
        if obj.get("type") == "Feature":
            obj = obj["geometry"]
        return shapely.geometry.shape(obj)
    return shapely.from_wkt(text)


def _assign(obj, kind: str, data: dict, fields: list[str]) -> None:
    problems: list[v.Problem] = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        try:
            enum = STATUS_ENUM.get(kind) if name == "status" else ENUMS.get(name)
            if enum is not None and value not in (None, ""):
                value = enum.from_any(value)
            elif enum is not None:
                value = None
            if name in ("boundary", "geom", "footprint"):
                try:
                    value = _geometry(value)
                except Exception:  # noqa: BLE001 - any unreadable geometry text
                    raise v.ValidationError(v.Problem(f"{type(obj).__name__}.{name}", "无法读取为图形",
                                                      "多边形的 GeoJSON 或 WKT")) from None
                if value is None and name != "boundary":
                    raise v.ValidationError(v.Problem(f"{type(obj).__name__}.{name}", "未填写",
                                                      "在地图上画出的多边形"))
            setattr(obj, name, value)
        except v.ValidationError as exc:
            problems.extend(exc.problems)
        except ValueError as exc:
            problems.append(v.Problem(f"{type(obj).__name__}.{name}", str(exc)))
    required = "name" if kind == "park" else "code"
    if required in data and not (data[required] or "").strip():
        problems.append(v.Problem(f"{type(obj).__name__}.{required}", "未填写", "名称或编号"))
    if problems:
        raise v.ValidationError(problems)


def _get(session, model, ident):
    obj = session.get(model, ident)
    if obj is None:
        raise LookupError(f"no {model.__tablename__} #{ident}")
    return obj


def _flush(session: Session, obj) -> None:
    """Writes the saver's changes, after refusing beside its field a value (a name, a code) that
    another record of the same kind already has."""
    problems = unique_problems(session, obj)
    if problems:
        raise v.ValidationError(problems)
    session.flush()


def save_park(session: Session, user: User, park_id: int | None, data: dict, seen_version=None) -> Park:
    """A new park (administrators only) or an edit of one (its managers too)."""
    if park_id is None:
        require_admin(user)
        park = Park()
    else:
        park = _get(session, Park, park_id)
        require_write_park(user, park.id)
        check_version(park, seen_version)
    code = data.get("jurisdiction_code")
    if code:
        code = v.check_region_code(code, "Park.jurisdiction_code")
        if session.get(Jurisdiction, code) is None:
            if not (data.get("jurisdiction_name") or "").strip():
                raise v.ValidationError(v.Problem("Park.jurisdiction_name", f"{code} is not registered yet",
                                                  "the county's name, e.g. 汉阴县"))
            session.add(Jurisdiction(code=code, name=data["jurisdiction_name"].strip()))
        park.jurisdiction_code = code
    elif park_id is None:
        raise v.ValidationError(v.Problem("Park.jurisdiction_code", "is missing", "a 6-digit GB/T 2260 code"))
    _assign(park, "park", data, PARK_FIELDS)
    if park_id is None:
        session.add(park)
    _flush(session, park)
    return park


def _in_park(session: Session, user: User, model, park_id: int, ident: int | None, seen_version):
    """A new record of ``model`` in the park, or the existing one; either way the user must be
    allowed to write to its park, and an existing one must still be at the version they saw."""
    if ident is None:
        require_write_park(user, park_id)
        return model(park_id=park_id)
    obj = _get(session, model, ident)
    require_write_park(user, obj.park_id)
    check_version(obj, seen_version)
    return obj


def save_plot(session: Session, user: User, park_id: int, plot_id: int | None, data: dict, seen_version=None) -> Plot:
    plot = _in_park(session, user, Plot, park_id, plot_id, seen_version)
    holder = (data.get("holder_uscc") or "").strip()
    if holder:
        code = v.check_uscc(holder, "Plot.holder_uscc")
        ent = session.scalar(select(Enterprise).where(Enterprise.uscc == code))
        if ent is None:
            raise v.ValidationError(v.Problem("Plot.holder_uscc", f"no enterprise {code} is registered",
                                              "the code of a registered enterprise"))
        plot.holder = ent
    elif "holder_uscc" in data:
        plot.holder = None
    _assign(plot, "plot", data, PLOT_FIELDS)
    if plot_id is None:
        session.add(plot)
    _flush(session, plot)
    return plot


def _storeys(text: str | None, field: str, n: int, scale: float = 1.0) -> list[float | None]:
    """'8, 5.4, 5.4' → per-storey values; one value applies to all storeys; blank → unknown."""
    if not text or not str(text).strip():
        return [None] * n
    parts = [p for p in str(v.normalize_code(text)).replace("，", ",").replace(" ", ",").split(",") if p]
    try:
        values = [float(p) * scale for p in parts]
    except ValueError:
        raise v.ValidationError(v.Problem(f"Building.{field}", f"{text!r} is not a list of numbers",
                                          "numbers separated by commas, bottom storey first")) from None
    if len(values) == 1:
        values = values * n
    if len(values) != n:
        raise v.ValidationError(v.Problem(f"Building.{field}", f"{len(values)} values for {n} storeys",
                                          f"one value, or {n} values bottom storey first"))
    return values


def save_building(session: Session, user: User, park_id: int, building_id: int | None, data: dict,
                  seen_version=None) -> Building:
    """A building with its storeys' heights (m) and floor loads (t/m², stored as kN/m²)."""
    b = _in_park(session, user, Building, park_id, building_id, seen_version)
    plot_id = data.get("plot_id")
    if plot_id not in (None, ""):
        plot = get_by_id(session, Plot, plot_id)
        if plot is None or plot.park_id != b.park_id:
            raise v.ValidationError(v.Problem("Building.plot_id", f"{plot_id!r} is no plot of this park", "a plot of the park"))
        b.plot = plot
    elif "plot_id" in data:
        b.plot = None
    _assign(b, "building", data, BUILDING_FIELDS)
    n = b.floors_above
    heights = _storeys(data.get("storey_heights"), "storey_heights", n)
    loads = _storeys(data.get("floor_loads_t"), "floor_loads_t", n, KN_PER_T)
    if building_id is None:
        session.add(b)
    existing = {f.level: f for f in b.floors}
    used = set()
    if building_id is not None:
        used = set(session.scalars(select(Unit.floor_level).where(Unit.building_id == b.id)))
    dropped = [lvl for lvl in existing if lvl > n and lvl in used]
    if dropped:
        raise v.ValidationError(v.Problem("Building.floors_above",
                                          f"第 {'、'.join(map(str, dropped))} 层还有单元",
                                          "先移走或删除这些楼层的单元"))
    for lvl in [lvl for lvl in existing if lvl > n]:
        b.floors.remove(existing[lvl])
    for lvl in range(1, n + 1):
        fl = existing.get(lvl)
        if fl is None:
            fl = Floor(level=lvl)
            b.floors.append(fl)
        if "storey_heights" in data:
            fl.storey_height_m = heights[lvl - 1]
        if "floor_loads_t" in data:
            fl.floor_load_kn_m2 = loads[lvl - 1]
    _flush(session, b)
    return b


def save_unit(session: Session, user: User, building_id: int, unit_id: int | None, data: dict,
              seen_version=None) -> Unit:
    if unit_id is None:
        b = _get(session, Building, building_id)
        require_write_park(user, b.park_id)
        most = limits.UNITS_PER_BUILDING()
        if session.scalar(select(func.count(Unit.id)).where(Unit.building_id == b.id)) >= most:
            raise v.ValidationError(v.Problem("Unit.code", f"楼栋 {b.code} 已有 {most:,} 个单元",
                                              f"每栋不超过 {most:,} 个单元（REGISTRY_MAX_UNITS_PER_BUILDING）"))
        u = Unit(building_id=b.id)
    else:
        u = _get(session, Unit, unit_id)
        b = u.building
        require_write_park(user, b.park_id)
        check_version(u, seen_version)
    data = dict(data)
    if "floor_level" in data:
        try:
            data["floor_level"] = int(data["floor_level"])
        except (TypeError, ValueError):
            raise v.ValidationError(v.Problem("Unit.floor_level", f"{data['floor_level']!r} 不是楼层号",
                                              "楼层号，如 1")) from None
        if data["floor_level"] not in {f.level for f in b.floors}:
            raise v.ValidationError(v.Problem("Unit.floor_level", f"building {b.code} has no storey {data['floor_level']}",
                                              f"one of {sorted(f.level for f in b.floors)}"))
    _assign(u, "unit", data, UNIT_FIELDS)
    if unit_id is None:
        session.add(u)
    _flush(session, u)
    return u


@dataclass(frozen=True)
class FormContext:
    """What an edit page needs: the record (or None when new), its park, and map context."""

    kind: str
    obj: object | None
    park: Park
    geometry: dict | None  # the record's own geometry as GeoJSON
    context: dict  # FeatureCollection of the park boundary and other buildings/plots, to draw beside it
    plots: list[Plot]
    values: dict  # the record's values as its form shows them (text and choices), or a new one's defaults


def form_context(session: Session, user: User | None, kind: str, ident: int | None,
                 park_id: int | None = None) -> FormContext:
    """The record of ``kind`` (park/plot/building/unit) #``ident`` or a blank one in ``park_id``,
    for a form ``user`` may save (``Forbidden`` otherwise: a form that cannot be saved is not shown)."""
    model = {"park": Park, "plot": Plot, "building": Building, "unit": Unit}[kind]
    obj = _get(session, model, ident) if ident is not None else None
    if kind == "park":
        park = obj
    elif kind == "unit":
        park = obj.building.park if obj else _get(session, Building, park_id).park
    else:
        park = obj.park if obj else _get(session, Park, park_id)
    if park is None:
        require_admin(user)
    else:
        require_write_park(user, park.id)
    geom_attr = {"park": "boundary", "plot": "geom", "building": "footprint"}.get(kind)
    geometry = None
    if obj is not None and geom_attr and getattr(obj, geom_attr) is not None:
        geometry = shapely.geometry.mapping(to_shape(getattr(obj, geom_attr)))
    features = []
    if park is not None:
        if park.boundary is not None and kind != "park":
            features.append({"type": "Feature", "properties": {"role": "park"},
                             "geometry": shapely.geometry.mapping(to_shape(park.boundary))})
        if kind in ("building", "plot"):
            for other in session.scalars(select(Plot).where(Plot.park_id == park.id)):
                if other is not obj:
                    features.append({"type": "Feature", "properties": {"role": "plot", "code": other.code},
                                     "geometry": shapely.geometry.mapping(to_shape(other.geom))})
            for other in session.scalars(select(Building).where(Building.park_id == park.id)):
                if other is not obj:
                    features.append({"type": "Feature", "properties": {"role": "building", "code": other.code},
                                     "geometry": shapely.geometry.mapping(to_shape(other.footprint))})
    plots = list(session.scalars(select(Plot).where(Plot.park_id == park.id).order_by(Plot.code))) if park else []
    return FormContext(kind, obj, park, geometry, {"type": "FeatureCollection", "features": features}, plots,
                       _form_values(kind, obj, geometry))


FORM_FIELDS = {"park": PARK_FIELDS + ["jurisdiction_code"], "plot": PLOT_FIELDS, "building": BUILDING_FIELDS + ["plot_id"],
               "unit": UNIT_FIELDS}


def _form_values(kind: str, obj, geometry: dict | None) -> dict:
    """The values of the record's form: stored values (enums by value), a park's region and its
    name, a plot holder's credit code, a building's storey heights and floor loads as the
    comma-separated lists the form takes, and the geometry as GeoJSON."""
    if obj is None:
        return {"leasable": True, "floors_above": 1}
    geom_attr = {"park": "boundary", "plot": "geom", "building": "footprint"}.get(kind)
    values = {}
    for name in FORM_FIELDS[kind]:
        if name != geom_attr:
            value = getattr(obj, name, None)
            values[name] = getattr(value, "value", value)
    if kind == "park":
        values["jurisdiction_name"] = obj.jurisdiction.name
    if kind == "plot":
        values["holder_uscc"] = obj.holder.uscc if obj.holder else ""
    if kind == "building":
        values["storey_heights"] = ", ".join("" if fl.storey_height_m is None else f"{fl.storey_height_m:g}"
                                             for fl in obj.floors)
        values["floor_loads_t"] = ", ".join("" if fl.floor_load_t_m2 is None
                                            else f"{fl.floor_load_t_m2:.2f}".rstrip("0").rstrip(".") for fl in obj.floors)
    if geometry is not None:
        values[geom_attr] = json.dumps(geometry)
    return values


PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
MAX_PHOTO = 5 * 1024 * 1024


def save_photo(session: Session, user: User, building_id: int, data: bytes, folder) -> Building:
    """The building's photo for investors (招商照片): a JPEG or PNG of at most 5 MB, stored in ``folder``
    under a name made of the building's id and the picture's hash (so a browser never shows a
    stale copy), and named on the building. The caller commits."""
    b = _get(session, Building, building_id)
    require_write_park(user, b.park_id)
    ext = next((e for magic, e in PHOTO_TYPES.items() if data.startswith(magic)), None)
    if not data or ext is None or len(data) > MAX_PHOTO:
        raise v.ValidationError(v.Problem("photo", "照片须为 5 MB 以内的 JPEG 或 PNG 文件", "JPEG 或 PNG，5 MB 以内"))
    name = f"{b.id}-{hashlib.sha256(data).hexdigest()[:16]}{ext}"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    b.photo = name
    session.flush()
    return b
