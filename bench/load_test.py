"""Benchmark (issue #8): the app under gunicorn against PostGIS on 127.0.0.1, driven by locust for a
bounded time (it stops by itself).

20 concurrent users by default: three in five read the vacancy map API (county views and building
cards), two in five are park managers on stacking plans who end leases early now and then (on
leases other managers are changing too, so some writes lose races and get 409 Conflict by design).

Reports per endpoint: requests, throughput, p50/p95/p99, failures; the 5xx the server logged (from
its JSON access log); conflicts; and the database connections the workers held (sampled from
pg_stat_activity every 0.2 s).

Usage:
    python bench/load_test.py [--url postgresql+psycopg://…/db] [--buildings 20000 --parks 10]
                              [--users 20] [--duration 120] [--workers 3] [--threads 4]
Without --url a fresh database is created on TEST_PG_ADMIN_URL's server, loaded, and dropped after.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import geopandas  # noqa: F401  - the wheels before mod_spatialite

sys.path.insert(0, str(Path(__file__).resolve().parent))
from occupancy import database  # noqa: E402  - the same throwaway-database helper
from registry.core import clock  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-password"
TODAY = clock.today()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, managers: int) -> dict:
    """Manager accounts for the first parks, and the targets the locust users pick from."""
    from geoalchemy2.shape import to_shape
    from sqlalchemy import select

    from registry.core import users
    from registry.storage.db import session_scope
    from registry.core.enums import Role
    from registry.core.models import Building, Lease, Park, Unit, User
    with session_scope(url, actor="load-test") as s:
        parks = s.execute(select(Park.id, Park.name, Park.boundary).order_by(Park.id)).all()
        out = {"password": PASSWORD, "park_bboxes": [to_shape(p.boundary).bounds for p in parks], "managers": []}
        out["buildings"] = list(s.scalars(select(Building.id).order_by(Building.id).limit(5000)))
        for i, park in enumerate(parks[:managers]):
            name = f"load_mgr{i + 1}"
            if s.scalar(select(User.id).where(User.username == name)) is None:
                users.create_user(s, name, PASSWORD, Role.PARK_MANAGER, [park.id])
            buildings = list(s.scalars(select(Building.id).where(Building.park_id == park.id).limit(200)))
            leases = s.execute(select(Unit.id, Lease.id).join(Lease, Lease.unit_id == Unit.id)
                               .join(Building, Building.id == Unit.building_id)
                               .where(Building.park_id == park.id, Lease.start_date <= TODAY,
                                      Lease.end_date > TODAY + dt.timedelta(days=30))
                               .order_by(Lease.id).limit(40)).all()
            out["managers"].append({"username": name, "buildings": buildings, "leases": [tuple(x) for x in leases]})
    return out


class ConnectionSampler(threading.Thread):
    """Counts the database's client connections by state, every 0.2 s."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        self.db = make_url(url).database
        self.engine = create_engine(url, pool_size=1)
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def run(self):
        from sqlalchemy import text
        with self.engine.connect() as c:
            while not self.stop.is_set():
                rows = c.execute(text("SELECT state, count(*) FROM pg_stat_activity WHERE datname = :d "
                                      "AND pid <> pg_backend_pid() GROUP BY state"), {"d": self.db}).all()
                c.commit()
                self.samples.append({state or "none": n for state, n in rows})
                time.sleep(0.2)

    def summary(self) -> dict:
        totals = [sum(s.values()) for s in self.samples] or [0]
        active = [s.get("active", 0) for s in self.samples] or [0]
        return {"samples": len(self.samples), "max_connections": max(totals),
                "mean_connections": round(sum(totals) / len(totals), 1), "max_active": max(active),
                "mean_active": round(sum(active) / len(active), 2)}


def run(url: str, users: int, duration: int, workers: int, threads: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="load-test-"))
    targets = work / "targets.json"
    targets.write_text(json.dumps(prepare(url, managers=5)))
    port = _free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_INSTANCE_PATH": str(work / "instance")}
    server_log = open(work / "gunicorn.log", "w")
    venv_bin = Path(sys.executable).parent
    # keep-alive beyond locust's pauses: a connection closed by the server just as the client reuses it
    # is reset (nginx in front keeps its own upstream connections; docs/operations.md).
    server = subprocess.Popen([str(venv_bin / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", str(threads),
                               "--keep-alive", "30", "--graceful-timeout", "10",
                               "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "web.wsgi:app"],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not come up; see " + str(work / "gunicorn.log"))
        sampler = ConnectionSampler(url)
        sampler.start()
        t = time.perf_counter()
        subprocess.run([str(venv_bin / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(users), "-r", str(max(1, users // 4)), "-t", f"{duration}s", "--stop-timeout", "10",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "locust"), "--only-summary"],
                       env={**env, "LOAD_TARGETS": str(targets)}, check=False, capture_output=True)
        wall = time.perf_counter() - t
        sampler.stop.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=60)
        server_log.close()
    endpoints = []
    with open(work / "locust_stats.csv") as f:
        for row in csv.DictReader(f):
            endpoints.append({"endpoint": f"{row['Type']} {row['Name']}".strip(), "requests": int(row["Request Count"]),
                              "failures": int(row["Failure Count"]), "rps": round(float(row["Requests/s"]), 1),
                              "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"])})
    server_5xx = []
    for line in (work / "gunicorn.log").read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "registry.access" and entry.get("status", 0) >= 500:
                server_5xx.append(entry)
    conflicts = int((targets.parent / "targets.json.conflicts").read_text() or 0) \
        if (targets.parent / "targets.json.conflicts").exists() else None
    return {"users": users, "duration_s": duration, "wall_s": round(wall, 1), "workers": workers, "threads": threads,
            "endpoints": endpoints, "server_5xx": len(server_5xx), "conflicts_409": conflicts,
            "connections": sampler.summary(), "work_dir": str(work)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an existing, loaded PostGIS database (default: load a fresh one)")
    ap.add_argument("--buildings", type=int, default=20_000)
    ap.add_argument("--parks", type=int, default=10)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=120, help="seconds")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()
    url, drop = (a.url, lambda: None) if a.url else database("postgis")
    try:
        if not a.url:
            from registry.storage import bulk, migrate
            from registry.sample import demo
            from registry.storage.db import sessionmaker_for
            migrate.upgrade(url)
            s = sessionmaker_for(url)()
            bulk.load_chunks(s, demo.scaled_chunks(a.buildings, a.parks, TODAY))
            s.commit()
            s.close()
        result = run(url, a.users, a.duration, a.workers, a.threads)
    finally:
        from registry.storage.db import engine_for
        engine_for(url).dispose()
        drop()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print("\n| endpoint | requests | req/s | p50 | p95 | p99 (ms) | failures |\n|---|---|---|---|---|---|---|")
    for e in result["endpoints"]:
        print(f"| {e['endpoint']} | {e['requests']:,} | {e['rps']} | {e['p50_ms']:.0f} | {e['p95_ms']:.0f} | "
              f"{e['p99_ms']:.0f} | {e['failures']} |")


if __name__ == "__main__":
    main()
