"""Benchmark (issue #5, engine part): scoring 100,000 synthetic enterprises with a preset, against a
numpy computation of the same scores (the floor), and the result workbook.

Usage: python bench/evaluation.py [--n 100000] [--ruleset huangyan-2022]
The registry-backed run (load from the database, store results) is not measured yet.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import time

import numpy as np


def synthetic(n: int, seed: int = 5):
    from registry.evaluation.engine import EnterpriseInput
    from registry.validation import make_uscc
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--ruleset", default="huangyan-2022")
    a = ap.parse_args()
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
