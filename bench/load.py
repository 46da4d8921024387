"""Benchmark: generate and load N buildings over M parks on SpatiaLite and PostGIS, with peak memory.

Usage: python bench/load.py [--buildings 100000] [--parks 50] [--backend spatialite|postgis|both]
Prints one JSON line per backend and a Markdown row for docs/performance.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid

TODAY = dt.date(2026, 11, 23)


def run_one(backend: str, buildings: int, parks: int) -> dict:
    import geopandas  # noqa: F401  - wheels before mod_spatialite
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from registry.storage import bulk, migrate
    from registry.sample import demo
    from registry.storage.db import make_engine
    from sqlalchemy.orm import Session

    if backend == "spatialite":
        folder = tempfile.mkdtemp(prefix="bench-")
        url = f"sqlite:///{folder}/bench.sqlite"
        cleanup = None
    else:
        admin_url = os.environ["TEST_PG_ADMIN_URL"]
        name = "bench_" + uuid.uuid4().hex[:8]
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    migrate.upgrade(url)
    # Generation (Python) and loading (mostly the database server) run as a pipeline, park by park:
    # a thread generates the next park while the current one is written.
    chunks: queue.Queue = queue.Queue(maxsize=2)
    gen_time = [0.0]

    def produce():
        it = demo.scaled_chunks(buildings, parks, TODAY)
        while True:
            t = time.perf_counter()
            chunk = next(it, None)
            gen_time[0] += time.perf_counter() - t
            chunks.put(chunk)
            if chunk is None:
                return

    engine = make_engine(url)
    t0 = time.perf_counter()
    threading.Thread(target=produce, daemon=True).start()
    timings: dict[str, float] = {}
    with Session(engine) as session:
        session.info["actor"] = "bench"
        counts = bulk.load_chunks(session, iter(chunks.get, None), timings=timings)
        t_commit = time.perf_counter()
        session.commit()
        timings["commit"] = time.perf_counter() - t_commit
    wall = time.perf_counter() - t0
    engine.dispose()
    if cleanup:
        cleanup()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"backend": backend, "buildings": counts["buildings"], "parks": counts["parks"],
            "rows": sum(counts.values()), "units": counts["units"], "leases": counts["leases"],
            "generate_s": round(gen_time[0], 2), "load_s": round(sum(timings.values()), 2),
            "total_s": round(wall, 2), "peak_rss_mb": round(peak_mb),
            "load_by_table_s": {k: round(v, 2) for k, v in timings.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--buildings", type=int, default=100_000)
    ap.add_argument("--parks", type=int, default=50)
    ap.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.backend, args.buildings, args.parks)))
        return
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    results = []
    for b in backends:
        out = subprocess.run([sys.executable, __file__, "--child", "--backend", b, "--buildings", str(args.buildings),
                              "--parks", str(args.parks)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print("\n| backend | buildings | all rows | generate s | load s | wall s (pipelined) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['buildings']:,} | {r['rows']:,} | {r['generate_s']} | {r['load_s']} | "
              f"{r['total_s']} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
