"""Spatial math: Gauss-Krüger zones, areas in m² and 亩, GCJ-02/BD-09."""
import numpy as np
import pytest
from pyproj import CRS
from shapely.geometry import Polygon
import shapely

from geodata import area, chinacoords as cc, crs


@pytest.mark.parametrize("lon, zone, with_prefix, without", [
    (108.95, 36, 4524, 4545),  # Ankang: CM 108E
    (120.5, 40, 4528, 4549),  # Zhejiang: CM 120E
    (114.0, 38, 4526, 4547),
    (117.2, 39, 4527, 4548),
])
def test_three_degree_zone_from_longitude(lon, zone, with_prefix, without):
    assert crs.gk3_zone(lon) == zone
    assert crs.gk3_epsg(zone, with_prefix=True) == with_prefix
    assert crs.gk3_epsg(zone) == without
    name = CRS.from_epsg(without).name
    assert f"CM {3 * zone}E" in name and "CGCS2000" in name
    assert f"zone {zone}" in CRS.from_epsg(with_prefix).name


def test_six_degree_zones():
    assert crs.gk6_zone(108.95) == 19
    assert "zone 19" in CRS.from_epsg(crs.gk6_epsg(19, with_prefix=True)).name
    assert "CM 111E" in CRS.from_epsg(crs.gk6_epsg(19)).name


def test_zone_outside_china_is_refused():
    with pytest.raises(ValueError, match="outside"):
        crs.gk3_zone(10.0)


def test_mu_conversion_matches_published_listing():
    # "68507.52 m² (折102.76亩)" (domain.md §0)
    assert round(area.m2_to_mu(68507.52), 2) == 102.76
    assert area.mu_to_m2(15) == pytest.approx(10000)


def test_ten_mu_parcel_on_the_central_meridian():
    # A 100 m × 66.667 m parcel drawn in CGCS2000 / CM 120E, on the meridian where GK is true to scale.
    to_ll = crs.transformer(4549, 4490)
    x0, y0 = 500000 - 50, 3300000
    square = Polygon([(x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 200 / 3), (x0, y0 + 200 / 3)])
    parcel = shapely.transform(square, to_ll.transform, interleaved=False)
    assert area.m2_to_mu(area.geodesic_area_m2(parcel)) == pytest.approx(10.0, rel=2e-5)
    assert area.m2_to_mu(area.zone_area_m2(parcel)) == pytest.approx(10.0, rel=1e-6)


def test_gcj02_shift_is_hundreds_of_metres_in_china_and_none_outside():
    lon, lat = cc.wgs84_to_gcj02(116.397, 39.909)
    assert 0.001 < abs(lon - 116.397) < 0.01 and 0.0005 < abs(lat - 39.909) < 0.01
    assert cc.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def _metres(lon1, lat1, lon2, lat2):
    from pyproj import Geod
    return Geod(ellps="GRS80").inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_round_trip_within_one_metre_across_china():
    rng = np.random.default_rng(1)
    lon = rng.uniform(75, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    glon, glat = cc.wgs84_to_gcj02(lon, lat)
    wlon, wlat = cc.gcj02_to_wgs84(glon, glat)
    err = _metres(lon, lat, wlon, wlat)
    assert np.max(err) < 0.01  # the iterative inverse is far inside the 1 m requirement


def test_bd09_round_trip_within_one_metre():
    lon, lat = 108.955, 32.662
    back = cc.bd09_to_wgs84(*cc.wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, *back) < 1.0


def test_geometry_conversion_moves_every_vertex():
    poly = Polygon([(108.95, 32.66), (108.96, 32.66), (108.96, 32.67)])
    shifted = cc.convert_geometry(poly, "cgcs2000", "gcj02")
    back = cc.convert_geometry(shifted, "gcj02", "wgs84")
    assert shifted.exterior.coords[0] != poly.exterior.coords[0]
    for a, b in zip(poly.exterior.coords, back.exterior.coords):
        assert _metres(*a, *b) < 0.01
    with pytest.raises(ValueError, match="unknown datum"):
        cc.convert_geometry(poly, "wgs84", "mars")


def test_vectorised_areas_equal_one_by_one_areas_holes_and_parts_included():
    from shapely.geometry import MultiPolygon, box
    outer = box(108.95, 32.66, 108.96, 32.67)
    holed = outer.difference(box(108.952, 32.662, 108.954, 32.664))
    multi = MultiPolygon([box(120.0, 30.0, 120.001, 30.001), box(120.002, 30.0, 120.003, 30.002)])
    geoms = [outer, holed, multi]
    assert area.geodesic_areas_m2(geoms) == pytest.approx([area.geodesic_area_m2(g) for g in geoms], rel=1e-12)
    assert area.geodesic_area_m2(holed) < area.geodesic_area_m2(outer)


def test_vectorised_areas_agree_with_the_geodesic_ones():
    rng = np.random.default_rng(1)
    geoms = []
    for size in (0.0005, 0.0019, 0.03):  # a footprint, the fast path's limit, a plot (exact path)
        for _ in range(100):
            lon, lat = rng.uniform(75, 134), rng.uniform(4, 53)
            geoms.append(shapely.MultiPoint(rng.uniform(0, size, (8, 2)) + [lon, lat]).convex_hull)
    fast = area.geodesic_areas_m2(geoms)
    exact = np.array([area.geodesic_area_m2(g) for g in geoms])
    rel = np.abs(fast - exact) / exact
    assert rel[:100].max() < 5e-6 and rel[100:200].max() < 3e-5 and rel[200:].max() < 1e-9
