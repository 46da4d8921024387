"""Importing GIS files into parks, plots, buildings or units: a dry run that says what would
happen, then an all-or-nothing commit.

``plan`` reads the file, decides its encoding and CRS, maps its fields to the layer's fields
(``registry.gis.fields``), checks every feature, resolves parents (park by name, plot by number or
by location, building by number) and matches existing records by key: the certificate number or
the park and code. It writes nothing and returns a ``Plan``: new, updated (with each changed field),
unchanged and rejected features, each rejection with every reason. ``commit`` writes a plan in the
caller's transaction: new records through each backend's bulk path, changed ones through the ORM
(so each change is audited with its before and after), and refuses a plan with rejected features
unless the user chose to skip them.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geodata import area as geo_area
from geodata import crs as geo_crs
from geodata import geometry as geo
from geodata import sources
from ..storage import bulk, db
from ..core import bounds, limits, validation as v
from ..assets.parks import find_park
from ..core.params import Param, parse_all
from ..core.authz import require_admin
from ..core.models import Building, Enterprise, Floor, Jurisdiction, Park, Plot, Unit, User
from .fields import IMPORT_TARGETS, GisField, importable, suggest_mapping

SPATIAL = {"parks": "boundary", "plots": "geom", "buildings": "footprint"}
MODELS = {"parks": Park, "plots": Plot, "buildings": Building, "units": Unit}
DATUMS = ("wgs84", "gcj02", "bd09")
_TRUE = {"1", "true", "t", "yes", "y", "是", "可", "可租", "√"}
_FALSE = {"0", "false", "f", "no", "n", "否", "不可", "不可租", "×"}
_M_PER_DEGREE = 111_320.0


class ImportRefused(v.ValidationError):
    """The plan cannot be committed as it stands; nothing was written."""

    def __init__(self, message: str):
        super().__init__(v.Problem("import", message))


@dataclass
class Options:
    """How to read a file and what to make of it; saved as a reusable profile."""

    target: str  # parks | plots | buildings | units
    mapping: dict[str, str] = field(default_factory=dict)  # field → source field, or "=constant"
    park: str | None = None  # the park (name or id) of every record, unless a source field gives it
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    datum: str = "wgs84"  # gcj02 / bd09: lon/lat traced on a web map
    cad_layers: list[str] | None = None
    close_tolerance_m: float = 0.5
    repair: bool = False
    skip_rejected: bool = False

    def __post_init__(self):
        problems = []
        if self.target not in IMPORT_TARGETS:
            problems.append(v.Problem("target", f"{self.target!r} is not a layer to import into",
                                      " / ".join(IMPORT_TARGETS)))
        if self.datum not in DATUMS:
            problems.append(v.Problem("datum", f"{self.datum!r} is unknown", " / ".join(DATUMS)))
        if not (0 <= self.close_tolerance_m <= 100):
            problems.append(v.Problem("close_tolerance_m", f"{self.close_tolerance_m} m", "0–100 m"))
        if problems:
            raise v.ValidationError(problems)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Options:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class Feature:
    number: int  # 1-based, as the user counts features in their GIS tool
    key: str  # how the user recognises it, e.g. "A-03" or "园区一 / A-03"
    values: dict  # attribute → value, as it will be stored
    geom: object = None  # shapely, EPSG:4490
    existing_id: int | None = None
    changes: dict = field(default_factory=dict)  # attribute → (before, after)


Reasons = dict[int, list[str]]  # feature index (0-based) → why it cannot be imported


class Features(Sequence):
    """Planned features held column by column, read as ``Feature`` objects: 100,000 footprints
    made into dicts and objects cost more time than the COPY that writes them."""

    def __init__(self, columns: dict[str, list], keys: list[str], rows: np.ndarray, geom_name: str | None):
        self.columns = columns  # field → one value per feature in the file (None: none)
        self.keys = keys
        self.rows = rows  # indexes (0-based) of the features in this set, ascending
        self.geom_name = geom_name  # the field holding the geometry, if the layer has one

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        i = int(self.rows[k])
        values = {name: column[i] for name, column in self.columns.items() if column[i] is not None}
        return Feature(i + 1, self.keys[i], values, values.get(self.geom_name))

    def column(self, name: str) -> list:
        """The values of field ``name`` for the features in this set (None where not given)."""
        column = self.columns.get(name)
        if column is None:
            return [None] * len(self.rows)
        if len(self.rows) == len(column):  # every feature of the file
            return list(column)
        return [column[i] for i in self.rows.tolist()]

    @classmethod
    def of(cls, features: list[Feature]) -> Features:
        """A set of features given one by one (a plan made by hand, as tests do)."""
        names = {name for f in features for name in f.values}
        columns = {name: [f.values.get(name) for f in features] for name in names}
        return cls(columns, [f.key for f in features], np.arange(len(features)), None)

    @property
    def names(self) -> list[str]:
        """The fields that some feature in this set has a value for."""
        return [name for name in self.columns if any(x is not None for x in self.column(name))]


@dataclass
class Rejection:
    number: int
    key: str
    reasons: list[str]

    def __str__(self) -> str:
        return f"第 {self.number} 个要素（{self.key}）：" + "；".join(self.reasons)


@dataclass
class Plan:
    options: Options
    source: str
    format: str
    layer: str
    layers: list[str]
    source_fields: list[str]
    encoding: sources.Encoding | None
    samples: dict[str, list[str]]
    crs: geo_crs.Resolution | None
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the whole file: nothing can be imported
    new: Sequence[Feature] = field(default_factory=list)
    updated: list[Feature] = field(default_factory=list)
    unchanged: list[Feature] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repaired: list[tuple[int, str, str]] = field(default_factory=list)  # (number, key, what was done)

    @property
    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "updated": len(self.updated), "unchanged": len(self.unchanged),
                "rejected": len(self.rejected)}

    @property
    def can_commit(self) -> bool:
        return not self.problems and (not self.rejected or self.options.skip_rejected)

    def summary(self) -> str:
        c = self.counts
        return f"{c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {c['rejected']} rejected"

    def as_json(self) -> dict:
        """What a dry run reports, as plain data (the CLI's --format json and the upload page)."""
        return {
            "source": self.source, "format": self.format, "layer": self.layer, "layers": self.layers,
            "fields": self.source_fields, "mapping": self.mapping,
            "encoding": None if self.encoding is None else {"name": self.encoding.name, "how": self.encoding.how,
                                                              "evidence": self.encoding.evidence},
            "samples": self.samples,
            "crs": None if self.crs is None else {"crs": self.crs.label, "how": self.crs.how, "notes": self.crs.notes},
            "notes": self.notes, "problems": self.problems, "counts": self.counts,
            "rejected": [{"feature": r.number, "key": r.key, "reasons": r.reasons} for r in self.rejected],
            "repaired": [{"feature": n, "key": k, "note": t} for n, k, t in self.repaired],
            "updated": [{"feature": f.number, "key": f.key, "id": f.existing_id,
                         "changes": {k: [_plain(a), _plain(b)] for k, (a, b) in f.changes.items()}}
                        for f in self.updated],
        }


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, shapely.Geometry):
        return "geometry"
    return value


# --- planning ----------------------------------------------------------------------------------

@bulk.collector_paused()
def plan(session: Session, path: str | Path, options: Options, *, source_name: str | None = None) -> Plan:
    """The dry run: what importing ``path`` with ``options`` would do. Writes nothing.

    File-level failures (unreadable file, unknown CRS, a mapping naming a missing field) are in
    ``Plan.problems``; feature-level ones in ``Plan.rejected``.
    """
    o = options
    with sources.limited(read_limits()):
        layer = sources.read(path, layer=o.layer, encoding=o.encoding, cad_layers=o.cad_layers,
                             close_tolerance=o.close_tolerance_m)
    # Explicit choices win; the rest is matched by name, alias and usual abbreviations.
    mapping = {**{k: src for k, src in suggest_mapping(o.target, layer.fields).items()
                  if src not in o.mapping.values()}, **o.mapping}
    key_field = "name" if o.target == "parks" else "code"
    if o.target in SPATIAL and any(n.startswith("points from") for n in layer.notes) and mapping.get(key_field):
        # Corner points traced one per row: those sharing the record's key make its outline.
        with sources.limited(read_limits()):
            layer = sources.read(path, layer=o.layer, encoding=o.encoding, vertex_group=mapping[key_field])
    p = Plan(o, source_name or Path(path).name, layer.format, layer.name, layer.layers, layer.fields,
             layer.encoding, layer.text_samples(), None, mapping, notes=list(layer.notes))
    _check_mapping(p, layer)
    if o.target != "parks" and not o.park and "park" not in mapping:
        p.problems.append("未指定园区：请选择这些记录所属的园区，或把一个源字段对应到 所属园区 (park)")
    if p.problems:
        return p
    n = len(layer)
    reasons: Reasons = defaultdict(list)
    columns = _attributes(p, layer, reasons)
    _within_bounds(p, columns, reasons)
    geoms = _geometries(p, layer, reasons) if o.target in SPATIAL else None
    if p.problems:
        return p
    _resolve(session, p, columns, n, geoms, reasons)
    if p.problems:
        return p
    keys = _keys(p, columns, n)
    columns.pop("_building_code", None)
    existing = columns.pop("_existing_id", None) or [None] * n
    p.repaired = [(i + 1, keys[i], note) for i, note in sorted(layer.feature_notes.items())]
    # Sorted column by column: a Feature object per record is made only when one is looked at.
    ok = np.ones(n, dtype=bool)
    ok[[i for i in reasons if reasons[i]]] = False
    matched = ok & np.fromiter((x is not None for x in existing), dtype=bool, count=n)
    lacking: dict[int, list[str]] = defaultdict(list)
    for f in importable(o.target):
        if f.required and f.name != "park":
            column = columns.get("building_id" if f.name == "building" else f.name)
            absent = np.ones(n, dtype=bool) if column is None else \
                np.fromiter((x is None for x in column), dtype=bool, count=n)
            for i in np.flatnonzero(absent & ok & ~matched):
                lacking[int(i)].append(f"{f.alias} ({f.name})")
    for i in lacking:
        reasons[i].append("新记录需要 " + "、".join(lacking[i]) + "：请对应一个源字段，或填写常量")
        ok[i] = False
    p.rejected = [Rejection(int(i) + 1, keys[i], reasons[i]) for i in sorted(reasons) if reasons[i]]
    geom_name = SPATIAL.get(o.target)
    p.new = Features(columns, keys, np.flatnonzero(ok & ~matched), geom_name)
    p.updated = [replace(f, existing_id=existing[f.number - 1])
                 for f in Features(columns, keys, np.flatnonzero(matched), geom_name)]
    _diff(session, p)
    return p


def _check_mapping(p: Plan, layer: sources.Layer) -> None:
    names = {f.name: f for f in importable(p.options.target)}
    for target, source in p.mapping.items():
        if target not in names:
            p.problems.append(f"对应关系中的 {target!r} 不是可导入的字段；可选：" + "、".join(names))
        elif not source.startswith("=") and source not in layer.fields:
            p.problems.append(f"对应关系要从 {source!r} 读取 {names[target].alias} ({target})，但文件中没有这个字段；"
                              "文件中的字段：" + ("、".join(layer.fields) or "无属性字段"))
    missing = [f for f in names.values() if f.required and f.name not in p.mapping]
    if missing:
        p.notes.append("未对应：" + "、".join(f"{f.alias} ({f.name})" for f in missing)
                       + "——已有记录保留原值；缺少这些字段的新记录将被拒绝")


def _coerce(f: GisField, raw):
    """The stored form of one source value for field ``f``; raises ValueError saying what was expected."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if f.kind == "str":
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw).strip()
    if f.kind == "float":
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        text = str(raw).strip().replace(",", "").replace("，", "")
        text = re.sub(r"\s*(㎡|m²|m2|平方米|亩|万元|元|kVA|t|吨)$", "", text, flags=re.I)
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if f.kind == "int":
        number = _coerce(GisField(f.name, f.alias, "float"), raw)
        if not float(number).is_integer():
            raise ValueError(f"{raw!r} is not a whole number")
        return int(number)
    if f.kind == "date":
        return sources.parse_date(raw)
    if f.kind == "bool":
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not yes/no (1/0, 是/否)")
    if f.kind == "list":
        items = [x.strip() for x in re.split(r"[,，、;；\s]+", str(raw)) if x.strip()]
        return [v.check_industry_code(x, f.alias) for x in items]
    if f.kind == "enum":
        return f.enum.from_any(raw)
    raise AssertionError(f.kind)


@dataclass(frozen=True)
class _Positive:
    """The check of a field that must be a positive number; it can screen a whole column at once."""
    label: str
    unit: str

    def __call__(self, x):
        return v.check_positive(x, self.label, self.unit)

    @staticmethod
    def refused(numbers: np.ndarray) -> np.ndarray:
        """Indexes of the numbers (NaN: none given) the check refuses."""
        return np.flatnonzero(~((numbers > 0) & np.isfinite(numbers)) & ~np.isnan(numbers))


_DOMAIN_CHECKS: dict[str, Callable] = {
    "region": lambda x: v.check_region_code(x, "行政区划代码"),
    "gfa_m2": _Positive("建筑面积", "m²"),
    "cert_m2": _Positive("证载面积", "m²"),
    "area_m2": _Positive("可租面积", "m²"),
    "floors": lambda x: _at_least_one(x),
    "uscc": lambda x: v.check_uscc(x, "统一社会信用代码"),
}


def _at_least_one(x: int) -> int:
    if x < 1:
        raise ValueError(f"{x} is not at least 1")
    return x


def _attributes(p: Plan, layer: sources.Layer, reasons: Reasons) -> dict[str, list]:
    """The mapped fields' values in stored form, one list per field (None where a feature has
    none); bad ones become reasons.

    Column by column, each distinct source value converted once: a file of 100,000 buildings has
    few distinct types and statuses, and its numbers need no conversion at all.
    """
    n = len(layer)
    fields = {f.name: f for f in importable(p.options.target)}
    columns: dict[str, list] = {}
    for name, source in p.mapping.items():
        f = fields[name]
        constant = source.startswith("=")
        column = [source[1:]] * n if constant else layer.columns[source]
        label = f"{f.alias} ({'constant' if constant else source})"
        check = _DOMAIN_CHECKS.get(name)
        if f.kind == "float" and (check is None or isinstance(check, _Positive)) \
                and all(type(x) is float or x is None for x in column):
            # Already numbers (NaN was turned into None when read). A check screens them as one
            # array; only the refused values go through it one by one, for its message.
            refused = _Positive.refused(np.array(column, dtype=float)).tolist() if check is not None else []
            columns[name] = list(column) if refused else column
            for i in refused:
                try:
                    check(column[i])
                except v.ValidationError as exc:
                    reasons[i].append(f"{label}: {_message(exc)}")
                    columns[name][i] = None
            continue
        if f.kind == "str" and check is None and all(type(x) is str or x is None for x in column):
            columns[name] = [x.strip() or None if x is not None else None for x in column]
            continue
        try:
            keys, distinct = column, set(column)
        except TypeError:  # unhashable cells (lists from a JSON source): keyed by their text
            keys = [_hashable(x) for x in column]
            distinct = set(keys)
        converted: dict = {}
        failed: dict = {}
        for raw in distinct:
            try:
                value = _coerce(f, raw[1] if isinstance(raw, tuple) else raw)
                converted[raw] = check(value) if check is not None and value is not None else value
            except (ValueError, v.ValidationError) as exc:
                failed[raw] = f"{label}: {_message(exc)}"
        if failed:
            for i, x in enumerate(keys):
                problem = failed.get(x)
                if problem:
                    reasons[i].append(problem)
        columns[name] = [converted.get(x) for x in keys]
    return columns


def _hashable(x):
    """A dictionary key for any cell value (lists and the like by their text)."""
    return x if isinstance(x, (str, int, float, type(None), dt.date)) else ("repr", repr(x))


def _message(exc: Exception) -> str:
    if isinstance(exc, v.ValidationError):
        return "；".join(p.message + (f"（应为 {p.expected}）" if p.expected else "") for p in exc.problems)
    return str(exc)


def _within_bounds(p: Plan, columns: dict[str, list], reasons: Reasons) -> None:
    """Each value as the registry stores it (registry.core.bounds: finite, in range, within its
    length): an import writes new rows in bulk, past the session's own check, so it checks here."""
    fields = {f.name: f for f in importable(p.options.target)}
    by_attr = {fields[name].attr: column for name, column in columns.items() if name in fields and fields[name].attr}
    for i, problems in bounds.column_problems(MODELS[p.options.target], by_attr).items():
        reasons[i].extend(problems)


def read_limits() -> sources.ReadLimits:
    """The configured ceilings (registry.core.limits) as the file reader takes them."""
    return sources.ReadLimits(unpacked_bytes=limits.ARCHIVE_MB() * 1024 ** 2, features=limits.IMPORT_FEATURES(),
                              dxf_records=limits.DXF_ENTITIES(), rows=limits.SHEET_ROWS())


def _geometries(p: Plan, layer: sources.Layer, reasons: Reasons) -> np.ndarray:
    """Each feature's geometry as a valid MultiPolygon in EPSG:4490, or a reason why not."""
    o = p.options
    raw = layer.geometries
    for i, problem in layer.feature_problems.items():
        reasons[i].append(problem)
    most = limits.VERTICES()
    vertices = shapely.get_num_coordinates(raw)
    for i in np.flatnonzero(vertices > most):
        reasons[i].append(f"图形有 {int(vertices[i]):,} 个顶点，超过上限 {most:,}")
        raw = raw.copy() if raw is layer.geometries else raw
        raw[i] = None  # not read further: a million-vertex outline would cost seconds in each step
    present = ~shapely.is_missing(raw) & ~shapely.is_empty(raw)
    for i in np.flatnonzero(~present):
        if not reasons.get(i):
            reasons[i].append("没有图形")
    if not present.any():
        p.problems.append("没有任何要素带有图形")
        return np.full(len(raw), None, dtype=object)
    # The CRS is decided on the kind of coordinates most features have; the odd ones out (swapped,
    # foreign) are then reported one by one instead of condemning the file.
    bounds = shapely.bounds(raw[present])
    kinds = geo_crs.coordinate_kinds(bounds)
    values, counts = np.unique(kinds, return_counts=True)
    usual = kinds == values[np.argmax(counts)]
    envelope = (bounds[usual, 0].min(), bounds[usual, 1].min(), bounds[usual, 2].max(), bounds[usual, 3].max())
    res = geo_crs.resolve(layer.crs, envelope, o.crs)
    p.crs = res
    p.notes.extend(res.notes)
    if res.problems or res.crs is None:
        p.problems.extend(res.problems)
        return np.full(len(raw), None, dtype=object)
    # Outlines drawn as lines (CAD, some survey exports) are closed within the tolerance, in the
    # source's units.
    tolerance = o.close_tolerance_m / (_M_PER_DEGREE if res.crs.is_geographic else 1.0)
    unit = "°" if res.crs.is_geographic else "m"
    geoms = raw.copy()
    line_like = present & ~np.isin(shapely.get_type_id(np.where(present, raw, None)), [3, 6])
    for i in np.flatnonzero(line_like):
        g, problem, note = geo.close_polyline(raw[i], tolerance, unit=unit)
        if problem:
            reasons[i].append(problem)
            geoms[i] = None
        else:
            geoms[i] = g
            if note:
                layer.feature_notes[i] = note
    if shapely.has_z(geoms[present]).any():
        p.notes.append("已去掉 Z 坐标：基底轮廓和地块按二维存储")
    geoms = geo_crs.to_storage(geoms, res.crs, o.datum)
    ok = ~shapely.is_missing(geoms) & present
    valid = np.zeros(len(geoms), dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    b = np.full((len(geoms), 4), np.nan)
    b[ok] = shapely.bounds(geoms[ok])
    inside = ((b[:, 0] >= geo.CHINA_LON[0]) & (b[:, 2] <= geo.CHINA_LON[1])
              & (b[:, 1] >= geo.CHINA_LAT[0]) & (b[:, 3] <= geo.CHINA_LAT[1]))
    for i in np.flatnonzero(ok & ~(valid & inside)):
        g = geoms[i]
        if not inside[i]:
            reasons[i].extend(str(x) for x in geo.check_china_bounds(g))
            geoms[i] = None
            continue
        if o.repair:
            fixed, done = geo.repair(g)
            if fixed is None:
                reasons[i].append(f"图形无效：{geo.validity_reason(g)}；{done}")
                geoms[i] = None
            else:
                geoms[i] = fixed
                layer.feature_notes[i] = f"{geo.validity_reason(g)}: {done}"
        else:
            reasons[i].append(f"图形无效：{geo.validity_reason(g)}（可勾选“自动修复无效几何”）")
            geoms[i] = None
    empty = ~shapely.is_missing(geoms) & (shapely.area(geoms) == 0)
    for i in np.flatnonzero(empty):
        reasons[i].append("多边形面积为零")
        geoms[i] = None
    usable = ~shapely.is_missing(geoms)
    geoms[usable] = geo.to_multipolygons(geoms[usable])
    for i, first in geo.duplicates(geoms).items():
        reasons[i].append(f"与第 {first + 1} 个要素的图形相同（重复）")
    return geoms


def _resolve(session: Session, p: Plan, cols: dict[str, list], n: int, geoms, reasons: Reasons) -> None:
    """Parents and existing records, as columns: park, holder, plot or building ids; the id to
    update (``_existing_id``); the geometry in its column."""
    target = p.options.target
    if target == "parks":
        _resolve_parks(session, cols, n, reasons)
    else:
        involved = _resolve_park_ids(session, p, cols, n, reasons)
        if p.problems:
            return
        if target == "plots":
            _resolve_plots(session, cols, n, reasons, involved)
        elif target == "buildings":
            _resolve_buildings(session, cols, n, geoms, reasons, involved)
        else:
            _resolve_units(session, cols, n, reasons, involved)
    if geoms is not None:
        cols[SPATIAL[target]] = geoms


def _column(cols: dict[str, list], name: str, n: int) -> list:
    column = cols.get(name)
    return [None] * n if column is None else column


def _resolve_parks(session, cols, n, reasons) -> None:
    existing = _pairs(session, select(Park.name, Park.id))
    regions = set(session.scalars(select(Jurisdiction.code)))
    names = _column(cols, "name", n)
    keyed = _keyed([None] * n, names, "园区名称 (name)", "park", reasons)
    cols["_existing_id"] = [existing.get(name) if ok else None for name, ok in zip(names, keyed)]
    for i, region in enumerate(_column(cols, "region", n)):
        if keyed[i] and region and region not in regions:
            reasons[i].append(f"行政区划代码 {region} 未登记：请先添加该县区")


def _resolve_park_ids(session, p: Plan, cols, n, reasons) -> set[int]:
    """Each record's park id (``park_id``), from its park field or the chosen park; the parks involved."""
    parks_by_name = _pairs(session, select(Park.name, Park.id))
    fixed_park = None
    chosen = p.options.park
    if chosen:
        try:
            fixed_park = find_park(session, chosen).id
        except LookupError as exc:
            p.problems.append(str(exc))
            return set()
    names = cols.pop("park", None)
    if names is None:
        ids = [fixed_park] * n
    else:
        ids = [fixed_park if name is None else parks_by_name.get(name) for name in names]
    for i in (i for i, pid in enumerate(ids) if pid is None):
        name = None if names is None else names[i]
        reasons[i].append(f"所属园区 {name!r} 不在登记库中" if name else "所属园区为空")
    cols["park_id"] = ids
    return set(ids) - {None}


def _pairs(session: Session, stmt) -> dict:
    return {a: b for a, b in session.execute(stmt)}


WHAT = {"park": "园区", "plot": "地块", "building": "楼栋", "unit": "单元"}  # what a record's key names


def _repeats(keys, label: str, reasons: Reasons, among=None) -> None:
    """Notes each feature whose key (None: none) an earlier one has (among those ``among`` marks)."""
    seen: dict = {}
    for i, key in enumerate(keys):
        if key is None or (among is not None and not among[i]):
            continue
        first = seen.setdefault(key, i)
        if first != i:
            reasons[i].append(f"与第 {first + 1} 个要素的{label}相同（文件内重复）")


def _keyed(scopes, keys, label: str, what: str, reasons: Reasons) -> list[bool]:
    """Which features have a key (the rest get the reason); notes a key repeated within its scope."""
    has = [key is not None for key in keys]
    for i in (i for i, ok in enumerate(has) if not ok):
        reasons[i].append(f"{label}为空：要靠它认出是哪个{WHAT[what]}")
    _repeats(list(zip(scopes, keys)), label.split(" ")[0], reasons, among=has)
    return has


def _resolve_plots(session, cols, n, reasons, parks) -> None:
    by_code = {(pk, code): pid for pid, pk, code in
               session.execute(select(Plot.id, Plot.park_id, Plot.code).where(Plot.park_id.in_(parks)))}
    certs = [x for x in _column(cols, "cert_no", n) if x]
    by_cert = _pairs(session, select(Plot.certificate_no, Plot.id).where(Plot.certificate_no.in_(certs))) \
        if certs else {}
    uscc_column = cols.pop("uscc", None)
    usccs = {x for x in uscc_column or () if x}
    holders = _pairs(session, select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(usccs))) \
        if usccs else {}
    park_ids, codes, cert_nos = cols["park_id"], _column(cols, "code", n), _column(cols, "cert_no", n)
    keyed = _keyed(park_ids, codes, "宗地编号 (code)", "plot", reasons)
    _repeats([c or None for c in cert_nos], "不动产权证号", reasons, among=keyed)
    if uscc_column is not None:
        for i, uscc in enumerate(uscc_column):
            if keyed[i] and uscc is not None and uscc not in holders:
                reasons[i].append(f"权利人信用代码 {uscc}：登记库中没有这家企业")
        cols["holder_id"] = [holders.get(u) if u is not None and ok else None for u, ok in zip(uscc_column, keyed)]
    # The certificate number identifies a plot wherever it lies; else the park and the plot number.
    cols["_existing_id"] = [(by_cert.get(cert) or by_code.get((pk, code))) if ok else None
                            for pk, code, cert, ok in zip(park_ids, codes, cert_nos, keyed)]


def _resolve_buildings(session, cols, n, geoms, reasons, parks) -> None:
    by_code = {(pk, code): bid for bid, pk, code in
               session.execute(select(Building.id, Building.park_id, Building.code).where(Building.park_id.in_(parks)))}
    plots = session.execute(select(Plot.id, Plot.park_id, Plot.code, Plot.geom).where(Plot.park_id.in_(parks))).all()
    plot_by_code = {(pk, code): pid for pid, pk, code, _ in plots}
    park_ids, codes = cols["park_id"], _column(cols, "code", n)
    keyed = _keyed(park_ids, codes, "楼栋编号 (code)", "building", reasons)
    plot_codes = cols.pop("plot", None) or [None] * n
    plot_ids: list = [None] * n
    for i, code in enumerate(plot_codes):
        if code is not None and keyed[i]:
            plot_ids[i] = plot_by_code.get((park_ids[i], code))
            if plot_ids[i] is None:
                reasons[i].append(f"宗地编号 {code!r}：本园区没有这宗地")
    if plots and geoms is not None:
        # The plot a building stands on is where its footprint's inner point lies, in its park. A
        # footprint on no plot of the park leaves a matched building's plot as it was.
        located = np.flatnonzero(np.fromiter((code is None and ok for code, ok in zip(plot_codes, keyed)),
                                             dtype=bool, count=n) & ~shapely.is_missing(geoms))
        if len(located):
            tree = shapely.STRtree(np.array([to_shape(g) for *_, g in plots], dtype=object))
            inputs, hits = tree.query(shapely.point_on_surface(geoms[located]), predicate="within")
            for k, h in zip(inputs.tolist(), hits.tolist()):
                i = int(located[k])
                if plot_ids[i] is None and plots[h][1] == park_ids[i]:
                    plot_ids[i] = plots[h][0]
    if any(x is not None for x in plot_ids):
        cols["plot_id"] = plot_ids
    cols["_existing_id"] = [by_code.get((pk, code)) if ok else None for pk, code, ok in zip(park_ids, codes, keyed)]


def _resolve_units(session, cols, n, reasons, parks) -> None:
    buildings = {(pk, code): bid for bid, pk, code in
                 session.execute(select(Building.id, Building.park_id, Building.code).where(Building.park_id.in_(parks)))}
    units = {(bid, code): uid for uid, bid, code in
             session.execute(select(Unit.id, Unit.building_id, Unit.code).join(Building)
                             .where(Building.park_id.in_(parks)))}
    # A unit stands on a storey the building has: a storey row, or 1..its storey count.
    floors: dict[int, set[int]] = {}
    for bid, count in session.execute(select(Building.id, Building.floors_above).where(Building.park_id.in_(parks))):
        floors[bid] = set(range(1, (count or 1) + 1))
    for bid, level in session.execute(select(Floor.building_id, Floor.level).join(Building)
                                      .where(Building.park_id.in_(parks))):
        floors.setdefault(bid, set()).add(level)
    building_codes = cols.pop("building", None) or [None] * n
    park_ids = cols.pop("park_id")
    ids = [buildings.get((pk, code)) for pk, code in zip(park_ids, building_codes)]
    for i, (code, bid, level) in enumerate(zip(building_codes, ids, _column(cols, "floor", n))):
        if code is None:
            reasons[i].append("楼栋编号 (building) 为空")
        elif bid is None:
            reasons[i].append(f"楼栋编号 {code!r}：本园区没有这栋楼")
        if bid is not None and level is not None and level not in floors.get(bid, ()):
            have = ", ".join(map(str, sorted(floors.get(bid, ())))) or "none"
            reasons[i].append(f"楼层 {level}：楼栋 {code} 的楼层为 {have}；请先为楼栋添加这一层")
    cols["building_id"] = ids
    cols["_building_code"] = building_codes
    codes = _column(cols, "code", n)
    keyed = _keyed(ids, codes, "单元编号 (code)", "unit", reasons)
    cols["_existing_id"] = [units.get((bid, code)) if ok else None for bid, code, ok in zip(ids, codes, keyed)]


def _keys(p: Plan, cols: dict[str, list], n: int) -> list[str]:
    """How the user recognises each feature, e.g. "A-03", or "1# / 101" for a unit."""
    if p.options.target == "parks":
        return [str(x or "?") for x in _column(cols, "name", n)]
    codes = _column(cols, "code", n)
    if p.options.target == "units":
        return [f"{b or '?'} / {c or '?'}" for b, c in zip(cols["_building_code"], codes)]
    return [str(c or "?") for c in codes]


# Field name → model attribute for what an import writes (parents resolved to ids above).
def _attribute_map(target: str) -> dict[str, str]:
    out = {f.name: f.attr for f in importable(target) if f.attr and not f.attr.endswith(("_code", "_uscc"))}
    out.update({"park_id": "park_id", "plot_id": "plot_id", "holder_id": "holder_id", "building_id": "building_id"})
    if target in SPATIAL:
        out[SPATIAL[target]] = SPATIAL[target]
    return out


def _diff(session: Session, p: Plan) -> None:
    """Sorts matched features into updated (with each changed attribute) and unchanged."""
    model = MODELS[p.options.target]
    attrs = _attribute_map(p.options.target)
    matched = p.updated
    p.updated = []
    by_id = {}
    ids = [f.existing_id for f in matched]
    for start in range(0, len(ids), 10000):
        for obj in session.scalars(select(model).where(model.id.in_(ids[start:start + 10000]))):
            by_id[obj.id] = obj
    for f in matched:
        obj = by_id[f.existing_id]
        for name, value in f.values.items():
            attr = attrs.get(name)
            if attr is None:
                continue
            before = getattr(obj, attr)
            if not _same(before, value):
                f.changes[attr] = (_readable(before), value)
        (p.updated if f.changes else p.unchanged).append(f)


def _readable(value):
    if isinstance(value, WKBElement):
        return to_shape(value)
    return value


def _same(before, after) -> bool:
    before = _readable(before)
    if isinstance(after, shapely.Geometry):
        if before is None:
            return False
        # 5e-8° is about 5 mm: a re-export's rounding (GeoJSON keeps 8 decimals) is not a change;
        # a footprint moved by a centimetre is.
        return bool(shapely.equals_exact(shapely.normalize(before), shapely.normalize(after), tolerance=5e-8))
    if isinstance(after, float) and isinstance(before, (int, float)):
        return abs(before - after) <= 1e-9 * max(1.0, abs(after))
    if isinstance(after, list) and isinstance(before, list):
        return sorted(map(str, before)) == sorted(map(str, after))
    return before == after


# --- committing ------------------------------------------------------------------------------

@bulk.collector_paused()
def commit(session: Session, p: Plan, user: User | None = None, *,
           progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Writes plan ``p`` in the session's transaction (the caller commits); returns the counts.

    Refuses (ImportRefused, nothing written) a plan with file-level problems, or with rejected
    features unless ``skip_rejected`` was chosen. ``user`` None is the command line (trusted);
    a web user must be an administrator. ``progress`` is called with the number of records written.
    """
    if user is not None:
        require_admin(user)
    if p.problems:
        raise ImportRefused("未导入任何内容：" + "；".join(p.problems))
    if p.rejected and not p.options.skip_rejected:
        shown = "；".join(str(r) for r in p.rejected[:5])
        more = f"（另有 {len(p.rejected) - 5} 个）" if len(p.rejected) > 5 else ""
        raise ImportRefused(f"未导入任何内容：{len(p.rejected)} 个要素被拒绝——{shown}{more}。"
                            "请修正后重新上传，或选择跳过被拒绝的要素")
    try:
        written = _insert_new(session, p, progress)
        for f in p.updated:
            obj = session.get(MODELS[p.options.target], f.existing_id)
            for attr, (_before, after) in f.changes.items():
                setattr(obj, attr, after)
            if progress:
                progress(1)
        session.flush()
    except (DBAPIError, session.get_bind().dialect.dbapi.Error) as exc:
        if db.unavailable(exc):
            raise  # the database went away or is busy: retry later, not "refused"
        raise ImportRefused(f"数据库拒绝了这次导入，未写入任何内容：{getattr(exc, 'orig', None) or exc}") from exc
    return {"new": written, "updated": len(p.updated), "unchanged": len(p.unchanged),
            "skipped": len(p.rejected)}


def _insert_new(session: Session, p: Plan, progress) -> int:
    if not p.new:
        return 0
    target = p.options.target
    model = MODELS[target]
    table = model.__table__
    attrs = _attribute_map(target)
    ids = bulk.reserve_ids(session, table, len(p.new))
    geom_col = SPATIAL.get(target)
    n = len(p.new)
    # Column by column: 100,000 row dicts, filled key by key, cost more than the COPY that sends them.
    data: dict[str, list] = {"id": ids, "version": [1] * n}
    new = p.new if isinstance(p.new, Features) else Features.of(p.new)
    for name in sorted(new.names):
        attr = attrs.get(name)
        if attr is not None:
            data[attr] = new.column(name)
    if geom_col and target != "parks":
        areas = geo_area.geodesic_areas_m2(new.column(geom_col)).tolist()
        data["computed_area_m2" if target == "plots" else "footprint_area_m2"] = areas
    defaults = {"parks": {"jurisdiction_code": None, "hide_rents": False},
                "plots": {"land_use": _enum_default(Plot, "land_use"), "status": _enum_default(Plot, "status")},
                "buildings": {"floors_above": 1}, "units": {"leasable": True}}.get(target, {})
    for c, d in defaults.items():
        values = data.setdefault(c, [d] * n)
        if d is not None:
            data[c] = [d if x is None else x for x in values]
    order = list(table.c.keys())
    data = {c: data[c] for c in sorted(data, key=order.index)}
    with bulk.indexes_rebuilt(session, table, n):
        bulk.insert_columns(session, table, data, geom_col, progress)
    if target == "units":
        _add_storeys(session, set(zip(data["building_id"], data["floor_level"])))
    bulk.audit_inserted(session, table, "id", ids, list(data),
                        note=f"导入 {p.source}（图层 {p.layer}）；选项 {json.dumps(p.options.as_dict(), ensure_ascii=False)}")
    return n


def _add_storeys(session: Session, needed: set[tuple[int, int]]) -> None:
    """The storey rows (specs unknown yet) that imported units stand on and their building lacks:
    a building drawn from a GIS file has its storey count but no storey rows until units arrive."""
    ids = sorted({bid for bid, _ in needed})
    have = set()
    for start in range(0, len(ids), 10000):
        have.update((b, lvl) for b, lvl in session.execute(
            select(Floor.building_id, Floor.level).where(Floor.building_id.in_(ids[start:start + 10000]))))
    rows = [{"building_id": bid, "level": level} for bid, level in sorted(needed - have)]
    if rows:
        for row, fid in zip(rows, bulk.reserve_ids(session, Floor.__table__, len(rows))):
            row["id"] = fid
        bulk.insert_rows(session, Floor.__table__, ["id", "building_id", "level"], rows, None)
        bulk.audit_inserted(session, Floor.__table__, "id", [r["id"] for r in rows], ["id", "building_id", "level"],
                            note="导入单元时补建的楼层")


def _enum_default(model, attr):
    return model.__table__.c[attr].default.arg if model.__table__.c[attr].default is not None else None


# The reading options of an import, as a form (or any other caller of text) gives them.
OPTION_PARAMS = (
    Param("target", "choice", "what the file's features are: parks, plots, buildings or units", "导入为",
          choices=("parks", "plots", "buildings", "units")),
    Param("park", "text", "the park (name or id) of every record, unless a field gives it", "所属园区"),
    Param("layer", "text", "GeoPackage/KML layer, shapefile in a zip, or sheet (default: the first)", "图层 / 工作表"),
    Param("encoding", "text", "text encoding, overriding .cpg and detection (e.g. GBK, UTF-8)", "文字编码"),
    Param("crs", "text", "source CRS, overriding the file's, e.g. EPSG:4526", "源坐标系"),
    Param("datum", "choice", "the datum the coordinates were traced on", "坐标来源", choices=("wgs84", "gcj02", "bd09")),
    Param("cad_layers", "text", "DXF: only entities on these CAD layers (comma-separated)", "DXF 图层"),
    Param("close_tolerance_m", "number", "largest gap (m) closed between a polyline's ends", "闭合容差（米）",
          minimum=0),
    Param("repair", "boolean", "repair invalid geometries with make_valid", "自动修复无效几何"),
    Param("skip_rejected", "boolean", "commit the good features and skip the rejected ones", "跳过被拒绝的要素"),
)


def options_from_form(form, target_default: str | None = None) -> Options:
    """Options from an upload form's fields (``OPTION_PARAMS``, and map.<field> = source or
    const.<field> = value). Every bad field is named in one ValidationError."""
    mapping = {}
    for key in form:
        if key.startswith("map.") and (form.get(key) or "").strip():
            mapping[key[4:]] = form.get(key).strip()
        if key.startswith("const.") and (form.get(key) or "").strip():
            mapping[key[6:]] = "=" + form.get(key).strip()
    o = parse_all(OPTION_PARAMS, form)
    cad = [c.strip() for c in (o.get("cad_layers") or "").split(",") if c.strip()] or None
    return Options(target=o.get("target") or target_default or "", mapping=mapping, park=o.get("park"),
                   layer=o.get("layer"), encoding=o.get("encoding"), crs=o.get("crs"), datum=o.get("datum", "wgs84"),
                   cad_layers=cad, close_tolerance_m=o.get("close_tolerance_m", 0.5), repair=o.get("repair", False),
                   skip_rejected=o.get("skip_rejected", False))
