"""Properties that must hold for any input, checked by hypothesis: the code validators, the
coordinate transforms (round trips), the geometry checks, and the Excel and rule-set parsers, which
must answer bad input with a named problem and never with a crash."""
from __future__ import annotations

import io
import math

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from geodata import chinacoords, crs, geometry
from registry.core.validation import USCC_ALPHABET, ValidationError, make_uscc, uscc_check_char, uscc_problem

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Mainland China, where the transforms apply (GCJ-02 is the identity outside).
lons = st.floats(min_value=74.0, max_value=134.0, allow_nan=False)
lats = st.floats(min_value=18.5, max_value=53.0, allow_nan=False)
digits = st.text("0123456789", min_size=6, max_size=6)
bodies = st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)


# --- 统一社会信用代码 -------------------------------------------------------------------------------

@given(region=digits, body=bodies)
def test_a_code_built_from_its_parts_is_valid(region, body):
    assert uscc_problem(make_uscc(region, body)) is None


@given(region=digits, body=bodies, position=st.integers(0, 17), data=st.data())
def test_changing_any_one_character_of_a_valid_code_is_caught(region, body, position, data):
    code = make_uscc(region, body)
    other = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[position]]))
    changed = code[:position] + other + code[position + 1:]
    assert uscc_problem(changed) is not None


@given(st.text(max_size=40))
def test_any_text_gets_a_verdict_and_never_an_exception(text):
    problem = uscc_problem(text)
    assert problem is None or isinstance(problem, str)


@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_the_check_character_completes_the_weighted_sum(first17):
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17 + uscc_check_char(first17), weights + [1]))
    assert total % 31 == 0


# --- coordinates ----------------------------------------------------------------------------------

@given(lon=lons, lat=lats)
def test_gcj02_round_trip_within_a_centimetre(lon, lat):
    assume(not chinacoords.outside_china(lon, lat))
    glon, glat = chinacoords.wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = chinacoords.gcj02_to_wgs84(glon, glat)
    assert abs(back_lon - lon) * 111_320 * math.cos(math.radians(lat)) < 0.01
    assert abs(back_lat - lat) * 110_540 < 0.01


@given(lon=lons, lat=lats)
def test_gcj02_shift_stays_within_its_known_size(lon, lat):
    """The published offset is at most about 700 m anywhere in China."""
    assume(not chinacoords.outside_china(lon, lat))
    glon, glat = chinacoords.wgs84_to_gcj02(lon, lat)
    assert math.hypot((glon - lon) * 111_320 * math.cos(math.radians(lat)), (glat - lat) * 110_540) < 1000


@given(lon=lons, lat=lats)
def test_bd09_round_trip(lon, lat):
    assume(not chinacoords.outside_china(lon, lat))
    b = chinacoords.convert(lon, lat, "wgs84", "bd09")
    back = chinacoords.convert(*b, "bd09", "wgs84")
    assert abs(back[0] - lon) < 1e-8 and abs(back[1] - lat) < 1e-8  # about a millimetre


@given(lon=lons, lat=lats, prefix=st.booleans())
def test_gauss_kruger_round_trip_in_the_points_own_zone(lon, lat, prefix):
    epsg = crs.gk3_epsg_for_lon(lon, with_prefix=prefix)
    x, y = crs.transformer(4490, epsg).transform(lon, lat)
    if prefix:  # the zone number leads the easting, and says which zone it is
        assert crs.implied_by_prefix(x)[0] == crs.gk3_zone(lon)
    back = crs.transformer(epsg, 4490).transform(x, y)
    assert abs(back[0] - lon) < 1e-8 and abs(back[1] - lat) < 1e-8


# --- geometry checks ------------------------------------------------------------------------------

@given(lon=st.floats(100, 120), lat=st.floats(20, 40), w=st.floats(1e-5, 0.01), h=st.floats(1e-5, 0.01))
def test_rectangles_are_valid_and_stay_valid_as_stored(lon, lat, w, h):
    rect = shapely.box(lon, lat, lon + w, lat + h)
    assert rect.is_valid and geometry.check_lonlat_polygon(rect) == []
    stored = geometry.to_multipolygon(rect)
    assert stored.geom_type == "MultiPolygon" and stored.equals(rect)


@given(lon=st.floats(100, 120), lat=st.floats(20, 40), s=st.floats(1e-4, 0.01))
def test_a_bowtie_is_named_with_its_crossing(lon, lat, s):
    bowtie = Polygon([(lon, lat), (lon + s, lat + s), (lon + s, lat), (lon, lat + s), (lon, lat)])
    reason = geometry.validity_reason(bowtie)
    assert reason.startswith("自相交，位于 ")
    x, y = (float(v) for v in reason.removeprefix("自相交，位于 ").split(", "))
    assert abs(x - (lon + s / 2)) < 1e-5 and abs(y - (lat + s / 2)) < 1e-5
    repaired, note = geometry.repair(bowtie)
    assert repaired.is_valid and len(repaired.geoms) == 2 and "make_valid" in note


@given(st.lists(st.tuples(st.floats(-200, 200, allow_nan=False), st.floats(-100, 100, allow_nan=False)),
                min_size=0, max_size=8))
def test_any_ring_gets_problems_or_none_never_an_exception(points):
    try:
        geom = Polygon(points)
    except (ValueError, shapely.errors.ShapelyError):
        return  # shapely itself refuses fewer than 4 coordinates
    problems = geometry.check_lonlat_polygon(geom)
    assert all(p.reason for p in problems)


# --- parsers --------------------------------------------------------------------------------------

printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)  # what a cell can hold
cells = st.one_of(st.none(), printable, st.integers(-10**9, 10**9),
                  st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=14), max_size=6))
def test_any_excel_sheet_gets_named_errors_never_an_exception(rows):
    """Whatever a user types into the template's cells, reading it gives rows or row errors."""
    from openpyxl import Workbook

    from registry.occupancy import workbook
    wb = Workbook()
    ws = wb.active
    ws.title = workbook.SHEET
    for row in rows:
        ws.append([c if not (isinstance(c, float) and not math.isfinite(c)) else str(c) for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    read, errors = workbook.read_rows(buf.getvalue())
    for e in errors:
        assert e.reason and e.row is not None


@given(st.binary(max_size=200))
def test_any_bytes_uploaded_as_excel_get_a_clear_error(data):
    from registry.occupancy import workbook
    rows, errors = workbook.read_rows(data)
    assert rows == [] and errors and "无法读取 Excel 文件" in errors[0].reason


toml_values = st.recursive(
    st.one_of(st.integers(-5, 200), st.floats(-1, 100, allow_nan=False), st.text(max_size=12), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "name", "source", "year", "scope", "pools", "classification",
                                        "tenant_land", "energy_factors", "bonus", "penalty", "version"]),
                       toml_values, max_size=9))
def test_any_rule_set_is_accepted_or_refused_with_named_fields(data):
    from registry.evaluation import rulesets
    try:
        rulesets.parse(data)
    except ValidationError as exc:
        assert exc.problems and all(p.field and p.message for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["huangyan-2022", "huaian-2024"]), st.data())
def test_a_published_preset_with_one_field_broken_is_refused_by_name(preset, data):
    """Each preset parses; break one value and the refusal names where."""
    from registry.evaluation import rulesets
    raw = rulesets.load(preset).raw
    rulesets.parse(raw)
    pool = data.draw(st.integers(0, len(raw["pools"]) - 1))
    item = data.draw(st.integers(0, len(raw["pools"][pool]["indicators"]) - 1))
    key = data.draw(st.sampled_from(["weight", "benchmark"]))
    broken = {**raw, "pools": [dict(p) for p in raw["pools"]]}
    broken["pools"][pool]["indicators"] = [dict(i) for i in raw["pools"][pool]["indicators"]]
    broken["pools"][pool]["indicators"][item][key] = data.draw(st.sampled_from(["很多", -1, None, [1]]))
    with pytest.raises(ValidationError) as refused:
        rulesets.parse(broken)
    assert any("pools" in p.field for p in refused.value.problems)

