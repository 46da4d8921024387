"""WGS84/CGCS2000 ↔ GCJ-02 ↔ BD-09 conversion, vectorised over numpy arrays.

GCJ-02 is the obfuscated datum of AMap/Tencent tiles and BD-09 that of Baidu. Stored data never
changes datum; these functions exist for display on such basemaps and for importing coordinates
traced on them. CGCS2000 and WGS84 coincide at the metre level, so they share one function.
The inverse of GCJ-02 has no closed form: it is solved by fixed-point iteration to sub-millimetre.
"""
from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def outside_china(lon, lat):
    """True where the point lies outside the box in which GCJ-02 applies an offset."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon, lat):
    x = lon - 105.0
    y = lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84/CGCS2000 → GCJ-02. Accepts scalars or arrays; returns the same shape."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    out = outside_china(lon, lat)
    return _shape(np.where(out, lon, lon + dlon)), _shape(np.where(out, lat, lat + dlat))


def gcj02_to_wgs84(lon, lat, *, tolerance_deg: float = 1e-10, max_iter: int = 30):
    """GCJ-02 → WGS84/CGCS2000 by iteration; the residual is below ``tolerance_deg`` (≈0.01 mm)."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = np.asarray(flon) - glon, np.asarray(flat) - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tolerance_deg) and np.all(np.abs(elat) < tolerance_deg):
            break
    return _shape(wlon), _shape(wlat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _shape(z * np.cos(theta) + 0.0065), _shape(z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon, lat, *, iterations: int = 3):
    """BD-09 → GCJ-02: the usual closed-form inverse (off by up to ~0.1 m), refined by a few
    fixed-point steps against the forward formula to well under a millimetre."""
    bx = np.asarray(lon, dtype=float)
    by = np.asarray(lat, dtype=float)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(iterations):
        fx, fy = gcj02_to_bd09(gx, gy)
        gx, gy = gx + (bx - np.asarray(fx)), gy + (by - np.asarray(fy))
    return _shape(gx), _shape(gy)


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}
DATUMS = ("wgs84", "gcj02", "bd09")


def convert(lon, lat, src: str, dst: str):
    """Coordinates (scalars or arrays) moved from datum ``src`` to ``dst`` (each one of DATUMS;
    'cgcs2000' is a synonym of 'wgs84')."""
    src, dst = _norm(src), _norm(dst)
    if src == dst:
        return lon, lat
    return _CONVERTERS[(src, dst)](lon, lat)


def convert_geometry(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Every vertex of ``geom`` (or of an array of geometries) moved from datum ``src`` to ``dst``."""
    if _norm(src) == _norm(dst):
        return geom

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = convert(coords[:, 0], coords[:, 1], src, dst)
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])

    return shapely.transform(geom, move)


def _norm(name: str) -> str:
    n = name.lower().replace("-", "").replace("_", "")
    n = {"cgcs2000": "wgs84", "epsg4490": "wgs84", "epsg4326": "wgs84"}.get(n, n)
    if n not in DATUMS:
        raise ValueError(f"unknown datum {name!r}; expected one of wgs84/cgcs2000, gcj02, bd09")
    return n


def _shape(a: np.ndarray):
    return a.item() if a.ndim == 0 else a
