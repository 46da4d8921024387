"""Geometry checks: validity with its reason, China's bounds, swapped axes, storage form.

Problems are returned as plain strings so the registry can attach them to the field that failed.
"""
from __future__ import annotations

from dataclasses import dataclass

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
