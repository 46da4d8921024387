"""Benchmark (issue #5): 亩均 evaluation of 100,000 synthetic enterprises.

- in memory: scoring with a preset against a numpy computation of the same scores (the floor), and
  the result workbook;
- from the registry (``--backend spatialite|postgis``): the enterprises, one plot each and a year of
  indicators are loaded into a fresh database by one process; a second, fresh process then runs
  the evaluation as the CLI and the web page do (read land and indicators, score, classify, store
  the run and its 100k results, commit), and reports its wall time and peak memory.

Usage: python bench/evaluation.py [--n 100000] [--ruleset huangyan-2022] [--backend spatialite|postgis]
PostGIS needs TEST_PG_ADMIN_URL (as the test suite does).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import time

import geopandas  # noqa: F401  - the wheels before mod_spatialite
import numpy as np


def synthetic(n: int, seed: int = 5):
    from registry.evaluation.engine import EnterpriseInput
    from registry.core.validation import make_uscc
    rng = random.Random(seed)
    out = []
    for i in range(n):
        above = rng.random() < 0.35
        rev = rng.lognormvariate(9 if above else 6.5, 0.9)
        land = max(0.5, rng.lognormvariate(2.7, 0.7))
        out.append(EnterpriseInput(
            uscc=make_uscc("330000", f"{i:08d}"), name=f"企业{i}", industry_code=rng.choice(["3311", "3899", "2929", "3411"]),
            above_scale=above, land_mu=land, tax_wan=rev * rng.uniform(0.01, 0.06), value_added_wan=rev * rng.uniform(0.15, 0.3),
            revenue_wan=rev, energy_tce=rev * rng.uniform(0.02, 0.3), electricity_kwh=None,
            emissions_t=rev * rng.uniform(1e-5, 1e-3) if rng.random() < 0.9 else None, rnd_wan=rev * rng.uniform(0, 0.05),
            employees=max(5, rev / rng.uniform(40, 120))))
    return out


def numpy_floor(rs, records):
    """The 规上 pool's scores as array arithmetic: the least any implementation must do."""
    pool = rs.pools[0]
    sel = [r for r in records if r.above_scale and r.land_mu]
    cols = {
        "tax_per_mu": np.array([r.tax_wan / r.land_mu for r in sel]),
        "value_added_per_mu": np.array([r.value_added_wan / r.land_mu for r in sel]),
        "value_added_per_energy": np.array([r.value_added_wan / r.energy_tce for r in sel]),
        "value_added_per_emission": np.array([r.value_added_wan / r.emissions_t if r.emissions_t else np.nan for r in sel]),
        "labour_productivity": np.array([r.value_added_wan / r.employees for r in sel]),
        "rnd_share": np.array([r.rnd_wan / r.revenue_wan for r in sel]),
    }
    t = time.perf_counter()
    total = np.zeros(len(sel))
    for ind in pool.indicators:
        s = cols[ind.key] / ind.benchmark["fixed"] * ind.weight
        s = np.where(np.isnan(s), np.nanmean(s), s)
        total += s
    order = np.argsort(-total, kind="stable")
    _classes = np.searchsorted(np.cumsum([20, 40, 35, 5]) / 100, np.arange(len(order)) / len(order), side="right")
    return time.perf_counter() - t


YEAR = 2022


def registry_dataset(n: int):
    """n enterprises, each on its own supplied plot (a small square) in one of 20 parks, with
    indicators for YEAR drawn like ``synthetic``."""
    import datetime as dt

    from shapely.geometry import MultiPolygon, box

    from registry.storage.bulk import Dataset
    ds = Dataset()
    ds.jurisdictions.append({"code": "331003", "name": "台州市黄岩区", "parent_code": None})
    for p in range(20):
        ds.parks.append({"id": p + 1, "name": f"测试园区{p + 1:02d}", "level": "county", "jurisdiction_code": "331003",
                         "operator": None, "boundary": MultiPolygon([box(121.0, 28.5, 122.0, 29.6)]), "planned_area_mu": None, "built_area_mu": None,
                         "contact_name": None, "contact_phone": None, "hide_rents": False, "version": 1})
    for i, rec in enumerate(synthetic(n), start=1):
        ds.enterprises.append({"id": i, "uscc": rec.uscc, "name": rec.name, "industry_code": rec.industry_code,
                               "above_scale": rec.above_scale, "production_start": dt.date(2010, 1, 1), "version": 1})
        x, y = 121.0 + (i % 300) * 0.003, 28.5 + (i // 300) * 0.003
        ds.plots.append({"id": i, "park_id": i % 20 + 1, "code": f"P{i:06d}", "geom": MultiPolygon([box(x, y, x + 0.002, y + 0.002)]),
                         "certificate_area_m2": rec.land_mu * 10000 / 15, "computed_area_m2": rec.land_mu * 10000 / 15,
                         "land_use": "industrial", "rights_type": "transfer", "holder_id": i, "certificate_no": None,
                         "supply_date": dt.date(2015, 1, 1), "supply_price_wan": None, "status": "supplied", "version": 1})
        ds.indicators.append({"id": i, "enterprise_id": i, "year": YEAR, "revenue_wan": rec.revenue_wan,
                              "value_added_wan": rec.value_added_wan, "tax_paid_wan": rec.tax_wan,
                              "electricity_kwh": None, "natural_gas_m3": None, "coal_t": None,
                              "energy_tce": rec.energy_tce, "emissions_t": rec.emissions_t, "rnd_wan": rec.rnd_wan,
                              "employees_avg": rec.employees})
    return ds


def _load(url: str, n: int) -> None:
    from registry.storage import bulk, migrate
    from registry.storage.db import sessionmaker_for
    migrate.upgrade(url)
    s = sessionmaker_for(url)()
    bulk.load(s, registry_dataset(n))
    s.commit()
    if url.startswith("postgresql"):
        from sqlalchemy import text
        with s.get_bind().connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def _evaluate(url: str, ruleset: str) -> dict:
    from registry.storage.db import session_scope
    from registry.evaluation import rulesets, runs
    rs = rulesets.load(ruleset)
    t = time.perf_counter()
    with session_scope(url, actor="bench") as session:
        run = runs.run_and_store(session, rs, YEAR, actor="bench")
        counts = {k or "—": n for k, n in runs.class_counts(session, run).items()}
    wall = time.perf_counter() - t
    return {"run_s": round(wall, 2), "results": sum(counts.values()), "classes": counts,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def registry_run(backend: str, n: int, ruleset: str) -> dict:
    import subprocess
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from occupancy import database
    url, drop = database(backend)
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--stage", "load", "--url", url, "--n", str(n)], check=True)
        load_s = time.perf_counter() - t
        out = subprocess.run([sys.executable, __file__, "--stage", "evaluate", "--url", url, "--ruleset", ruleset],
                             check=True, capture_output=True, text=True).stdout
        return {"backend": backend, "enterprises": n, "load_s": round(load_s, 1), **json.loads(out)}
    finally:
        drop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--ruleset", default="huangyan-2022")
    ap.add_argument("--backend", choices=["spatialite", "postgis"], help="measure the registry-backed run")
    ap.add_argument("--stage", choices=["load", "evaluate"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stage == "load":
        return _load(a.url, a.n)
    if a.stage == "evaluate":
        return print(json.dumps(_evaluate(a.url, a.ruleset)))
    if a.backend:
        return print(json.dumps(registry_run(a.backend, a.n, a.ruleset), ensure_ascii=False))
    from registry.evaluation import engine, filemode, rulesets
    rs = rulesets.load(a.ruleset)
    records = synthetic(a.n)
    t = time.perf_counter()
    run = engine.evaluate(rs, records)
    t_score = time.perf_counter() - t
    t = time.perf_counter()
    data = filemode.write(run, rs)
    t_xlsx = time.perf_counter() - t
    floor = numpy_floor(rs, records)
    print(json.dumps({"enterprises": a.n, "score_classify_s": round(t_score, 2), "numpy_floor_s": round(floor, 4),
                      "ratio": round(t_score / floor), "xlsx_s": round(t_xlsx, 2), "xlsx_mb": round(len(data) / 2**20, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
