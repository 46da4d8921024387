"""Coordinate reference systems used in Chinese land data, and transforms between them.

Storage is EPSG:4490 (CGCS2000 geographic). Cadastral data arrives in CGCS2000 Gauss-Krüger zones,
with or without the zone number prefixed to the easting; the EPSG numbering of those zones is
arithmetic, so it is computed here rather than tabulated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from . import chinacoords

CGCS2000 = 4490  # 2000国家大地坐标系, geographic; the storage CRS
WGS84 = 4326

# 3-degree zones: central meridian = 3 × zone, zones 25..45 cover 75°E..135°E.
GK3_ZONES = range(25, 46)
# 6-degree zones: central meridian = 6 × zone − 3, zones 13..23 cover 75°E..135°E.
GK6_ZONES = range(13, 24)


def gk3_zone(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger zone whose central meridian is nearest to ``lon``."""
    zone = int(round(lon / 3.0))
    if zone not in GK3_ZONES:
        raise ValueError(f"longitude {lon} lies outside the CGCS2000 3-degree zones (75°E–135°E)")
    return zone


def gk6_zone(lon: float) -> int:
    """The CGCS2000 6-degree Gauss-Krüger zone that contains ``lon``."""
    zone = int(lon // 6.0) + 1
    if zone not in GK6_ZONES:
        raise ValueError(f"longitude {lon} lies outside the CGCS2000 6-degree zones (72°E–138°E)")
    return zone


def gk3_epsg(zone: int, *, with_prefix: bool = False) -> int:
    """EPSG code of a CGCS2000 3-degree zone.

    With the prefix (false easting zone×10⁶+500000) the codes run 4513–4533; without it ("CM xxE",
    false easting 500000) they run 4534–4554.
    """
    if zone not in GK3_ZONES:
        raise ValueError(f"3-degree zone {zone} is not one of 25–45")
    return 4488 + zone if with_prefix else 4534 + (zone - 25)


def gk6_epsg(zone: int, *, with_prefix: bool = False) -> int:
    """EPSG code of a CGCS2000 6-degree zone: 4491–4501 with the prefix, 4502–4512 without."""
    if zone not in GK6_ZONES:
        raise ValueError(f"6-degree zone {zone} is not one of 13–23")
    return 4478 + zone if with_prefix else 4489 + zone


def gk3_epsg_for_lon(lon: float, *, with_prefix: bool = False) -> int:
    """The 3-degree zone CRS in which an area at ``lon`` is measured with least distortion."""
    return gk3_epsg(gk3_zone(lon), with_prefix=with_prefix)


@lru_cache(maxsize=128)
def transformer(src: int | str, dst: int | str) -> Transformer:
    """A cached, always lon/lat (x, y) ordered transformer between two CRSs."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


# --- Deciding the CRS of incoming coordinates -------------------------------------------------

@dataclass
class Resolution:
    """The CRS incoming coordinates are in, how that was decided, and what stands in the way."""

    crs: CRS | None
    how: str  # option | file | coordinates | unknown
    problems: list[str] = field(default_factory=list)  # blocking: nothing is imported
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.crs is None:
            return "unknown"
        code = self.crs.to_epsg(min_confidence=70)
        return f"EPSG:{code} {self.crs.name}" if code else self.crs.name


@dataclass(frozen=True)
class GaussKruger:
    central_meridian: float
    false_easting: float

    @property
    def zone_prefix(self) -> int | None:
        """The zone number carried in the easting's millions, if the CRS puts it there."""
        return int(self.false_easting // 1_000_000) if self.false_easting >= 1_000_000 else None


def gauss_kruger(c: CRS) -> GaussKruger | None:
    """The central meridian and false easting of a transverse Mercator CRS (None for others)."""
    if not c.is_projected or c.coordinate_operation is None:
        return None
    if "transverse mercator" not in c.coordinate_operation.method_name.lower():
        return None
    params = {p.name.lower(): p.value for p in c.coordinate_operation.params}
    return GaussKruger(params.get("longitude of natural origin", 0.0), params.get("false easting", 0.0))


def implied_by_prefix(easting: float) -> tuple[int, int] | None:
    """(zone, EPSG) of CGCS2000 Gauss-Krüger coordinates whose easting carries the zone number."""
    zone = int(easting // 1_000_000)
    if zone in GK3_ZONES:
        return zone, gk3_epsg(zone, with_prefix=True)
    if zone in GK6_ZONES:
        return zone, gk6_epsg(zone, with_prefix=True)
    return None


def _describe(epsg: int) -> str:
    return f"EPSG:{epsg} ({CRS.from_epsg(epsg).name})"


def coordinate_kind(bounds) -> str:
    """What numbers spanning ``bounds`` look like: lonlat, prefixed (Gauss-Krüger metres with the
    zone number), metres (without it), or other."""
    minx, miny, maxx, maxy = bounds
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return "lonlat"
    if minx >= 1_000_000 and implied_by_prefix(minx) and implied_by_prefix(minx) == implied_by_prefix(maxx):
        return "prefixed"
    if 0 < minx <= maxx < 1_000_000 and 0 < miny <= maxy < 10_000_000:
        return "metres"
    return "other"


def coordinate_kinds(bounds: np.ndarray) -> np.ndarray:
    """``coordinate_kind`` of many (n × 4) bounds at once."""
    minx, miny, maxx, maxy = bounds.T
    lonlat = (minx >= -180) & (maxx <= 180) & (miny >= -90) & (maxy <= 90)
    zone_min, zone_max = minx // 1_000_000, maxx // 1_000_000
    known = np.isin(zone_min, list(GK3_ZONES) + list(GK6_ZONES))
    prefixed = (minx >= 1_000_000) & known & (zone_min == zone_max)
    metres = (minx > 0) & (maxx < 1_000_000) & (miny > 0) & (maxy < 10_000_000)
    return np.select([lonlat, prefixed, metres], ["lonlat", "prefixed", "metres"], "other")


def _unprefixed_hint() -> str:
    return ("请给出源坐标系，如中央经线 114°E 的 CGCS2000 3 度带高斯-克吕格投影 EPSG:4547"
            "（EPSG:4534–4554 对应中央经线 75°E 至 135°E，每 3° 一个）")


def resolve(file_crs: CRS | None, bounds, option: str | int | None = None) -> Resolution:
    """The CRS of coordinates spanning ``bounds`` (minx, miny, maxx, maxy), from an explicit option,
    else the file, else the coordinates themselves; with every inconsistency between the claimed
    CRS and the numbers named, and the zone the numbers imply."""
    kind = coordinate_kind(bounds)
    if option not in (None, ""):
        try:
            claimed, how = CRS.from_user_input(int(option) if str(option).isdigit() else option), "option"
        except Exception:  # noqa: BLE001 - pyproj's CRSError and friends
            return Resolution(None, "option", [f"{option!r} 不是坐标参考系；应为 EPSG:4490、EPSG:4526 之类"])
    elif file_crs is not None:
        claimed, how = file_crs, "file"
    else:
        return _from_coordinates(kind, bounds)
    res = Resolution(claimed, how)
    source = "所选坐标系" if how == "option" else "文件声明的坐标系"
    minx = bounds[0]
    if claimed.is_geographic:
        if kind != "lonlat":
            implied = implied_by_prefix(minx) if kind == "prefixed" else None
            res.problems.append(f"{source}是 {res.label}（以度为单位），但坐标 ({minx:.0f}, {bounds[1]:.0f}) 是米"
                                + (f"；横坐标的带号前缀 {implied[0]} 表明是 {_describe(implied[1])}"
                                   if implied else "；" + _unprefixed_hint()))
        elif claimed.datum is not None and not any(k in claimed.datum.name for k in ("China 2000", "CGCS2000", "WGS")):
            res.notes.append(f"基准 {claimed.datum.name} 未用本地参数转换到 CGCS2000：误差可达数十米")
        return res
    if kind == "lonlat":
        res.problems.append(f"{source}是 {res.label}（以米为单位），但坐标 ({bounds[0]:.5f}, {bounds[1]:.5f}) "
                            "是经纬度；请选择 EPSG:4490")
        return res
    gk = gauss_kruger(claimed)
    if gk is not None:
        want = gk.zone_prefix
        if kind == "prefixed":
            zone, epsg = implied_by_prefix(minx)
            if want is None:
                res.problems.append(f"{source}是 {res.label}（东伪偏移 {gk.false_easting:.0f}，不带带号），但横坐标"
                                    f"（{minx:.0f}…）带有带号前缀 {zone}：坐标表明是 {_describe(epsg)}")
            elif want != zone:
                res.problems.append(f"{source}是 {res.label}（第 {want} 带），但横坐标（{minx:.0f}…）带的是第 {zone} 带："
                                    f"坐标表明是 {_describe(epsg)}")
        elif kind == "metres" and want is not None:
            without = _without_prefix(gk.central_meridian)
            res.problems.append(f"{source}是 {res.label}（横坐标带带号 {want}），但横坐标（{minx:.0f}…）不带带号"
                                + (f"：中央经线 {gk.central_meridian:g}°E、不带带号的是 {_describe(without)}"
                                   if without else ""))
        if claimed.datum is not None and "2000" not in claimed.datum.name:
            res.notes.append(f"基准 {claimed.datum.name} 未用本地参数转换到 CGCS2000：误差可达数十米")
    return res


def _without_prefix(central_meridian: float) -> int | None:
    zone3 = central_meridian / 3
    if zone3 == int(zone3) and int(zone3) in GK3_ZONES:
        return gk3_epsg(int(zone3))
    zone6 = (central_meridian + 3) / 6
    if zone6 == int(zone6) and int(zone6) in GK6_ZONES:
        return gk6_epsg(int(zone6))
    return None


def _from_coordinates(kind: str, bounds) -> Resolution:
    if kind == "lonlat":
        return Resolution(CRS.from_epsg(CGCS2000), "coordinates",
                          notes=["文件未声明坐标系；坐标是经纬度，按 CGCS2000（EPSG:4490）读取；"
                                 "若是在网络地图上描的点，请选择 GCJ-02/BD-09"])
    if kind == "prefixed":
        zone, epsg = implied_by_prefix(bounds[0])
        return Resolution(CRS.from_epsg(epsg), "coordinates",
                          notes=[f"文件未声明坐标系；横坐标带有第 {zone} 带带号：按 {_describe(epsg)} 读取"])
    if kind == "metres":
        return Resolution(None, "unknown", [f"文件未声明坐标系，横坐标（{bounds[0]:.0f}…）也不带带号：" + _unprefixed_hint()])
    return Resolution(None, "unknown", [f"文件未声明坐标系，坐标 ({bounds[0]:.6g}, {bounds[1]:.6g}) 既不是经纬度，"
                                        "也不是高斯-克吕格投影的米；请选择坐标系"])


def to_storage(geoms, source: CRS, datum: str = "wgs84"):
    """Geometries (array) from ``source`` into the storage CRS, EPSG:4490, 2-D. ``datum`` gcj02 or
    bd09 says the lon/lat were traced on such a web map and moves them back to CGCS2000."""
    geoms = np.asarray(geoms, dtype=object)
    source = CRS.from_user_input(source)
    # WGS84 and CGCS2000 lon/lat agree within centimetres: no transformation (and none that would
    # turn a swapped latitude of 114° into infinity before it can be reported as swapped).
    if not (source.is_geographic and source.to_epsg() in (WGS84, CGCS2000)):
        t = transformer(source.to_wkt() if isinstance(source, CRS) else source, CGCS2000)
        out = shapely.transform(geoms, lambda x, y: t.transform(x, y), interleaved=False)
    else:
        out = shapely.force_2d(geoms)
    if datum not in (None, "", "wgs84", "cgcs2000"):
        out = chinacoords.convert_geometry(out, datum, "wgs84")
    return out
