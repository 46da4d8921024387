"""Importing the files counties actually have: GBK shapefiles without .cpg, Gauss-Krüger zones with
and without the zone prefix, corners traced on AMap (GCJ-02), CAD drawings, broken geometries.

Every file here is written by pyogrio/GDAL (or, for the DXF code page, by GDAL and then saved in
GBK as AutoCAD on Chinese Windows does), never typed in by hand.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import zipfile

import geopandas as gpd
import pytest
import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from sqlalchemy import func, select

from geodata import chinacoords
from registry.storage import bulk
from registry.gis import importer, profiles
from registry.core.models import AuditRecord, Building, Unit
from registry.core.authz import EVERYTHING
from registry.core.validation import ValidationError

from . import factories as f

LON, LAT = 114.30, 30.60  # Wuhan: 3-degree zone 38, central meridian 114°E
NAMES = ["一号厂房", "二号厂房", "研发楼", "仓库"]


def footprints(n=4, lon=LON, lat=LAT):
    """Lon/lat squares of about 50 m, 100 m apart."""
    return [shapely.box(lon + i * 0.001, lat, lon + i * 0.001 + 0.0005, lat + 0.0005) for i in range(n)]


def frame(geoms, crs="EPSG:4490", **extra):
    data = {"JZBH": [f"A-{i + 1:02d}" for i in range(len(geoms))], "MC": NAMES[:len(geoms)],
            "JZMJ": [1200.0 + i for i in range(len(geoms))], "CS": [2] * len(geoms),
            "LX": ["标准厂房"] * len(geoms), "ZT": ["已建成"] * len(geoms)}
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def projected(geoms, epsg):
    t = Transformer.from_crs(4490, epsg, always_xy=True)
    return [shapely.transform(g, lambda x, y: t.transform(x, y), interleaved=False) for g in geoms]


def zipped(shp):
    out = shp.with_suffix(".zip")
    with zipfile.ZipFile(out, "w") as zf:
        for part in shp.parent.glob(shp.stem + ".*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    return out


MAPPING = {"code": "JZBH", "name": "MC", "gfa_m2": "JZMJ", "floors": "CS", "type": "LX", "status": "ZT"}


def options(park, **kw):
    return importer.Options("buildings", mapping=kw.pop("mapping", MAPPING), park=park.name, **kw)


@pytest.fixture
def park(session):
    p = f.park(session, name="武汉测试园")
    session.commit()
    return p


# --- encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize("with_cpg", [True, False])
def test_a_gbk_shapefile_reads_right_with_or_without_cpg(session, park, tmp_path, with_cpg):
    shp = tmp_path / "buildings.shp"
    frame(footprints()).to_file(shp, encoding="GBK")
    if not with_cpg:
        shp.with_suffix(".cpg").unlink()
    plan = importer.plan(session, zipped(shp), options(park))
    assert plan.encoding.name == "GBK"
    assert plan.encoding.how == ("cpg" if with_cpg else "detected")
    assert plan.samples["MC"][:3] == NAMES[:3]  # the sample shown before committing
    assert [feat.values["name"] for feat in plan.new] == NAMES
    assert plan.counts == {"new": 4, "updated": 0, "unchanged": 0, "rejected": 0}


def test_a_cpg_that_contradicts_the_bytes_is_caught(session, park, tmp_path):
    shp = tmp_path / "b.shp"
    frame(footprints()).to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").write_text("UTF-8")  # a wrong .cpg, as some converters write
    plan = importer.plan(session, shp, options(park))
    assert plan.encoding.name == "GBK" and "b.cpg says UTF-8 but" in plan.encoding.evidence
    assert plan.samples["MC"][0] == NAMES[0]


def test_the_encoding_can_be_chosen(session, park, tmp_path):
    shp = tmp_path / "b.shp"
    frame(footprints()).to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    plan = importer.plan(session, shp, options(park, encoding="GBK"))
    assert plan.encoding.how == "chosen" and plan.samples["MC"][0] == NAMES[0]
    with pytest.raises(importer.sources.SourceError, match="无法读取"):
        importer.plan(session, shp, options(park, encoding="UTF-8"))


# --- coordinate systems ------------------------------------------------------------------------

def test_zone_38_with_prefix_and_cm_114e_without_land_on_the_same_spot(session, park, tmp_path):
    geoms = footprints()
    frame(projected(geoms, 4526), "EPSG:4526").to_file(tmp_path / "zone38.gpkg")  # 38xxxxxx eastings
    frame(projected(geoms, 4547), "EPSG:4547").to_file(tmp_path / "cm114.gpkg")  # 5xxxxx eastings
    a = importer.plan(session, tmp_path / "zone38.gpkg", options(park))
    b = importer.plan(session, tmp_path / "cm114.gpkg", options(park))
    assert "4526" in a.crs.label and "4547" in b.crs.label
    to_m = Transformer.from_crs(4490, 4547, always_xy=True)
    for fa, fb, original in zip(a.new, b.new, geoms):
        ga, gb = (shapely.transform(g, lambda x, y: to_m.transform(x, y), interleaved=False) for g in (fa.geom, fb.geom))
        assert shapely.hausdorff_distance(ga, gb) < 0.5
        back = shapely.transform(original, lambda x, y: to_m.transform(x, y), interleaved=False)
        assert shapely.hausdorff_distance(ga, back) < 0.01  # and where they were drawn


def test_a_prj_that_contradicts_the_eastings_is_reported_with_the_zone_they_imply(session, park, tmp_path):
    # Eastings carrying the zone-38 prefix, labelled as the prefix-less CM 114E system.
    frame(projected(footprints(), 4526), "EPSG:4547").to_file(tmp_path / "wrong.shp")
    plan = importer.plan(session, tmp_path / "wrong.shp", options(park))
    assert plan.problems and "带号前缀 38" in plan.problems[0] and "EPSG:4526" in plan.problems[0]
    assert not plan.new and not plan.can_commit
    fixed = importer.plan(session, tmp_path / "wrong.shp", options(park, crs="EPSG:4526"))
    assert fixed.counts["new"] == 4


def test_projected_coordinates_without_any_crs_ask_for_one(session, park, tmp_path):
    shp = tmp_path / "noprj.shp"
    frame(projected(footprints(), 4547), "EPSG:4547").to_file(shp)
    shp.with_suffix(".prj").unlink()
    plan = importer.plan(session, shp, options(park))
    assert "不带带号" in plan.problems[0] and "EPSG:4547" in plan.problems[0]


def test_corners_traced_on_amap_are_moved_back_from_gcj02(session, park, tmp_path):
    true = footprints(2)
    rows = []
    for i, g in enumerate(true):
        for x, y in list(g.exterior.coords)[:-1]:
            gx, gy = chinacoords.wgs84_to_gcj02(x, y)
            rows.append({"楼号": f"G-{i}", "名称": NAMES[i], "建筑面积": 800, "lng": gx, "lat": gy})
    csv = tmp_path / "amap.csv"
    gpd.pd.DataFrame(rows).to_csv(csv, index=False, encoding="gbk")  # as Excel saves it on Chinese Windows
    opts = importer.Options("buildings", park=park.name, datum="gcj02",
                            mapping={"type": "=standard_factory", "status": "=completed"})
    plan = importer.plan(session, csv, opts)
    assert plan.encoding.name == "GBK"
    assert [feat.key for feat in plan.new] == ["G-0", "G-1"]
    to_m = Transformer.from_crs(4490, 4547, always_xy=True)
    for feat, g in zip(plan.new, true):
        moved = [shapely.transform(x, lambda a, b: to_m.transform(a, b), interleaved=False) for x in (feat.geom, g)]
        assert shapely.hausdorff_distance(*moved) < 0.05
    untouched = importer.plan(session, csv, importer.Options("buildings", park=park.name, mapping=opts.mapping))
    shifted = [shapely.transform(x, lambda a, b: to_m.transform(a, b), interleaved=False)
               for x in (untouched.new[0].geom, true[0])]
    assert shapely.hausdorff_distance(*shifted) > 100  # without the option they would sit ~500 m off


def test_swapped_and_foreign_coordinates_are_reported_not_imported(session, park, tmp_path):
    geoms = [shapely.box(30.60, 114.30, 30.6005, 114.3005), shapely.box(2.35, 48.85, 2.3505, 48.8505)]
    geoms += footprints(1)
    frame(geoms).to_file(tmp_path / "odd.geojson")
    plan = importer.plan(session, tmp_path / "odd.geojson", options(park))
    reasons = {r.key: " ".join(r.reasons) for r in plan.rejected}
    assert "经纬度写反了" in reasons["A-01"]
    assert "在中国境外" in reasons["A-02"]
    assert [feat.key for feat in plan.new] == ["A-03"]


# --- CAD -------------------------------------------------------------------------------------------

def cad_drawing(tmp_path):
    """A site plan as the design institute sends it: building outlines on layer 厂房 (one closed,
    one whose end misses its start by 0.2 m, one left open), their numbers as MTEXT labels, and a
    road on layer 道路; zone-38 coordinates with the prefix; saved in GBK (code page ANSI_936)."""
    base = projected(footprints(3), 4526)
    ring = list(base[1].exterior.coords)[:-1]
    almost = shapely.LineString(ring + [(ring[0][0] + 0.2, ring[0][1])])
    open_ = shapely.LineString(list(base[2].exterior.coords)[:3])
    road = shapely.LineString([(base[0].bounds[0], base[0].bounds[1] - 20), (base[2].bounds[2], base[0].bounds[1] - 20)])
    label = 'LABEL(f:"SimSun",t:"{}")'
    cad = gpd.GeoDataFrame({"Layer": ["厂房"] * 5 + ["道路"],
                            "OGR_STYLE": [None, None, None, label.format("1#"), label.format("2#"), None]},
                           geometry=[base[0].exterior, almost, open_, base[0].centroid, base[1].centroid, road])
    cad.set_crs("EPSG:4526").to_file(tmp_path / "plan.geojson")
    utf8 = tmp_path / "utf8.dxf"
    subprocess.run(["ogr2ogr", "-f", "DXF", str(utf8), str(tmp_path / "plan.geojson")], check=True)  # GDAL writes labels
    dxf = tmp_path / "site.dxf"
    dxf.write_bytes(utf8.read_text("utf-8").replace("ANSI_1252", "ANSI_936").encode("gbk"))
    return dxf


def test_a_gbk_dxf_gives_polygons_from_closed_polylines_and_labels(session, park, tmp_path):
    dxf = cad_drawing(tmp_path)
    opts = importer.Options("buildings", park=park.name, cad_layers=["厂房"],
                            mapping={"code": "Text", "gfa_m2": "=1000", "type": "=standard_factory",
                                     "status": "=completed"})
    plan = importer.plan(session, dxf, opts)
    assert plan.encoding.name == "GBK" and plan.layers == ["厂房", "道路"]
    assert "4526" in plan.crs.label  # from the eastings' zone prefix: DXF has no CRS
    assert [feat.key for feat in plan.new] == ["1#", "2#"]
    assert [(n, note) for n, _key, note in plan.repaired] == [(2, "已闭合多段线首尾 0.2 个图形单位 的缺口")]
    [open_] = plan.rejected
    assert "多段线未闭合：首尾相距" in open_.reasons[0] and "超过闭合容差 0.5 个图形单位" in open_.reasons[0]
    every_layer = importer.plan(session, dxf, importer.Options("buildings", park=park.name, mapping=opts.mapping))
    assert len(every_layer.rejected) == 2  # the road is an open line too
    with pytest.raises(importer.sources.SourceError, match="没有 CAD 图层 '绿化'"):
        importer.plan(session, dxf, importer.Options("buildings", park=park.name, cad_layers=["绿化"]))


# --- geometry checks and the atomic commit -------------------------------------------------------

def bowtie(lon=LON, lat=LAT + 0.01):
    return shapely.Polygon([(lon, lat), (lon + 0.0005, lat + 0.0005), (lon + 0.0005, lat), (lon, lat + 0.0005)])


def test_a_self_intersecting_polygon_is_listed_and_refused_unless_skipped(session, park, tmp_path):
    frame(footprints(3) + [bowtie()]).to_file(tmp_path / "bad.gpkg")
    plan = importer.plan(session, tmp_path / "bad.gpkg", options(park))
    assert [r.key for r in plan.rejected] == ["A-04"]
    assert "自相交，位于 114.300250, 30.610250" in plan.rejected[0].reasons[0]
    with pytest.raises(importer.ImportRefused, match="1 个要素被拒绝"):
        importer.commit(session, plan)
    session.rollback()
    assert session.scalar(select(func.count(Building.id))) == 0
    skipping = importer.plan(session, tmp_path / "bad.gpkg", options(park, skip_rejected=True))
    assert importer.commit(session, skipping)["new"] == 3
    session.commit()
    assert session.scalar(select(func.count(Building.id))) == 3


def test_repair_fixes_and_reports_an_invalid_polygon(session, park, tmp_path):
    frame([bowtie()]).to_file(tmp_path / "bow.geojson")
    plan = importer.plan(session, tmp_path / "bow.geojson", options(park, repair=True))
    assert plan.counts["new"] == 1
    assert "make_valid" in plan.repaired[0][2] and "修复为 2 个部分" in plan.repaired[0][2]
    assert len(plan.new[0].geom.geoms) == 2


def test_multipart_3d_and_duplicate_features(session, park, tmp_path):
    a, b, c = footprints(3)
    three_d = shapely.force_3d(c, 12.0)
    geoms = [shapely.MultiPolygon([a, b]), three_d, shapely.Polygon(list(c.exterior.coords)[::-1])]
    frame(geoms, JZBH=["M-1", "Z-1", "Z-2"]).to_file(tmp_path / "mixed.gpkg")
    plan = importer.plan(session, tmp_path / "mixed.gpkg", options(park))
    assert [feat.key for feat in plan.new] == ["M-1", "Z-1"]
    assert len(plan.new[0].geom.geoms) == 2 and not plan.new[1].geom.has_z
    assert "已去掉 Z 坐标" in " ".join(plan.notes)
    assert plan.rejected[0].key == "Z-2" and "与第 2 个要素的图形相同" in plan.rejected[0].reasons[0]


def test_duplicate_keys_in_one_file_are_rejected(session, park, tmp_path):
    frame(footprints(3), JZBH=["A", "B", "A"]).to_file(tmp_path / "dup.geojson")
    plan = importer.plan(session, tmp_path / "dup.geojson", options(park))
    assert [(r.number, r.key) for r in plan.rejected] == [(3, "A")]
    assert "与第 1 个要素" in plan.rejected[0].reasons[0]


def test_bad_values_name_the_feature_the_field_and_what_was_expected(session, park, tmp_path):
    frame(footprints(2), JZMJ=["1200", "一千"], LX=["标准厂房", "写字楼"]).to_file(tmp_path / "v.geojson")
    plan = importer.plan(session, tmp_path / "v.geojson", options(park))
    [r] = plan.rejected
    text = "; ".join(r.reasons)
    assert r.number == 2 and "建筑面积(㎡) (JZMJ): '一千' is not a number" in text
    assert "建筑类型 (LX): '写字楼' 不是可选值之一" in text and "标准厂房、厂房" in text


def test_areas_given_as_numbers_must_be_positive(session, park, tmp_path):
    frame(footprints(4), JZMJ=[1200.0, 0.0, -35.5, None]).to_file(tmp_path / "areas.gpkg")
    plan = importer.plan(session, tmp_path / "areas.gpkg", options(park))
    assert [(r.number, r.reasons) for r in plan.rejected] == [
        (2, ["建筑面积(㎡) (JZMJ): 0.0 不是正数（应为 > 0 的数（m²））"]),
        (3, ["建筑面积(㎡) (JZMJ): -35.5 不是正数（应为 > 0 的数（m²））"]),
        (4, ["新记录需要 建筑面积(㎡) (gfa_m2)：请对应一个源字段，或填写常量"])]
    assert [(feat.number, feat.values["gfa_m2"]) for feat in plan.new] == [(1, 1200.0)]


def test_an_import_that_fails_midway_leaves_the_database_unchanged(session, park, tmp_path, monkeypatch):
    frame(footprints(4)).to_file(tmp_path / "four.gpkg")
    before = session.scalar(select(func.count(AuditRecord.id)))
    plan = importer.plan(session, tmp_path / "four.gpkg", options(park))
    # Rows go out two at a time; the connection is lost while the second pair is prepared.
    monkeypatch.setattr(bulk, "STREAM_SLICE", 2)
    monkeypatch.setattr(bulk, "SQLITE_SLICE", 2)
    real, calls = bulk._columns, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise importer.DBAPIError("INSERT", {}, RuntimeError("connection lost"))
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "_columns", failing)
    sent = []
    with pytest.raises(importer.ImportRefused, match="未写入任何内容"):
        importer.commit(session, plan, progress=sent.append)
    session.rollback()
    assert len(calls) == 2 and sent == [2]  # the first pair had been sent
    assert session.scalar(select(func.count(Building.id))) == 0
    assert session.scalar(select(func.count(AuditRecord.id))) == before


def test_matching_updates_by_key_and_audits_the_change(session, park, tmp_path):
    frame(footprints(2)).to_file(tmp_path / "v1.gpkg")
    importer.commit(session, importer.plan(session, tmp_path / "v1.gpkg", options(park)))
    session.commit()
    created = session.scalars(select(AuditRecord).where(AuditRecord.entity == "building",
                                                        AuditRecord.action == "insert")).all()
    ids = {str(i) for i in session.scalars(select(Building.id))}
    assert {a.entity_id for a in created} == ids and len(created) == 2
    assert {a.after["code"] for a in created} == {"A-01", "A-02"} and all("v1.gpkg" in a.note for a in created)
    moved = [shapely.affinity.translate(footprints(2)[0], 0.00002, 0), footprints(2)[1]]  # ~2 m east
    frame(moved, JZMJ=[1500.0, 1201.0]).to_file(tmp_path / "v2.gpkg")
    plan = importer.plan(session, tmp_path / "v2.gpkg", options(park))
    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert set(plan.updated[0].changes) == {"footprint", "gfa_m2"}
    importer.commit(session, plan)
    session.commit()
    b = session.scalar(select(Building).where(Building.code == "A-01"))
    assert b.gfa_m2 == 1500.0 and b.version == 2
    assert to_shape(b.footprint).bounds[0] == pytest.approx(LON + 0.00002)
    audit = session.scalars(select(AuditRecord).where(AuditRecord.entity == "building",
                                                      AuditRecord.action == "update")).one()
    assert audit.before["gfa_m2"] == 1200.0 and audit.after["gfa_m2"] == 1500.0
    assert session.scalar(select(func.count(Building.id))) == 2


def test_buildings_find_their_plot_by_location_and_plots_match_by_certificate(session, park, tmp_path):
    plot = f.plot(session, park)  # around factories.LON/LAT
    plot.certificate_no = "鄂(2021)武汉市不动产权第0001号"
    session.commit()
    inside = shapely.box(f.LON + 0.0005, f.LAT + 0.0005, f.LON + 0.001, f.LAT + 0.001)
    frame([inside]).to_file(tmp_path / "b.geojson")
    plan = importer.plan(session, tmp_path / "b.geojson", options(park))
    assert plan.new[0].values["plot_id"] == plot.id
    # A plot file using another numbering but the same certificate updates that plot.
    gpd.GeoDataFrame({"DKBH": ["X-9"], "BDCQZH": [plot.certificate_no], "ZDMJ": [4000.0]},
                     geometry=[to_shape(plot.geom)], crs="EPSG:4490").to_file(tmp_path / "p.gpkg")
    pplan = importer.plan(session, tmp_path / "p.gpkg", importer.Options("plots", park=park.name))
    assert pplan.counts["updated"] == 1 and pplan.updated[0].existing_id == plot.id
    assert set(pplan.updated[0].changes) == {"code", "certificate_area_m2"}


def test_units_import_from_a_spreadsheet_without_geometry(session, park, tmp_path):
    b = f.building(session, park, floors=2, units_per_floor=1)
    session.commit()
    df = gpd.pd.DataFrame({"楼栋编号": [b.code, b.code, "无此楼", b.code], "楼层": [1, 2, 1, 3],
                           "单元编号": ["1-01", "2-09", "9-01", "3-01"], "可租面积": [999.5, 1000, 10, 10]})
    df.to_excel(tmp_path / "units.xlsx", index=False)
    plan = importer.plan(session, tmp_path / "units.xlsx", importer.Options("units", park=park.name))
    assert plan.counts == {"new": 1, "updated": 1, "unchanged": 0, "rejected": 2}
    assert "本园区没有这栋楼" in plan.rejected[0].reasons[0]
    assert f"楼层 3：楼栋 {b.code} 的楼层为 1, 2" in plan.rejected[1].reasons[0]
    importer.commit(session, importer.plan(session, tmp_path / "units.xlsx",
                                           importer.Options("units", park=park.name, skip_rejected=True)))
    session.commit()
    assert sorted(session.scalars(select(Unit.code).where(Unit.building_id == b.id))) == ["1-01", "2-01", "2-09"]


def test_a_saved_profile_is_reused(session, park, tmp_path):
    frame(footprints(1)).to_file(tmp_path / "p.geojson")
    profiles.save(session, None, "自然资源局楼栋", options(park, encoding="GBK", crs="EPSG:4490"))
    session.commit()
    loaded = profiles.load(session, "自然资源局楼栋")
    assert loaded.mapping == MAPPING and loaded.encoding == "GBK" and loaded.park == park.name
    assert importer.plan(session, tmp_path / "p.geojson", loaded).counts["new"] == 1
    with pytest.raises(ValidationError, match="自然资源局楼栋"):
        profiles.load(session, "无此方案")


def test_new_records_need_their_required_fields(session, park, tmp_path):
    frame(footprints(1)).to_file(tmp_path / "n.geojson")
    plan = importer.plan(session, tmp_path / "n.geojson", options(park, mapping={"code": "JZBH"}))
    # The rest is matched by usual abbreviations: LX (类型), ZT (状态), JZMJ (建筑面积) …
    assert plan.mapping["type"] == "LX" and plan.counts["new"] == 1
    gpd.GeoDataFrame({"JZBH": ["Q"]}, geometry=footprints(1), crs="EPSG:4490").to_file(tmp_path / "bare.geojson")
    bare = importer.plan(session, tmp_path / "bare.geojson", options(park, mapping={}))
    assert "新记录需要 建筑类型 (type)、建设状态 (status)、建筑面积(㎡) (gfa_m2)" in bare.rejected[0].reasons[0]


def test_the_cli_dry_runs_then_commits(runner, session, park, tmp_path):
    frame(footprints(2)).to_file(tmp_path / "cli.gpkg")
    dry = runner("import", str(tmp_path / "cli.gpkg"), "--into", "buildings", "--park", park.name)
    assert dry.exit_code == 0, dry.output
    assert "2 new, 0 updated, 0 unchanged, 0 rejected" in dry.output and "nothing written" in dry.output
    assert session.scalar(select(func.count(Building.id))) == 0
    done = runner("import", str(tmp_path / "cli.gpkg"), "--into", "buildings", "--park", park.name,
                  "--save-profile", "cli", "--commit")
    assert done.exit_code == 0, done.output
    assert "committed: 2 new" in done.output
    again = runner("import", str(tmp_path / "cli.gpkg"), "--profile", "cli", "--format", "json")
    assert '"unchanged": 2' in again.output
    refused = runner("import", str(tmp_path / "cli.gpkg"), "--into", "buildings", "--park", "无此园区", "--commit")
    assert refused.exit_code == 1 and "没有名为 '无此园区' 的园区" in refused.output



def test_a_large_import_keeps_the_spatial_index_whole(session, park, backend, tmp_path, monkeypatch):
    """Big imports take the backends' bulk paths (SpatiaLite's index triggers done once; PostGIS's
    GiST and B-tree indexes, foreign keys and unique keys put back after the rows); afterwards the
    table has all of them and bbox queries find exactly the buildings inside."""
    from sqlalchemy import text
    n = 1500
    monkeypatch.setattr(bulk, "REBUILD_MIN", 1000)  # this import counts as big

    def indexes():
        return set(session.scalars(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'building'"))) | set(
            session.scalars(text("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                                 "WHERE conrelid = 'building'::regclass")))
    before = indexes() if backend == "postgis" else None
    geoms = [shapely.box(LON + (i % 50) * 0.001, LAT + (i // 50) * 0.001, LON + (i % 50) * 0.001 + 0.0004,
                         LAT + (i // 50) * 0.001 + 0.0004) for i in range(n)]
    gpd.GeoDataFrame({"JZBH": [f"K{i}" for i in range(n)], "JZMJ": [500.0] * n, "LX": ["厂房"] * n,
                      "ZT": ["已建成"] * n}, geometry=geoms, crs="EPSG:4490").to_file(tmp_path / "many.gpkg")
    importer.commit(session, importer.plan(session, tmp_path / "many.gpkg", options(park, mapping={})))
    session.commit()
    if backend == "spatialite":
        assert session.scalar(text("SELECT CheckSpatialIndex('building', 'footprint')")) == 1
        triggers = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                            "AND tbl_name = 'building'")))
        assert {"ggi_building_footprint", "gii_building_footprint", "tmi_building_footprint"} <= triggers
    else:
        assert indexes() == before and any("gist (footprint)" in d for d in before)
        assert {"building_park_id_fkey FOREIGN KEY (park_id) REFERENCES park(id)",
                "building_park_id_code_key UNIQUE (park_id, code)"} <= before
    from registry.gis import exporter
    box = (LON + 0.0105, LAT + 0.0035, LON + 0.0207, LAT + 0.0122)
    found = exporter.page(session, "buildings", day=dt.date(2026, 11, 23), audience=EVERYTHING, bbox=box)
    expected = {f"K{i}" for i, g in enumerate(geoms) if g.intersects(shapely.box(*box))}
    assert set(found.columns["code"]) == expected and len(expected) == 90
    # A failed insert puts the triggers back with the rows (SpatiaLite) and the index (PostGIS).
    gpd.GeoDataFrame({"JZBH": [f"L{i}" for i in range(n)], "JZMJ": [500.0] * n, "LX": ["厂房"] * n,
                      "ZT": ["已建成"] * n}, geometry=[shapely.affinity.translate(g, 0, 0.1) for g in geoms],
                     crs="EPSG:4490").to_file(tmp_path / "more.gpkg")
    plan = importer.plan(session, tmp_path / "more.gpkg", options(park, mapping={}))
    # Between the dry run and the commit another user registers a building under the last code: the
    # unique key (checked row by row on SpatiaLite, put back after the rows on PostGIS) refuses it.
    f.building(session, park).code = f"L{n - 1}"
    session.flush()
    with pytest.raises(importer.ImportRefused, match=r"park_id, (building\.)?code"):
        importer.commit(session, plan)
    session.rollback()
    assert session.scalar(select(func.count(Building.id))) == n
    if backend == "spatialite":
        assert session.scalar(text("SELECT CheckSpatialIndex('building', 'footprint')")) == 1
    else:
        assert indexes() == before
