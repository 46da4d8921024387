"""A basemap on an intranet (issue 20): the map draws tiles the app serves from a folder of
{z}/{x}/{y} images or an MBTiles file on the machine itself, says whose they are, shifts the
registry's layers to GCJ-02 tiles when told they are, and no request leaves 127.0.0.1. Without
tiles, staff are told in one line how to configure them."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest
from PIL import Image

from geodata.tiles import TileSource

from .conftest import _guarded_page, _serve
from .webhelpers import build_world, login_as

ZOOMS = range(0, 4)


def _png(colour) -> bytes:
    import io
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tile_sets(tmp_path_factory):
    """The same small tile set (zooms 0–3, one colour per zoom) as a folder and as MBTiles."""
    root = tmp_path_factory.mktemp("tiles")
    folder = root / "county"
    mbtiles = root / "county.mbtiles"
    db = sqlite3.connect(mbtiles)
    db.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "测试县"), ("format", "png"), ("minzoom", "0"),
                                                          ("maxzoom", "3"), ("attribution", "测试底图 © 某县自然资源局")])
    for z in ZOOMS:
        data = _png((200, 220 - z * 20, 200))
        for x in range(2 ** z):
            for y in range(2 ** z):
                path = folder / str(z) / str(x) / f"{y}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, data))
    db.commit()
    db.close()
    return {"folder": folder, "mbtiles": mbtiles}


def test_a_folder_and_an_mbtiles_file_give_the_same_tiles(tile_sets):
    folder, mbtiles = TileSource(tile_sets["folder"]), TileSource(tile_sets["mbtiles"])
    for z, x, y in ((0, 0, 0), (2, 1, 3), (3, 7, 0)):
        assert folder.get(z, x, y) == mbtiles.get(z, x, y) and folder.get(z, x, y)[1] == "image/png"
    assert folder.get(4, 0, 0) is None and mbtiles.get(3, 8, 0) is None and mbtiles.max_zoom() == 3


def _app(db_url, tiles, crs="wgs84"):
    from web import create_app
    return create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k", "BASEMAP": "local",
                       "TILES": str(tiles), "TILES_CRS": crs, "TILES_ATTRIBUTION": ""})


def test_tiles_are_served_with_their_type_and_missing_ones_are_404(db_url, tile_sets):
    client = _app(db_url, tile_sets["mbtiles"]).test_client()
    resp = client.get("/tiles/2/1/3")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data.startswith(b"\x89PNG")
    assert "max-age" in resp.headers["Cache-Control"]
    assert client.get("/tiles/9/0/0").status_code == 404


@pytest.mark.parametrize("kind", ["folder", "mbtiles"])
def test_the_map_draws_local_tiles_and_nothing_leaves_the_machine(chromium, db_url, session, tile_sets, kind):
    build_world(session)
    server = _serve(_app(db_url, tile_sets[kind]))
    base = f"http://127.0.0.1:{server.server_port}"
    context, page = _guarded_page(chromium, base)
    try:
        page.goto(f"{base}/map?lat=33&lng=109&z=3", wait_until="load")
        page.wait_for_function("document.querySelectorAll('img.leaflet-tile-loaded').length > 0", timeout=15000)
        tiles = page.eval_on_selector_all("img.leaflet-tile-loaded", "els => els.map(e => [e.src, e.naturalWidth])")
        assert tiles and all(src.startswith(f"{base}/tiles/") and width == 256 for src, width in tiles), tiles
        assert "测试底图" in page.inner_text(".leaflet-control-attribution") or kind == "folder"
        assert page.external_requests == [] and page.csp_violations == []
    finally:
        context.close()
        server.shutdown()


def test_gcj02_tiles_shift_the_registrys_layers_and_no_tiles_tell_staff_how(client, db_url, world, tile_sets):
    page = _app(db_url, tile_sets["folder"], crs="gcj02").test_client().get("/map").get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="map-config">(.*?)</script>', page, re.S)[1])
    assert config["datum"] == "gcj02"
    login_as(client, world.viewer)
    assert "REGISTRY_TILES" in client.get("/map").get_data(as_text=True)  # no basemap: one line for staff
    assert "REGISTRY_TILES" not in client.application.test_client().get("/map").get_data(as_text=True)
