"""Exports a GIS user opens without conversion, and that import back unchanged."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely
from geoalchemy2.shape import to_shape
from openpyxl import load_workbook
from sqlalchemy import func, select

from geodata import writers
from registry.gis import exporter, fields, importer
from registry.core.authz import EVERYTHING, PUBLIC
from registry.core.models import Building, Park, Plot, Unit

from .conftest import TODAY, Runner
from .webhelpers import login_as

LAYERS = ("parks", "plots", "buildings", "units")


@pytest.mark.parametrize("fmt", exporter.FORMATS)
def test_export_then_import_changes_nothing(demo_session, tmp_path, fmt):
    """Geometry within 1 cm and every attribute: re-importing the export finds nothing to change."""
    for layer in LAYERS:
        path = tmp_path / f"{layer}{exporter.SUFFIX[fmt]}"
        n = exporter.export(demo_session, layer, fmt, path, day=TODAY)
        plan = importer.plan(demo_session, path, importer.Options(layer))
        assert not plan.problems, (layer, plan.problems)
        assert plan.counts == {"new": 0, "updated": 0, "unchanged": n, "rejected": 0}, (layer, plan.rejected[:3])
        assert set(plan.mapping) == {f.name for f in fields.importable(layer)}, layer


def test_an_edited_export_imports_as_exactly_that_edit(demo_session, tmp_path):
    path = tmp_path / "b.gpkg"
    exporter.export(demo_session, "buildings", "gpkg", path, day=TODAY, park=1)
    gdf = gpd.read_file(path)
    gdf.loc[0, "gfa_m2"] = gdf.loc[0, "gfa_m2"] + 100
    gdf.loc[1, "geometry"] = shapely.affinity.translate(gdf.loc[1, "geometry"], 0.0000002, 0)  # ~2 cm
    gdf.to_file(tmp_path / "edited.gpkg", layer="buildings")
    plan = importer.plan(demo_session, tmp_path / "edited.gpkg", importer.Options("buildings"))
    changes = {f.key: set(f.changes) for f in plan.updated}
    assert changes == {gdf.loc[0, "code"]: {"gfa_m2"}, gdf.loc[1, "code"]: {"footprint"}}


def test_geojson_is_rfc7946_lon_lat_within_a_centimetre(demo_session, tmp_path):
    path = tmp_path / "b.geojson"
    exporter.export(demo_session, "buildings", "geojson", path, day=TODAY, park=2)
    doc = json.loads(path.read_text("utf-8"))
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    stored = {b.id: to_shape(b.footprint) for b in demo_session.scalars(select(Building).where(Building.park_id == 2))}
    assert len(doc["features"]) == len(stored)
    for feat in doc["features"]:
        g = shapely.geometry.shape(feat["geometry"])
        assert shapely.hausdorff_distance(g, stored[feat["properties"]["id"]]) < 1e-7  # about 1 cm
        assert feat["properties"]["park"] == "汉阴县月河工业集中区"


def test_shapefile_names_fit_ten_characters_and_gbk_reads_in_gdal(demo_session, tmp_path):
    path = tmp_path / "plots.zip"
    exporter.export(demo_session, "plots", "shp", path, day=TODAY, encoding="GBK")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        assert names == ["plots.cpg", "plots.dbf", "plots.prj", "plots.shp", "plots.shx"]
        assert zf.read("plots.cpg").decode().strip().upper() in ("GBK", "CP936")
    info = subprocess.run(["ogrinfo", "-ro", "-al", "-so", f"/vsizip/{path}"], capture_output=True, text=True,
                          check=True).stdout
    count = demo_session.scalar(select(func.count(Plot.id)))
    assert f"Feature Count: {count}" in info and "4490" in info
    meta = pyogrio.read_info(path)
    assert all(len(name) <= 10 for name in meta["fields"])
    park_names = set(gpd.read_file(path)["park"])
    assert "安康高新技术产业开发区" in park_names


def test_geopackage_is_in_cgcs2000_with_chinese_aliases(demo_session, tmp_path):
    path = tmp_path / "b.gpkg"
    n = exporter.export(demo_session, "buildings", "gpkg", path, day=TODAY)
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(path), "buildings"], capture_output=True, text=True,
                          check=True).stdout
    assert f"Feature Count: {n}" in info and 'ID["EPSG",4490]' in info
    with sqlite3.connect(path) as con:
        aliases = dict(con.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = 'buildings'"))
    assert aliases["gfa_m2"] == "建筑面积(㎡)" and aliases["code"] == "楼栋编号"


def test_kml_opens_in_gdal_with_named_placemarks(demo_session, tmp_path):
    path = tmp_path / "v.kml"
    n = exporter.export(demo_session, "vacancies", "kml", path, day=TODAY, audience=PUBLIC)
    info = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"Feature Count: {n}" in info
    assert "<name>" in path.read_text("utf-8")


def test_spreadsheets_have_chinese_headers_and_wkt(demo_session, tmp_path):
    exporter.export(demo_session, "units", "xlsx", tmp_path / "u.xlsx", day=TODAY, park=1)
    ws = load_workbook(tmp_path / "u.xlsx", read_only=True)["数据"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert header[:3] == ["编号", "所属园区", "楼栋编号"] and header[-1] == "WKT" and "租户" in header
    exporter.export(demo_session, "units", "csv", tmp_path / "u.csv", day=TODAY, park=1)
    raw = (tmp_path / "u.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM correctly
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    units = demo_session.scalar(select(func.count(Unit.id)).join(Building).where(Building.park_id == 1))
    assert len(rows) == units and rows[0]["WKT"].startswith("MULTIPOLYGON")


def test_units_carry_their_status_and_vacancies_are_the_vacant_ones(demo_session):
    from registry.occupancy.status import unit_states
    from registry.core.enums import UnitStatus
    units = exporter.page(demo_session, "units", day=TODAY, audience=EVERYTHING)
    vacancies = exporter.page(demo_session, "vacancies", day=TODAY, audience=PUBLIC)
    states = unit_states(demo_session, TODAY)
    completed = {b.id for b in demo_session.scalars(select(Building)) if b.status.value == "completed"
                 and (b.completion_date is None or b.completion_date <= TODAY)}
    building_of = dict(demo_session.execute(select(Unit.id, Unit.building_id)).all())
    expected = sorted(uid for uid, s in states.items() if s.status == UnitStatus.VACANT and building_of[uid] in completed)
    assert vacancies.ids == expected and len(expected) > 10
    by_id = dict(zip(units.ids, units.columns["state"]))
    assert {by_id[i] for i in expected} == {"空置"}
    assert "tenant" not in vacancies.columns and any(units.columns["tenant"])


def test_public_exports_hide_private_fields_and_hidden_rents(demo_session, tmp_path):
    page = exporter.page(demo_session, "plots", day=TODAY, audience=PUBLIC)
    assert not {"cert_no", "holder", "uscc", "price_wan"} & set(page.columns)
    hidden = set(demo_session.scalars(select(Park.name).where(Park.hide_rents)))
    vac = exporter.page(demo_session, "vacancies", day=TODAY, audience=PUBLIC)
    for park, rent in zip(vac.columns["park"], vac.columns["rent"]):
        if park in hidden:
            assert rent is None


def test_a_failed_export_leaves_no_file(tmp_path, monkeypatch):
    def full_disk(path, **kwargs):
        open(path, "wb").write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers, "ogr_write", full_disk)
    target = tmp_path / "out.gpkg"
    with pytest.raises(OSError, match="No space"):
        writers.write(target, "gpkg", "buildings", [writers.Column("code", "编号", "str")], {"code": ["A"]},
                      [shapely.box(114, 30, 114.001, 30.001).wkb])
    assert list(tmp_path.iterdir()) == []


def test_the_cli_exports_a_layer(demo_url, tmp_path):
    out = tmp_path / "vac.geojson"
    result = Runner(demo_url)("export", "vacancies", "--format", "geojson", "--out", str(out), "--park",
                              "安康高新技术产业开发区", "--as-of", TODAY.isoformat(), "--public")
    assert result.exit_code == 0, result.output
    n = int(result.output.split()[1])
    assert n == len(json.loads(out.read_text("utf-8"))["features"]) > 0


def test_download_buttons_need_a_sign_in_and_deliver_readable_files(client, world, session, tmp_path):
    assert client.get("/export").status_code == 302
    session.commit()
    login_as(client, world.viewer)
    page = client.get("/export")
    assert page.status_code == 200 and "GIS 数据导出" in page.get_data(as_text=True)
    resp = client.get(f"/export/buildings.gpkg?park={world.park_a.id}&as_of=2026-11-23")
    assert resp.status_code == 200 and resp.mimetype == "application/geopackage+sqlite3"
    (tmp_path / "d.gpkg").write_bytes(resp.data)  # as the browser saves it
    gdf = pyogrio.read_dataframe(tmp_path / "d.gpkg")
    assert list(gdf["code"]) == [world.building_a.code] and "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    shp = client.get("/export/units.shp?encoding=GBK&as_of=2026-06-01")  # every park's units
    assert shp.status_code == 200
    units = pyogrio.read_dataframe(io.BytesIO(shp.data))
    # The viewer of park B gets its tenant; park A's units come without theirs.
    assert set(units["tenant"].dropna()) == {"乙租户有限公司"} and len(units) == 12
    assert client.get("/export/nothing.gpkg").status_code == 404


def test_the_field_table_in_the_docs_matches_the_code():
    from pathlib import Path
    doc = (Path(__file__).parent.parent / "docs" / "gis.md").read_text("utf-8")
    for layer, layer_fields in fields.LAYERS.items():
        section = doc.split(f"### {layer} (", 1)[1].split("###", 1)[0]
        for f in layer_fields:
            assert f"| `{f.name}` | {f.alias} | {f.kind} | {'yes' if f.public else 'staff'} |" in section, (layer, f.name)
