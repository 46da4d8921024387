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
        return f"{self.reason}（{self.hint}）" if self.hint else self.reason


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
        return [GeometryProblem("图形为空", "至少有三个不同顶点的多边形")]
    if not isinstance(geom, (Polygon, MultiPolygon)):
        return [GeometryProblem(f"{geom.geom_type} 不是面", "应为 Polygon 或 MultiPolygon")]
    problems: list[GeometryProblem] = []
    problems.extend(check_china_bounds(geom))
    if not geom.is_valid:
        problems.append(GeometryProblem(f"图形无效：{validity_reason(geom)}", "边界不能自相交或相互交叉"))
    elif geom.area == 0:
        problems.append(GeometryProblem("多边形面积为零", "有三个不同顶点的多边形"))
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
        hint = f"经纬度写反了？x={minx:.4f} 像纬度，y={miny:.4f} 像经度"
    elif max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 360:
        hint = "是投影坐标（米）吗？请给出源坐标系，如高斯-克吕格投影的 EPSG 代码"
    else:
        hint = f"经度应在 {CHINA_LON[0]}–{CHINA_LON[1]}、纬度应在 {CHINA_LAT[0]}–{CHINA_LAT[1]} 之间"
    return [GeometryProblem(f"坐标 ({minx:.4f}, {miny:.4f})–({maxx:.4f}, {maxy:.4f}) 在中国境外", hint)]


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


# GEOS's reasons, in Chinese (explain_validity speaks English).
_GEOS = {"self-intersection": "自相交", "ring self-intersection": "环自相交", "too few points": "顶点太少",
         "hole lies outside shell": "内环在外环之外", "nested holes": "内环相互嵌套", "interior is disconnected": "内部不连通",
         "nested shells": "外环相互嵌套", "duplicate rings": "重复的环", "invalid coordinate": "坐标无效",
         "ring is not closed": "环未闭合"}


def validity_reason(geom: BaseGeometry) -> str:
    """GEOS's reason a geometry is invalid, in Chinese words with the place: '自相交，位于 114.100000, 32.200000'."""
    text = explain_validity(geom)
    m = re.match(r"(.*?)\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]", text)
    if not m:
        return text
    x, y = float(m.group(2)), float(m.group(3))
    digits = 6 if abs(x) <= 360 else 2  # degrees to ~0.1 m, metres to the centimetre
    kind = m.group(1).strip()
    return f"{_GEOS.get(kind.lower(), kind)}，位于 {x:.{digits}f}, {y:.{digits}f}"


def close_polyline(geom: BaseGeometry | None, tolerance: float, *, unit: str = "m"):
    """An area from a CAD-style outline: ``(polygon or None, problem or None, note or None)``.

    Polygons pass unchanged. A line whose ends meet becomes a polygon; one whose ends are at most
    ``tolerance`` apart is closed and the gap is noted; a wider gap is a problem, as is anything
    with no area (points, text). Multi-part lines give multi-part polygons.
    """
    if geom is None or geom.is_empty:
        return None, "没有图形", None
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
            return shapely.union_all(areas), None, f"去掉了 {len(geom.geoms) - len(areas)} 个不是面的部分"
        return None, "图形集合中没有面", None
    else:
        return None, f"{kind} 不是面", None
    polygons, gaps = [], []
    for line in parts:
        coords = list(line.coords)
        if len(coords) < 3:
            return None, f"只有 {len(coords)} 个点的线围不成面", None
        gap = shapely.Point(coords[0]).distance(shapely.Point(coords[-1]))
        if gap > tolerance:
            return None, (f"多段线未闭合：首尾相距 {gap:.3g} {unit}，超过闭合容差 {tolerance:g} {unit}"), None
        if gap > 0:
            gaps.append(gap)
            coords.append(coords[0])
        if len(coords) < 4:
            return None, "不足三个顶点的闭合线没有面积", None
        polygons.append(Polygon(coords))
    geom_out = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    note = f"已闭合多段线首尾 {max(gaps):.3g} {unit} 的缺口" if gaps else None
    return geom_out, None, note


def repair(geom: BaseGeometry):
    """``make_valid`` reduced to its areas: ``(multipolygon or None, what was done)``."""
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    if not polys or sum(p.area for p in polys) == 0:
        return None, "make_valid 修复后没有剩下面"
    dropped = len(shapely.get_parts(fixed)) - len(parts)
    return MultiPolygon(polys), (f"已用 make_valid 修复为 {len(polys)} 个部分"
                                 + (f"，去掉了 {dropped} 个线或点" if dropped else ""))


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
