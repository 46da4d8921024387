"""OGC API - Features under /ogc, read by the clients GIS users have: GDAL (ogrinfo, ogr2ogr) and
OWSLib, plus the test client for the details of the standard."""
from __future__ import annotations

import json
import subprocess

import pytest
import shapely
from geoalchemy2.shape import to_shape
from owslib.ogcapi.features import Features
from sqlalchemy import func, select

from registry.gis import exporter, ogc
from registry.core.authz import PUBLIC
from registry.core.models import Building, Park, Plot

from .conftest import TODAY
from . import factories as f
from .webhelpers import login_as


@pytest.fixture
def api(demo_app):
    return demo_app.test_client()


def test_landing_conformance_and_collections(api):
    landing = api.get("/ogc/?f=json").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = api.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    cols = api.get("/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in cols] == ["parks", "plots", "buildings", "vacancies"]
    assert all(ogc.EPSG4490 in c["crs"] and ogc.CRS84 in c["crs"] for c in cols)


def test_items_page_with_next_links_until_every_feature_is_seen(api, demo_session):
    count = demo_session.scalar(select(func.count(Building.id)))
    url, seen = "/ogc/collections/buildings/items?limit=100", []
    while url:
        resp = api.get(url)
        assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
        doc = resp.get_json()
        assert doc["numberMatched"] == count and doc["numberReturned"] == len(doc["features"])
        seen += [feat["id"] for feat in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert len(seen) == len(set(seen)) == count


def test_bbox_and_property_filters(api, demo_session):
    park = demo_session.get(Park, 2)
    minx, miny, maxx, maxy = to_shape(park.boundary).bounds
    doc = api.get(f"/ogc/collections/buildings/items?bbox={minx},{miny},{maxx},{maxy}&limit=1000").get_json()
    assert {feat["properties"]["park"] for feat in doc["features"]} == {park.name}
    typed = api.get("/ogc/collections/buildings/items?type=标准厂房&limit=1000").get_json()
    expected = demo_session.scalar(select(func.count(Building.id)).where(Building.type == "standard_factory"))
    assert typed["numberMatched"] == expected and {f["properties"]["type"] for f in typed["features"]} == {"标准厂房"}
    assert api.get("/ogc/collections/buildings/items?type=standard_factory").get_json()["numberMatched"] == expected


def test_epsg_4490_answers_latitude_first(api):
    crs84 = api.get("/ogc/collections/buildings/items/1").get_json()
    resp = api.get(f"/ogc/collections/buildings/items/1?crs={ogc.EPSG4490}")
    assert resp.headers["Content-Crs"] == f"<{ogc.EPSG4490}>"
    lon, lat = crs84["geometry"]["coordinates"][0][0][0]
    assert resp.get_json()["geometry"]["coordinates"][0][0][0] == [lat, lon]
    # A bbox in EPSG:4490 is latitude first too.
    box = f"{lat - 0.0001},{lon - 0.0001},{lat + 0.0001},{lon + 0.0001}"
    hit = api.get(f"/ogc/collections/buildings/items?bbox={box}&bbox-crs={ogc.EPSG4490}").get_json()
    assert 1 in [feat["id"] for feat in hit["features"]]


def test_bad_parameters_are_400_and_missing_things_404(api):
    for url, text in [("/ogc/collections/buildings/items?colour=red", "'colour' is not a property"),
                      ("/ogc/collections/buildings/items?limit=x", "limit='x'"),
                      ("/ogc/collections/buildings/items?bbox=1,2,3", "four numbers"),
                      ("/ogc/collections/buildings/items?crs=EPSG:3857", "is not offered"),
                      ("/ogc/collections/plots/items?cert_no=x", "'cert_no' is not a property")]:
        resp = api.get(url)
        assert resp.status_code == 400 and text in resp.get_json()["description"], url
    assert api.get("/ogc/collections/roads").status_code == 404
    assert api.get("/ogc/collections/buildings/items/999999").status_code == 404


def test_public_readers_get_public_fields_and_staff_their_parks_private_fields(client, world, session):
    plot = f.plot(session, world.park_a)
    plot.certificate_no = "陕(2022)汉滨区不动产权第0042号"
    session.commit()
    public = client.get("/ogc/collections/plots/items").get_json()["features"][0]["properties"]
    assert "cert_no" not in public and "holder" not in public and public["code"] == plot.code
    assert "cert_no" not in client.get("/ogc/collections/plots/queryables").get_json()["properties"]
    login_as(client, world.viewer)  # of park B: park A's plot has the fields, left empty
    other = client.get("/ogc/collections/plots/items").get_json()["features"][0]["properties"]
    assert "cert_no" in other and other["cert_no"] is None
    # Filtering on a private field does not tell whether another park holds the value.
    assert client.get(f"/ogc/collections/plots/items?cert_no={plot.certificate_no}").get_json()["numberMatched"] == 0
    login_as(client, world.manager_a)
    private = client.get("/ogc/collections/plots/items").get_json()["features"][0]["properties"]
    assert private["cert_no"] == plot.certificate_no
    assert client.get(f"/ogc/collections/plots/items?cert_no={plot.certificate_no}").get_json()["numberMatched"] == 1


def test_names_from_the_database_are_escaped_in_html(client, world, session):
    world.building_a.name = "<img src=x onerror=alert(1)>"
    session.commit()
    page = client.get(f"/ogc/collections/buildings/items/{world.building_a.id}?f=html").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_pages_render_and_escape(api):
    assert "OGC API - Features" in api.get("/ogc/?f=html").get_data(as_text=True)
    page = api.get("/ogc/collections/buildings/items?f=html&limit=5").get_data(as_text=True)
    assert "楼栋编号" in page and "f=html" in page
    browser = api.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.mimetype == "text/html"


def test_the_openapi_document_covers_every_route(api, demo_app):
    doc = api.get("/ogc/api").get_json()
    assert doc["openapi"].startswith("3.0")
    documented = set(doc["paths"])
    for rule in demo_app.url_map.iter_rules():
        if rule.rule.startswith("/ogc") and rule.rule != "/ogc/api":
            path = rule.rule[4:] or "/"
            for cid in ogc.COLLECTIONS:
                concrete = path.replace("<collection_id>", cid).replace("<feature_id>", "{featureId}")
                assert concrete in documented, concrete


def test_gdal_lists_the_collections_and_reads_every_item_across_pages(live_server, demo_session, tmp_path):
    base = f"OAPIF:{live_server}/ogc"
    listing = subprocess.run(["ogrinfo", "-ro", base], capture_output=True, text=True, check=True).stdout
    for cid in ogc.COLLECTIONS:
        assert f": {cid} (title:" in listing
    plots = demo_session.scalar(select(func.count(Plot.id)))
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-q", base, "plots", "-oo", "PAGE_SIZE=40"],
                         capture_output=True, text=True, check=True).stdout
    assert out.count("OGRFeature(plots)") == plots
    gpkg = tmp_path / "vacancies.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), base, "vacancies", "-oo", "PAGE_SIZE=50"], check=True,
                   capture_output=True)
    vacant = len(exporter.page(demo_session, "vacancies", day=TODAY, audience=PUBLIC, count=False))
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), "vacancies"], capture_output=True, text=True,
                          check=True).stdout
    assert f"Feature Count: {vacant}" in info


def test_owslib_reads_the_collections_and_items(live_server, demo_session):
    api = Features(f"{live_server}/ogc")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == list(ogc.COLLECTIONS)
    items = api.collection_items("parks", limit=10)
    assert items["numberMatched"] == demo_session.scalar(select(func.count(Park.id)))
    names = {feat["properties"]["name"] for feat in items["features"]}
    assert "安康高新技术产业开发区" in names
    geom = shapely.geometry.shape(items["features"][0]["geometry"])
    assert geom.is_valid and 100 < geom.centroid.x < 120
    assert json.loads(json.dumps(api.conformance()))["conformsTo"]
