"""Coordinate reference systems used in Chinese land data, and transforms between them.

Storage is EPSG:4490 (CGCS2000 geographic). Cadastral data arrives in CGCS2000 Gauss-Krüger zones,
with or without the zone number prefixed to the easting; the EPSG numbering of those zones is
arithmetic, so it is computed here rather than tabulated.
"""
from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

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
