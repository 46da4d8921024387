"""Evaluation from the registry: inputs read from plots, leases and indicators, and stored runs.

Land per enterprise (亩):
- own land: the certificate (or computed) area of plots it holds, supplied by the end of the year;
- tenants without own land, by the rule set's ``scope.tenants``:
  - ``separate``: listed apart, not scored (Cixi's 租赁企业 list);
  - ``apportion``: Σ over its leased units of plot area × unit area ÷ building GFA (the formula with
    its numbers is stored in the result);
  - ``merge``: its indicators are added to its landlord's (the plot holder) and it shares the
    landlord's result (Suichang practice).

A run copies the rule set, records the inputs' fingerprint and every result, and is immutable:
changing or deleting a stored run or result is refused.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (AnnualIndicator, Building, Enterprise, EnterpriseTagLink, EvaluationResult, EvaluationRun,
                      Lease, Park, Plot, Unit)
from ..validation import Problem, ValidationError
from . import engine
from .rulesets import RuleSet

TENANT_STRATEGIES = ("separate", "apportion", "merge")


def records_from_registry(session: Session, rs: RuleSet, year: int, park_id: int | None = None) -> list[engine.EnterpriseInput]:
    """The evaluation inputs of every enterprise with indicators for ``year`` (in one park, or all)."""
    strategy = rs.scope.get("tenants", "separate")
    if strategy not in TENANT_STRATEGIES:
        raise ValidationError(Problem("ruleset.scope.tenants", f"{strategy!r} is unknown", " / ".join(TENANT_STRATEGIES)))
    year_end = dt.date(year, 12, 31)
    indicators = {i.enterprise_id: i for i in session.scalars(select(AnnualIndicator).where(AnnualIndicator.year == year))}
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(indicators)))}
    parks = dict(session.execute(select(Park.id, Park.name)).all())
    own = defaultdict(float)
    own_park = {}
    for plot in session.scalars(select(Plot).where(Plot.holder_id.in_(ents), Plot.supply_date <= year_end)):
        if park_id is None or plot.park_id == park_id:
            own[plot.holder_id] += plot.area_mu
            own_park[plot.holder_id] = parks[plot.park_id]
    # Leases in force at the end of the year, with the plot and building they stand in.
    leases = session.execute(
        select(Lease.enterprise_id, Unit.leasable_area_m2, Building.gfa_m2, Building.park_id, Plot)
        .join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
        .outerjoin(Plot, Plot.id == Building.plot_id)
        .where(Lease.enterprise_id.in_(ents), Lease.start_date <= year_end, Lease.end_date > year_end)).all()
    tenancy = defaultdict(list)
    for eid, area, gfa, pid, plot in leases:
        if park_id is None or pid == park_id:
            tenancy[eid].append((area, gfa, plot, parks[pid]))
    tags = defaultdict(list)
    for link in session.scalars(select(EnterpriseTagLink).where(EnterpriseTagLink.enterprise_id.in_(ents))):
        tags[link.enterprise_id].append(link.tag.value)

    base: dict[int, dict] = {}
    for eid, e in ents.items():
        if eid not in own and eid not in tenancy:
            continue  # not in this park
        ind = indicators[eid]
        base[eid] = dict(
            uscc=e.uscc, name=e.name, industry_code=e.industry_code or "", above_scale=e.above_scale,
            land_mu=own.get(eid), tax_wan=ind.tax_paid_wan, value_added_wan=ind.value_added_wan,
            revenue_wan=ind.revenue_wan, energy_tce=ind.energy_tce, electricity_kwh=ind.electricity_kwh,
            natural_gas_m3=ind.natural_gas_m3, coal_t=ind.coal_t, emissions_t=ind.emissions_t, rnd_wan=ind.rnd_wan,
            employees=ind.employees_avg, tags=tuple(sorted(tags[eid])), park=own_park.get(eid) or tenancy[eid][0][3],
            years_in_production=None if e.production_start is None else year - e.production_start.year + 1,
            own_land=eid in own, land_formula=(f"自有地块 {own[eid]:.2f} 亩" if eid in own else None))
    merged_into: dict[int, int] = {}
    for eid, rec in base.items():
        if rec["own_land"] or not tenancy[eid]:
            continue
        if strategy == "apportion":
            parts, total = [], 0.0
            for area, gfa, plot, _ in tenancy[eid]:
                if plot is None:
                    continue
                share = plot.area_mu * area / gfa
                total += share
                parts.append(f"{plot.area_mu:.2f} 亩 × {area:.0f} ㎡ ÷ {gfa:.0f} ㎡")
            rec["land_mu"] = total or None
            rec["own_land"] = True  # scored with its apportioned land
            rec["land_formula"] = f"按租赁面积分摊：{' + '.join(parts)} = {total:.2f} 亩" if parts else "所租楼栋无地块，无法分摊"
        elif strategy == "merge":
            landlords = [plot.holder_id for _, _, plot, _ in tenancy[eid] if plot is not None and plot.holder_id in base]
            if landlords:
                merged_into[eid] = landlords[0]
    for tenant, landlord in merged_into.items():
        t, l = base[tenant], base[landlord]
        for key in ("tax_wan", "value_added_wan", "revenue_wan", "energy_tce", "electricity_kwh", "natural_gas_m3",
                    "coal_t", "emissions_t", "rnd_wan", "employees"):
            if t[key] is not None:
                l[key] = (l[key] or 0) + t[key]
        l["land_formula"] = (l["land_formula"] or "") + f"；并入租户 {t['name']} 的数据"
        t["land_mu"], t["own_land"] = None, False
        t["land_formula"] = f"与房东 {l['name']} 合并评价，共享其结果"
    return [engine.EnterpriseInput(**rec) for rec in base.values()]


def run_and_store(session: Session, rs: RuleSet, year: int, *, actor: str, park_id: int | None = None) -> EvaluationRun:
    """Evaluates from the registry and stores the run with every result; the caller commits."""
    records = records_from_registry(session, rs, year, park_id)
    result = engine.evaluate(rs, records)
    ids = dict(session.execute(select(Enterprise.uscc, Enterprise.id).where(
        Enterprise.uscc.in_([r.uscc for r in result.results]))).all())
    land = {r.uscc: r.land_mu for r in records}
    run = EvaluationRun(ruleset_id=rs.id, ruleset=rs.raw, year=year, scope=f"park:{park_id}" if park_id else "all",
                        fingerprint=result.fingerprint, created_at=dt.datetime.now(dt.timezone.utc), created_by=actor)
    run.results = [EvaluationResult(enterprise_id=ids.get(r.uscc), uscc=r.uscc, name=r.name, park=r.park, pool=r.pool,
                                    total=r.total, rank=r.rank, klass=r.klass, land_mu=land.get(r.uscc),
                                    items=[asdict(i) for i in r.items], reasons=r.reasons) for r in result.results]
    session.add(run)
    session.flush()
    return run
