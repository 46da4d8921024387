"""Benchmark (issue #7): GIS import, export and the OGC API at 100k building footprints.

- import: a GeoPackage of N building polygons in CGCS2000 Gauss-Krüger zone 38 (with the prefix,
  as the natural-resources bureau delivers them) into a fresh registry, through the same path as
  ``registry import --commit`` (read, encoding and CRS, mapping, checks, key matching, bulk write,
  audit), against GDAL's ``ogr2ogr`` copying the same file into the same database (reprojected to
  EPSG:4490, multi-polygons), measured in the same run. Target: at most 1.5 × ogr2ogr;
- export: the N buildings to a GeoPackage (EPSG:4490, aliases). Target: under 30 s;
- OGC API: items pages of 1,000 features at random offsets, through Flask's test client in-process.
  Target: under 200 ms.

Usage:
    python bench/gis.py [--backend spatialite|postgis|both] [--features 100000] [--repeat 20]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas  # noqa: F401  - the wheels before mod_spatialite

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from occupancy import database  # noqa: E402  - same throwaway-database helper

PARK = "基准测试园区"


def make_gpkg(path: Path, n: int) -> None:
    """N footprints of 30–60 m on a grid around 114.3°E 30.6°N, in EPSG:4526, with the usual fields."""
    import numpy as np
    import shapely
    from pyogrio.raw import write
    from pyproj import Transformer
    rng = np.random.default_rng(7)
    side = int(np.ceil(np.sqrt(n)))
    x0, y0 = Transformer.from_crs(4490, 4526, always_xy=True).transform(114.30, 30.60)
    i = np.arange(n)
    x = x0 + (i % side) * 80.0
    y = y0 + (i // side) * 80.0
    w = rng.uniform(30, 60, n)
    h = rng.uniform(30, 60, n)
    geoms = shapely.box(x, y, x + w, y + h)
    fields = {"JZBH": np.array([f"B{k:06d}" for k in i], dtype=object),
              "MC": np.array([f"{k % 50 + 1}号厂房" for k in i], dtype=object),
              "JZMJ": np.round(w * h * rng.integers(1, 5, n), 2),
              "CS": rng.integers(1, 5, n).astype("int64"),
              "LX": np.array(["标准厂房"] * n, dtype=object),
              "ZT": np.array(["已建成"] * n, dtype=object)}
    write(path, shapely.to_wkb(geoms), list(fields.values()), list(fields), driver="GPKG", crs="EPSG:4526",
          geometry_type="Polygon", layer="buildings")


def prepare(url: str) -> None:
    from registry.storage import migrate
    from registry.storage.db import sessionmaker_for
    from registry.core.enums import ParkLevel
    from registry.core.models import Jurisdiction, Park
    migrate.upgrade(url)
    s = sessionmaker_for(url)()
    s.add(Jurisdiction(code="420102", name="江岸区"))
    s.add(Park(name=PARK, level=ParkLevel.PROVINCIAL, jurisdiction_code="420102"))
    s.commit()
    s.close()


def ogr2ogr(url: str, gpkg: Path) -> float:
    from sqlalchemy.engine import make_url
    u = make_url(url)
    if u.drivername.startswith("postgresql"):
        dst = ["-f", "PostgreSQL", f"PG:host={u.host} port={u.port or 5432} dbname={u.database} user={u.username} "
                                   f"password={u.password}"]
    else:
        dst = ["-update", "-f", "SQLite", u.database]
    cmd = ["ogr2ogr", *dst, str(gpkg), "buildings", "-nln", "ogr_buildings", "-t_srs", "EPSG:4490",
           "-nlt", "PROMOTE_TO_MULTI", "-lco", "GEOMETRY_NAME=footprint"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def ours(url: str, gpkg: Path) -> dict:
    from registry.storage.db import session_scope
    from registry.gis import importer
    opts = importer.Options("buildings", park=PARK)
    t = time.perf_counter()
    with session_scope(url, actor="bench") as s:
        plan = importer.plan(s, gpkg, opts)
        planned = time.perf_counter() - t
        counts = importer.commit(s, plan)
    total = time.perf_counter() - t
    assert counts["new"] > 0 and not plan.rejected, plan.summary()
    return {"plan_s": round(planned, 2), "commit_s": round(total - planned, 2), "total_s": round(total, 2),
            "new": counts["new"]}


def export(url: str, tmp: Path) -> dict:
    from registry.storage.db import session_scope
    from registry.core import clock
    from registry.gis import exporter
    out = tmp / "export.gpkg"
    t = time.perf_counter()
    with session_scope(url) as s:
        n = exporter.export(s, "buildings", "gpkg", out, day=clock.today())
    return {"features": n, "seconds": round(time.perf_counter() - t, 2), "mb": round(out.stat().st_size / 1e6, 1)}


def ogc_pages(url: str, n: int, repeat: int) -> dict:
    from web import create_app
    client = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"}).test_client()
    rng = random.Random(3)
    times, sizes = [], []
    for _ in range(repeat):
        offset = rng.randrange(0, max(1, n - 1000))
        t = time.perf_counter()
        resp = client.get(f"/ogc/collections/buildings/items?limit=1000&offset={offset}")
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200
        sizes.append(len(resp.data))
        assert json.loads(resp.data)["numberReturned"] == 1000
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "page_kb": round(statistics.median(sizes) / 1024)}


def run(backend: str, n: int, repeat: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-gis-"))
    gpkg = tmp / "buildings.gpkg"
    make_gpkg(gpkg, n)
    url, drop = database(backend)
    try:
        prepare(url)
        gdal = ogr2ogr(url, gpkg)
        mine = ours(url, gpkg)
        out = {"backend": backend, "features": n, "ogr2ogr_s": round(gdal, 2), "import": mine,
               "ratio_to_ogr2ogr": round(mine["total_s"] / gdal, 2), "export_gpkg": export(url, tmp),
               "ogc_items_1000": ogc_pages(url, n, repeat)}
    finally:
        drop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    ap.add_argument("--features", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    for b in backends:
        print(json.dumps(run(b, args.features, args.repeat), ensure_ascii=False))


if __name__ == "__main__":
    main()
