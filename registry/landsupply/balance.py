"""A park's land balance: what is left to supply, what was supplied each year, idle plots, and
low-efficiency land (腾笼换鸟 candidates), as rows for the page, the map and the .xlsx export.

- Idle (闲置): supplied plots with nothing built (no building, or only planned ones) once the agreed
  start deadline plus one year has passed (闲置土地处置办法: 超过约定动工日期满一年未动工). The start
  deadline is the plot's own 开工 obligation if it has one, else the table's ``deadlines.start`` months
  after supply, else one year; and any plot marked idle.
- Low-efficiency (低效): plots held by enterprises in the last class of the latest evaluation that
  covers the park, and the land apportioned to last-class tenants when that evaluation used the
  ``apportion`` tenant strategy.

Who holds a plot is the park's private data, and the evaluation's classes are evaluation results:
a reader who may not see them (``registry.core.authz.Audience``) gets the balance without them.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..core.authz import EVERYTHING, Audience
from ..core.enums import BuildingStatus, PlotStatus
from ..evaluation.runs import class_names
from ..core.models import Building, Enterprise, EvaluationResult, Park, Plot
from ..core.tabular import Column, Table
from . import tables
from .calc import add_months
from .service import latest_run


def land_balance(session: Session, park_id: int, day: dt.date, audience: Audience = EVERYTHING) -> dict:
    """The park's balance on ``day``: totals, supply by year, and the plot rows by category; plot
    holders only for the park's own readers, low-efficiency land only for readers of its evaluation
    results (``evaluation_hidden`` says it was left out)."""
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    table = tables.for_jurisdiction(park.jurisdiction_code)
    start_months = table.deadlines.get("start", 12)
    plots = session.scalars(select(Plot).where(Plot.park_id == park_id).order_by(Plot.code)
                            .options(selectinload(Plot.obligations))).all()
    built = {pid for pid, in session.execute(select(Building.plot_id).where(
        Building.park_id == park_id, Building.plot_id.is_not(None), Building.status != BuildingStatus.PLANNED))}
    holders = dict(session.execute(select(Enterprise.id, Enterprise.name).join(Plot, Plot.holder_id == Enterprise.id)
                                   .where(Plot.park_id == park_id)).all()) if audience.private(park_id) else {}
    hidden = not audience.evaluation(park_id)
    run = None if hidden else latest_run(session, park)
    last = class_names(run.ruleset)[-1] if run else None
    low_class = {}
    tenants = []
    if run:
        for res in session.scalars(select(EvaluationResult).where(EvaluationResult.run_id == run.id,
                                                                  EvaluationResult.klass == last)):
            if res.enterprise_id is not None:
                low_class[res.enterprise_id] = res
            formula = (res.inputs or {}).get("land_formula") or ""
            if res.park == park.name and formula.startswith("按租赁面积分摊") and res.land_mu:
                tenants.append({"category": "low_efficiency", "category_label": "低效用地（租户分摊）", "plot_id": None,
                                "code": "—", "area_mu": res.land_mu, "holder": res.name, "klass": res.klass,
                                "supply_date": None, "reason": f"{run.year} 年度评价 {res.klass} 类租户：{formula}"})
    rows, by_year = [], defaultdict(lambda: [0, 0.0])
    unsupplied = supplied = 0.0
    for p in plots:
        area = p.area_mu
        base = {"plot_id": p.id, "code": p.code, "area_mu": area, "holder": holders.get(p.holder_id),
                "supply_date": p.supply_date.isoformat() if p.supply_date else None, "klass": None}
        if p.supply_date is None or p.status == PlotStatus.UNSUPPLIED:
            unsupplied += area
            rows.append({**base, "category": "unsupplied", "category_label": "未供应", "reason": "尚未供地"})
            continue
        supplied += area
        by_year[p.supply_date.year][0] += 1
        by_year[p.supply_date.year][1] += area
        start = next((o.deadline for o in p.obligations if "开工" in o.indicator and o.deadline), None)
        start = start or add_months(p.supply_date, start_months)
        idle_from = add_months(start, 12)
        if p.status == PlotStatus.IDLE or (p.id not in built and idle_from <= day):
            rows.append({**base, "category": "idle", "category_label": "闲置",
                         "reason": "已标记为闲置" if p.status == PlotStatus.IDLE else
                         f"约定开工日期 {start} 满一年（{idle_from}）未动工"})
        if p.holder_id in low_class:
            res = low_class[p.holder_id]
            rows.append({**base, "category": "low_efficiency", "category_label": "低效用地", "klass": res.klass,
                         "reason": f"{run.year} 年度亩均评价 {res.klass} 类（{res.pool}，组内第 {res.rank} 名）"})
    rows += tenants
    return {
        "park": {"id": park.id, "name": park.name}, "day": day.isoformat(), "table": table.id,
        "supplied_mu": supplied, "unsupplied_mu": unsupplied, "plots": len(plots),
        "by_year": [{"year": y, "plots": n, "area_mu": a} for y, (n, a) in sorted(by_year.items())],
        "idle_mu": sum(r["area_mu"] for r in rows if r["category"] == "idle"),
        "low_efficiency_mu": sum(r["area_mu"] for r in rows if r["category"] == "low_efficiency"),
        "evaluation": {"run_id": run.id, "year": run.year, "class": last} if run else None,
        "evaluation_hidden": hidden,
        "rows": rows,
    }


def balance_geojson(session: Session, balance: dict) -> dict:
    """The balance's plots (unsupplied, idle, low-efficiency) as a GeoJSON mapping for the page's map
    (the page escapes it into its script block with ``tojson``)."""
    ids = {r["plot_id"] for r in balance["rows"] if r["plot_id"]}
    geoms = {p.id: p.geom for p in session.scalars(select(Plot).where(Plot.id.in_(ids)))} if ids else {}
    features = [{"type": "Feature", "properties": {"code": r["code"], "category": r["category"],
                                                   "label": r["category_label"], "holder": r["holder"],
                                                   "area_mu": round(r["area_mu"], 2)},
                 "geometry": mapping(to_shape(geoms[r["plot_id"]]))}
                for r in balance["rows"] if r["plot_id"] in geoms]
    return {"type": "FeatureCollection", "features": features}


def balance_table(balance: dict) -> Table:
    """The plot rows as a table for .xlsx / CSV."""
    cols = [Column("category_label", "类别", width=16), Column("code", "地块编号", width=14),
            Column("area_mu", "面积(亩)", "0.00"), Column("holder", "权利人/企业", width=28), Column("klass", "评价等级", width=8),
            Column("supply_date", "供地日期", width=12), Column("reason", "原因", width=50)]
    notes = [f"已供应 {balance['supplied_mu']:.2f} 亩；未供应 {balance['unsupplied_mu']:.2f} 亩；闲置 {balance['idle_mu']:.2f} 亩；"
             f"低效 {balance['low_efficiency_mu']:.2f} 亩"]
    notes += [f"{y['year']} 年供地 {y['plots']} 宗 {y['area_mu']:.2f} 亩" for y in balance["by_year"]]
    fills = {"low_efficiency": "F8CBAD", "idle": "FCE4A6", "unsupplied": "EDEDED"}
    return Table(f"{balance['park']['name']} 土地利用台账（{balance['day']}）", cols, balance["rows"], notes=notes,
                 fill_key="category", fills=fills)
