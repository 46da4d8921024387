"""Geometry checks: validity with its reason, China's bounds, swapped axes, storage form.

Problems are returned as plain strings so the registry can attach them to the field that failed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely import wkb, wkt
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# A generous box around China's land and sea territory (mainland, Hainan, Taiwan, the South China
# Sea islands). Data outside it is almost always swapped axes, projected metres or another datum.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.0, 54.0)


@dataclass(frozen=True)
class GeometryProblem:
    reason: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.reason} ({self.hint})" if self.hint else self.reason


def parse(value) -> BaseGeometry:
    """A shapely geometry from a shapely object, WKT, WKB (bytes or hex) or a GeoJSON-like dict."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, dict):
        return shapely.geometry.shape(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return wkb.loads(bytes(value))
    if isinstance(value, str):
        s = value.strip()
        if s and all(c in "0123456789abcdefABCDEF" for c in s[:16]):
            return wkb.loads(s, hex=True)
        return wkt.loads(s)
    raise TypeError(f"cannot read a geometry from {type(value).__name__}")


def check_lonlat_polygon(geom: BaseGeometry) -> list[GeometryProblem]:
    """Every reason why ``geom`` cannot be stored as a lon/lat (EPSG:4490) polygon; empty if fine."""
    if geom is None or geom.is_empty:
        return [GeometryProblem("empty geometry", "a polygon with at least three distinct corners")]
    if not isinstance(geom, (Polygon, MultiPolygon)):
        return [GeometryProblem(f"{geom.geom_type} is not an area", "expected Polygon or MultiPolygon")]
    problems: list[GeometryProblem] = []
    problems.extend(check_china_bounds(geom))
    if not geom.is_valid:
        problems.append(GeometryProblem(f"invalid geometry: {explain_validity(geom)}",
                                        "rings must not cross themselves or each other"))
    elif geom.area == 0:
        problems.append(GeometryProblem("polygon has zero area", "a polygon with three distinct corners"))
    return problems


def check_china_bounds(geom: BaseGeometry) -> list[GeometryProblem]:
    """Reports coordinates outside China, with a 'swapped lon/lat?' or 'projected?' hint."""
    minx, miny, maxx, maxy = geom.bounds
    inside = (CHINA_LON[0] <= minx and maxx <= CHINA_LON[1]
              and CHINA_LAT[0] <= miny and maxy <= CHINA_LAT[1])
    if inside:
        return []
    swapped = (CHINA_LAT[0] <= minx and maxx <= CHINA_LAT[1]
               and CHINA_LON[0] <= miny and maxy <= CHINA_LON[1])
    if swapped:
        hint = f"swapped lon/lat? x={minx:.4f} looks like a latitude and y={miny:.4f} like a longitude"
    elif max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 360:
        hint = "projected coordinates (metres)? give the source CRS, e.g. a Gauss-Krüger EPSG code"
    else:
        hint = f"expected longitude {CHINA_LON[0]}–{CHINA_LON[1]} and latitude {CHINA_LAT[0]}–{CHINA_LAT[1]}"
    return [GeometryProblem(f"coordinates ({minx:.4f}, {miny:.4f})–({maxx:.4f}, {maxy:.4f}) lie outside China", hint)]


def to_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """The storage form: always a MultiPolygon, 2-D, so every backend accepts every plot."""
    geom = shapely.force_2d(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise TypeError(f"{geom.geom_type} is not an area")


def to_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """``to_multipolygon`` of an array of 2-D Polygons and MultiPolygons, in one vectorised call."""
    out = geoms.copy()
    single = np.flatnonzero(shapely.get_type_id(geoms) == 3)
    if len(single):
        out[single] = shapely.multipolygons(geoms[single], indices=np.arange(len(single)))
    return out


def validity_reason(geom: BaseGeometry) -> str:
    """GEOS's reason a geometry is invalid, in words with the place: 'self-intersection at 114.1 32.2'."""
    text = explain_validity(geom)
    m = re.match(r"(.*?)\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]", text)
    if not m:
        return text
    x, y = float(m.group(2)), float(m.group(3))
    digits = 6 if abs(x) <= 360 else 2  # degrees to ~0.1 m, metres to the centimetre
    return f"{m.group(1).strip().lower()} at {x:.{digits}f}, {y:.{digits}f}"


def close_polyline(geom: BaseGeometry | None, tolerance: float, *, unit: str = "m"):
    """An area from a CAD-style outline: ``(polygon or None, problem or None, note or None)``.

    Polygons pass unchanged. A line whose ends meet becomes a polygon; one whose ends are at most
    ``tolerance`` apart is closed and the gap is noted; a wider gap is a problem, as is anything
    with no area (points, text). Multi-part lines give multi-part polygons.
    """
    if geom is None or geom.is_empty:
        return None, "no geometry", None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom, None, None
    if kind in ("LineString", "LinearRing"):
        parts = [geom]
    elif kind == "MultiLineString":
        parts = list(geom.geoms)
    elif kind == "GeometryCollection":
        areas = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if areas:
            return shapely.union_all(areas), None, f"{len(geom.geoms) - len(areas)} non-area parts dropped"
        return None, "a collection without areas", None
    else:
        return None, f"a {kind} is not an area", None
    polygons, gaps = [], []
    for line in parts:
        coords = list(line.coords)
        if len(coords) < 3:
            return None, f"a line of {len(coords)} points cannot enclose an area", None
        gap = shapely.Point(coords[0]).distance(shapely.Point(coords[-1]))
        if gap > tolerance:
            return None, (f"an open polyline: its ends are {gap:.3g} {unit} apart, more than the "
                          f"{tolerance:g} {unit} closing tolerance"), None
        if gap > 0:
            gaps.append(gap)
            coords.append(coords[0])
        if len(coords) < 4:
            return None, "a closed line of fewer than three corners has no area", None
        polygons.append(Polygon(coords))
    geom_out = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    note = f"closed a gap of {max(gaps):.3g} {unit} between the polyline's ends" if gaps else None
    return geom_out, None, note


def repair(geom: BaseGeometry):
    """``make_valid`` reduced to its areas: ``(multipolygon or None, what was done)``."""
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    if not polys or sum(p.area for p in polys) == 0:
        return None, "make_valid left no area"
    dropped = len(shapely.get_parts(fixed)) - len(parts)
    return MultiPolygon(polys), (f"repaired with make_valid into {len(polys)} part(s)"
                                 + (f", {dropped} line or point part(s) dropped" if dropped else ""))


def duplicates(geoms) -> dict[int, int]:
    """Index → index of the first earlier geometry with exactly the same shape (vertices in any
    order or starting point), for every repeated geometry.

    Only geometries sharing their bounding box can be the same; the rest (nearly all, in a real
    file) are never normalised or compared.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = np.flatnonzero(np.array([g is not None for g in geoms], dtype=bool))
    if len(present) < 2:
        return {}
    # Repeated bounding boxes found by hashing (pandas), a quarter of the time of sorting them.
    shared = pd.DataFrame(shapely.bounds(geoms[present])).duplicated(keep=False).to_numpy()
    candidates = present[shared]
    if not len(candidates):
        return {}
    keys = shapely.to_wkb(shapely.normalize(geoms[candidates].astype(object)))
    first: dict[bytes, int] = {}
    out = {}
    for i, k in zip(candidates.tolist(), keys):
        if k in first:
            out[i] = first[k]
        else:
            first[k] = i
    return out


DISPLAY_VERTICES = 2000  # more than any drawn outline needs at a page's or a map card's scale


def for_display(geom: BaseGeometry, most: int = DISPLAY_VERTICES) -> BaseGeometry:
    """``geom`` with at most ``most`` vertices, for drawing: simplified (topology kept) with a
    tolerance that doubles from about 0.1 m (in degrees) until it fits. A geometry that already
    fits is returned as it is; stored geometries are never changed."""
    if geom is None or shapely.get_num_coordinates(geom) <= most:
        return geom
    tolerance = 1e-6
    out = geom
    while shapely.get_num_coordinates(out) > most and tolerance < 1:
        out = shapely.simplify(geom, tolerance, preserve_topology=True)
        tolerance *= 2
    return out
