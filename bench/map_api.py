"""Benchmark (issue #4): the vacancy map API against 100k buildings, and the map page.

- a county view: the bbox of one park (about 2,000 buildings), zoom 13 (points), one page of the
  size the map page asks for (1,000, sorted by available area), p50 target 50 ms;
- a province-wide view: every park in the bbox, zoom 6, clustered on the server, target 300 ms;
- the floor: the same feature query's SQL run directly on the driver connection (no ORM, no JSON),
  timed in the same run; we record our ratio to it;
- the map page's HTML size (target < 300 KB) and, on the demo data in headless Chromium, the time
  from navigation to the first building polygon painted (target 1.5 s).

API requests go through Flask's test client in-process. Usage:
    python bench/map_api.py [--backend spatialite|postgis] [--buildings 100000] [--parks 50] [--repeat 30]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import geopandas  # noqa: F401  - the wheels before mod_spatialite

sys.path.insert(0, str(Path(__file__).resolve().parent))
from occupancy import database  # noqa: E402  - same throwaway-database helper
from registry.core import clock  # noqa: E402

TODAY = clock.today()
PAGE = 1000  # what web/static/js/vacancy-map.js asks for


def p50(fn, repeat):
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}


def run(backend, buildings, parks, repeat, keep=False, url=None):
    from sqlalchemy import func, select, text

    from registry.storage import bulk, migrate
    from registry.sample import demo
    from registry.vacancy import search as vacancy
    from registry.storage.db import sessionmaker_for
    from registry.core.models import Building, Park
    from web import create_app

    load_s = None
    if url:  # a database a previous --keep run loaded: measure again without loading
        drop = lambda: None  # noqa: E731
        s = sessionmaker_for(url)()
    else:
        url, drop = database(backend)
        migrate.upgrade(url)
        s = sessionmaker_for(url)()
        t_load = time.perf_counter()
        bulk.load_chunks(s, demo.scaled_chunks(buildings, parks, TODAY))
        s.commit()
        load_s = round(time.perf_counter() - t_load, 1)
    if backend == "postgis":
        s.commit()
        with s.get_bind().connect() as c:  # VACUUM: the visibility map makes lease probes index-only
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    n_buildings = s.scalar(select(func.count(Building.id)))
    from geoalchemy2.shape import to_shape
    extents = [to_shape(b).bounds for b in s.scalars(select(Park.boundary).order_by(Park.id))]
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()

    def county(i):
        b = extents[i % len(extents)]
        r = client.get(f"/api/buildings?zoom=13&limit={PAGE}&bbox={b[0]},{b[1]},{b[2]},{b[3]}")
        assert r.status_code == 200
        return r

    sample = county(0).get_json()
    county_stats = p50(county, repeat)
    allb = (min(e[0] for e in extents), min(e[1] for e in extents), max(e[2] for e in extents), max(e[3] for e in extents))
    province = p50(lambda i: client.get(f"/api/buildings?zoom=6&bbox={allb[0]},{allb[1]},{allb[2]},{allb[3]}"), max(5, repeat // 3))
    clusters = client.get(f"/api/buildings?zoom=6&bbox={allb[0]},{allb[1]},{allb[2]},{allb[3]}").get_json()

    # The floor: the feature query's SQL, compiled beforehand (per park), run on the driver connection.
    def sql_for(b):
        q = vacancy.parse_query({"zoom": "13", "limit": str(PAGE), "bbox": f"{b[0]},{b[1]},{b[2]},{b[3]}"}, TODAY)
        return str(vacancy.feature_statement(s, q).compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
    compiled = [sql_for(b) for b in extents]

    def raw(i):
        s.connection().exec_driver_sql(compiled[i % len(compiled)]).fetchall()
    floor = p50(raw, repeat)
    html = client.get("/map").data
    s.close()
    if keep:
        print("kept:", url, file=sys.stderr)
    else:
        drop()
    return {"backend": backend, "buildings": n_buildings, "load_s": load_s,
            "county_view": {**county_stats, "features": sample["numberReturned"], "matched": sample["numberMatched"]},
            "raw_sql_floor": floor, "ratio_to_floor": round(county_stats["p50_ms"] / max(floor["p50_ms"], 0.01), 2),
            "province_clustered": {**province, "clusters": clusters["numberReturned"], "matched": clusters["numberMatched"]},
            "map_html_bytes": len(html)}


def first_paint():
    """Navigation → first building polygon, headless Chromium, on the demo data (SpatiaLite)."""
    import tempfile

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from registry.storage import bulk, migrate
    from registry.sample import demo
    from registry.storage.db import sessionmaker_for
    from web import create_app
    url = f"sqlite:///{tempfile.mkdtemp()}/demo.sqlite"
    migrate.upgrade(url)
    s = sessionmaker_for(url)()
    bulk.load(s, demo.demo_dataset(TODAY))
    s.commit()
    srv = make_server("127.0.0.1", 0, create_app({"DATABASE_URL": url, "SECRET_KEY": "b"}), threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    times = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for _ in range(5):
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{srv.server_port}/map?lat=32.888&lng=108.515&z=16", wait_until="commit")
            page.wait_for_selector("path.leaflet-interactive", state="attached")
            times.append(page.evaluate("performance.now()"))
            page.close()
        b.close()
    srv.shutdown()
    times.sort()
    return {"first_polygons_ms_p50": round(statistics.median(times)), "max_ms": round(times[-1])}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", choices=["spatialite", "postgis"], default="spatialite")
    ap.add_argument("--buildings", type=int, default=100_000)
    ap.add_argument("--parks", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--paint", action="store_true", help="measure first paint in Chromium instead")
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL goes to stderr)")
    ap.add_argument("--url", help="measure a database kept by an earlier --keep run instead of loading one")
    a = ap.parse_args()
    print(json.dumps(first_paint() if a.paint else run(a.backend, a.buildings, a.parks, a.repeat, a.keep, a.url),
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
