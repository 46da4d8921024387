"""Areas in square metres and 亩, measured on the ellipsoid, never in degrees."""
from __future__ import annotations

from pyproj import Geod
from shapely.geometry.base import BaseGeometry
import numpy as np
import shapely

from . import crs

M2_PER_MU = 10000.0 / 15.0  # 1 亩 = 666.67 m²; 1 公顷 = 15 亩
M2_PER_WAN_M2 = 10000.0  # 万㎡, the unit of the bureaus' reports

# CGCS2000's ellipsoid differs from GRS80 only in the 12th digit of the flattening.
_GEOD = Geod(ellps="GRS80")


def m2_to_mu(m2: float) -> float:
    return m2 / M2_PER_MU


def mu_to_m2(mu: float) -> float:
    return mu * M2_PER_MU


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the CGCS2000 ellipsoid of a lon/lat (EPSG:4490 or 4326) polygon, in m²."""
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(area)


def zone_area_m2(geom: BaseGeometry) -> float:
    """Planar area in the 3-degree Gauss-Krüger zone of the geometry's centroid, in m².

    This is how the natural-resources bureau measures certificate areas; it agrees with the
    geodesic area to about 1e-4 inside a zone.
    """
    epsg = crs.gk3_epsg_for_lon(geom.centroid.x)
    t = crs.transformer(crs.CGCS2000, epsg)
    return shapely.transform(geom, t.transform, interleaved=False).area


# GRS80, as _GEOD: semi-major axis and first eccentricity squared.
_A = 6378137.0
_E2 = 0.0066943800229
SMALL_DEG = 0.002  # about 200 m: building footprints; plots and parks take the exact path


def geodesic_areas_m2(geoms) -> np.ndarray:
    """Geodesic areas (m²) of many lon/lat polygons or multipolygons at once; holes are subtracted.

    Geometries smaller than SMALL_DEG integrate the ellipsoid's area element M(φ)·N(φ)·cos φ at
    the latitude of their bounding box's centre over their lon/lat area, in one vectorised step.
    That treats edges as straight in lon/lat rather than geodesic, and takes the element at the
    box's centre rather than the centroid (found in a tenth of the time); the difference grows with
    size: measured on 2,000 random footprints of 50 m, median 2e-7 and at most 5e-6 of the area
    (0.05 m² of 10,000 m²), at most 2e-5 at 200 m. Larger geometries are measured ring by ring,
    as ``geodesic_area_m2``.
    This matters when generating or importing a hundred thousand buildings.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    if not len(geoms):
        return out
    b = shapely.bounds(geoms)
    small = ((b[:, 2] - b[:, 0]) < SMALL_DEG) & ((b[:, 3] - b[:, 1]) < SMALL_DEG)
    if small.any():
        g = geoms[small]
        phi = np.radians((b[small, 1] + b[small, 3]) / 2)
        w = 1.0 - _E2 * np.sin(phi) ** 2
        m = _A * (1.0 - _E2) / w ** 1.5
        n = _A / np.sqrt(w)
        out[small] = shapely.area(g) * (np.pi / 180.0) ** 2 * m * n * np.cos(phi)
    if (~small).any():
        out[~small] = _exact_areas_m2(geoms[~small])
    return out


def _exact_areas_m2(geoms: np.ndarray) -> np.ndarray:
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)  # each polygon: exterior, then holes
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    cuts = np.flatnonzero(np.diff(coord_of)) + 1
    ring_area = np.array([abs(_GEOD.polygon_area_perimeter(lon, lat)[0])
                          for lon, lat in zip(np.split(coords[:, 0], cuts), np.split(coords[:, 1], cuts))])
    exterior = np.r_[True, np.diff(ring_of) != 0] if len(ring_of) else np.array([], dtype=bool)
    part_area = np.bincount(ring_of, weights=np.where(exterior, ring_area, -ring_area), minlength=len(parts))
    return np.bincount(part_of, weights=part_area, minlength=len(geoms))
