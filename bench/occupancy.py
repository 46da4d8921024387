"""Benchmark (issue #3): park-management pages and Excel bulk updates at realistic size.

- a park with about 2,000 units: the stacking-plan page of its largest building and of a typical one,
  and the rent-roll export (.xlsx) — targets 300 ms and 2 s on SpatiaLite;
- a 5,000-row Excel upload in which every row changes something (renewals of let units, new leases
  on vacant ones, one new enterprise in ten) — validate (preview) and commit in under 20 s.

Pages are requested through Flask's test client in-process, so the figures are the server's time
(routing, queries, rendering), without network. Usage:
    python bench/occupancy.py [--backend spatialite|postgis] [--repeat 20]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import statistics
import tempfile
import time
import uuid

import geopandas  # noqa: F401  - the wheels before mod_spatialite

TODAY = dt.date(2026, 11, 23)


def database(backend: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    if backend == "spatialite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench-occ-')}/bench.sqlite", lambda: None
    admin_url = os.environ["TEST_PG_ADMIN_URL"]
    name = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def park_with_units(url: str, target_units: int, seed: int) -> int:
    """Loads one synthetic park with about ``target_units`` units; returns its id."""
    from registry.storage import bulk
    from registry.sample import demo
    from registry.storage.db import sessionmaker_for
    buildings = max(10, round(target_units / 6.3))  # the generator averages 6.3 units per building
    ds = demo.scaled_dataset(buildings, 1, TODAY, seed=seed)
    s = sessionmaker_for(url)()
    bulk.load(s, ds)
    s.commit()
    park_id = ds.parks[0]["id"]
    s.close()
    return park_id


def one_building_with_units(s, park_id: int, floors: int, per_floor: int) -> int:
    """A stress case: one building of floors × per_floor units, four in five let."""
    from shapely.geometry import box

    from registry.core.enums import BuildingStatus, BuildingType
    from registry.core.models import Building, Enterprise, Floor, Lease, Park, Unit
    from registry.core.validation import make_uscc
    park = s.get(Park, park_id)
    c = park.boundary
    from geoalchemy2.shape import to_shape
    x, y = to_shape(c).centroid.coords[0]
    b = Building(park_id=park_id, code="TOWER", footprint=box(x, y, x + 0.0005, y + 0.0005),
                 type=BuildingType.STANDARD_FACTORY, status=BuildingStatus.COMPLETED, floors_above=floors,
                 gfa_m2=floors * per_floor * 100.0, completion_date=dt.date(2020, 1, 1),
                 floors=[Floor(level=i, storey_height_m=4.5) for i in range(1, floors + 1)])
    s.add(b)
    s.flush()
    ents = [Enterprise(uscc=make_uscc("610902", f"TW{i:06d}"), name=f"塔楼租户{i}") for i in range(100)]
    s.add_all(ents)
    units = [Unit(building_id=b.id, floor_level=f, code=f"{f}-{j:02d}", leasable_area_m2=100.0)
             for f in range(1, floors + 1) for j in range(1, per_floor + 1)]
    s.add_all(units)
    s.flush()
    s.add_all(Lease(unit=u, enterprise=ents[i % 100], start_date=dt.date(2025, 1, 1), end_date=dt.date(2027, 1, 1),
                    rent_yuan_m2_month=10.0) for i, u in enumerate(units) if i % 5)
    s.commit()
    return b.id


def timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "max_ms": round(times[-1], 1)}


def run(backend: str, repeat: int) -> dict:
    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from registry.storage import migrate
    from registry.storage.db import sessionmaker_for
    from registry.core.enums import Role
    from registry.core.models import Building, Lease, Unit
    from registry.core.users import create_user
    from registry.core.validation import make_uscc
    from web import create_app

    url, drop = database(backend)
    migrate.upgrade(url)
    park = park_with_units(url, 2000, seed=11)
    s = sessionmaker_for(url)()
    admin = create_user(s, "bench", "bench-password", Role.ADMIN)
    s.commit()
    units = s.scalar(select(func.count(Unit.id)).join(Building).where(Building.park_id == park))
    per_building = s.execute(select(Building.id, func.count(Unit.id)).join(Unit).where(Building.park_id == park)
                             .group_by(Building.id).order_by(func.count(Unit.id).desc())).all()
    largest, typical = per_building[0], per_building[len(per_building) // 2]
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"], sess["_csrf"] = admin.id, "t"

    def get(path):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        return r

    result = {"backend": backend, "park_units": units, "largest_building_units": largest[1],
              "typical_building_units": typical[1]}
    get(f"/buildings/{largest[0]}")  # warm caches, as a running server has them
    result["stacking_largest"] = timed(lambda: get(f"/buildings/{largest[0]}?as_of={TODAY}"), repeat)
    result["stacking_typical"] = timed(lambda: get(f"/buildings/{typical[0]}?as_of={TODAY}"), repeat)
    tower = one_building_with_units(s, park, 40, 50)
    get(f"/buildings/{tower}")
    result["stacking_2000_units_one_building"] = timed(lambda: get(f"/buildings/{tower}?as_of={TODAY}"), repeat)
    result["park_page"] = timed(lambda: get(f"/parks/{park}?as_of={TODAY}"), max(3, repeat // 4))
    result["rent_roll_xlsx"] = timed(lambda: get(f"/parks/{park}/reports/rent-roll?as_of={TODAY}&format=xlsx"),
                                     max(3, repeat // 4))

    # The Excel bulk update: a park of about 5,000 units, every row changed.
    big = park_with_units(url, 5000, seed=12)
    wb = load_workbook(io.BytesIO(get(f"/parks/{big}/excel/template?as_of={TODAY}").data))
    ws = wb["房源租约"]
    rows = 0
    for i, row in enumerate(ws.iter_rows(min_row=2)):
        if row[6].value:  # a let unit: renew for two more years
            row[5].value = "续租"
            row[9].value = row[9].value + dt.timedelta(days=730)
        else:  # vacant: a new lease, one new enterprise in ten (the rest are existing tenants)
            row[5].value = "新签"
            row[6].value = make_uscc("610902", f"MA{i:06d}") if i % 10 == 0 else None
            row[7].value = f"批量新签企业{i}有限公司"
            row[8].value, row[9].value = "2027-01-01", "2029-12-31"
            row[10].value = 9.5
        rows += 1
    existing = [r[6].value for r in ws.iter_rows(min_row=2) if r[5].value == "续租"]
    for i, row in enumerate(r for r in ws.iter_rows(min_row=2) if r[5].value == "新签" and not r[6].value):
        row[6].value = existing[i % len(existing)]
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    leases_before = s.scalar(select(func.count(Lease.id)))
    t = time.perf_counter()
    resp = client.post(f"/parks/{big}/excel/preview", data={"csrf_token": "t", "file": (io.BytesIO(data), "b.xlsx")},
                       content_type="multipart/form-data")
    t_preview = time.perf_counter() - t
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200, re.findall(r"<tr><td>房源租约</td>.*?</tr>", text)[:5]
    token = re.search(r'name="token" value="([0-9a-f]{64})"', text)[1]
    t = time.perf_counter()
    resp = client.post(f"/parks/{big}/excel/commit", data={"csrf_token": "t", "token": token})
    t_commit = time.perf_counter() - t
    assert resp.status_code == 302
    written = s.scalar(select(func.count(Lease.id))) - leases_before
    result["excel"] = {"rows": rows, "new_leases_written": written, "preview_s": round(t_preview, 2),
                       "commit_s": round(t_commit, 2), "total_s": round(t_preview + t_commit, 2)}
    s.close()
    drop()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", choices=["spatialite", "postgis"], default="spatialite")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    print(json.dumps(run(args.backend, args.repeat), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
