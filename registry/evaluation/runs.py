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
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.area import m2_to_mu

from ..storage import bulk
from ..core.enums import LandUse
from ..core.authz import Audience
from ..core.models import (AnnualIndicator, Building, Enterprise, EnterpriseTagLink, EvaluationResult, EvaluationRun,
                           Jurisdiction, Lease, Park, Plot, Unit)
from ..core.validation import Problem, ValidationError
from . import engine
from . import parks as parks_mod
from .rulesets import RuleSet
from ..core import clock

TENANT_STRATEGIES = ("separate", "apportion", "merge")


@dataclass(frozen=True)
class _LandlordPlot:
    holder_id: int | None
    area_mu: float


def records_from_registry(session: Session, rs: RuleSet, year: int, park_id: int | None = None) -> list[engine.EnterpriseInput]:
    """The evaluation inputs of every enterprise with indicators for ``year`` (in one park, or all)."""
    strategy = rs.scope.get("tenants", "separate")
    if strategy not in TENANT_STRATEGIES:
        raise ValidationError(Problem("ruleset.scope.tenants", f"{strategy!r} is unknown", " / ".join(TENANT_STRATEGIES)))
    year_end = dt.date(year, 12, 31)
    # Set-based, not lists of ids: a province has 100,000 enterprises (more than SQLite's bind limit).
    evaluated = select(AnnualIndicator.enterprise_id).where(AnnualIndicator.year == year)
    parks = dict(session.execute(select(Park.id, Park.name)).all())
    own = defaultdict(float)
    own_park = {}
    for holder, pid, area_m2 in session.execute(
            select(Plot.holder_id, Plot.park_id, Plot.area_m2)
            .where(Plot.holder_id.in_(evaluated), Plot.supply_date <= year_end)):
        if park_id is None or pid == park_id:
            own[holder] += m2_to_mu(area_m2)
            own_park[holder] = parks[pid]
    # Leases in force at the end of the year, with the plot and building they stand in.
    leases = session.execute(
        select(Lease.enterprise_id, Unit.leasable_area_m2, Building.gfa_m2, Building.park_id, Plot.holder_id,
               Plot.area_m2)
        .join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
        .outerjoin(Plot, Plot.id == Building.plot_id)
        .where(Lease.enterprise_id.in_(evaluated), Lease.start_date <= year_end, Lease.end_date > year_end)).all()
    tenancy = defaultdict(list)
    for eid, area, gfa, pid, holder, plot_m2 in leases:
        if park_id is None or pid == park_id:
            plot = None if plot_m2 is None else _LandlordPlot(holder, m2_to_mu(plot_m2))
            tenancy[eid].append((area, gfa, plot, parks[pid]))
    tags = defaultdict(list)
    for eid, tag in session.execute(select(EnterpriseTagLink.enterprise_id, EnterpriseTagLink.tag)
                                    .where(EnterpriseTagLink.enterprise_id.in_(evaluated))):
        tags[eid].append(tag.value)

    base: dict[int, dict] = {}
    for (eid, uscc, name, industry, above, started, tax, va, revenue, tce, kwh, gas, coal, emissions, rnd,
         staff) in session.execute(
            select(Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.industry_code, Enterprise.above_scale,
                   Enterprise.production_start, AnnualIndicator.tax_paid_wan, AnnualIndicator.value_added_wan,
                   AnnualIndicator.revenue_wan, AnnualIndicator.energy_tce, AnnualIndicator.electricity_kwh,
                   AnnualIndicator.natural_gas_m3, AnnualIndicator.coal_t, AnnualIndicator.emissions_t,
                   AnnualIndicator.rnd_wan, AnnualIndicator.employees_avg)
            .join(AnnualIndicator, AnnualIndicator.enterprise_id == Enterprise.id).where(AnnualIndicator.year == year)):
        if eid not in own and eid not in tenancy:
            continue  # not in this park
        base[eid] = dict(
            uscc=uscc, name=name, industry_code=industry or "", above_scale=above,
            land_mu=own.get(eid), tax_wan=tax, value_added_wan=va, revenue_wan=revenue, energy_tce=tce,
            electricity_kwh=kwh, natural_gas_m3=gas, coal_t=coal, emissions_t=emissions, rnd_wan=rnd,
            employees=staff, tags=tuple(sorted(tags[eid])), park=own_park.get(eid) or tenancy[eid][0][3],
            years_in_production=None if started is None else year - started.year + 1,
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


def park_land(session: Session, rs: RuleSet, year: int, park_id: int | None = None) -> dict[str, float | None]:
    """Each park's land in 亩 on the rule set's basis (registry.evaluation.parks)."""
    basis, _ = parks_mod.settings(rs.raw)
    year_end = dt.date(year, 12, 31)
    stmt = select(Park.id, Park.name, Park.built_area_mu)
    if park_id is not None:
        stmt = stmt.where(Park.id == park_id)
    rows = session.execute(stmt).all()
    if basis == "built_up":
        return {name: built for _, name, built in rows}
    if basis == "enterprises":
        return {}
    supplied = defaultdict(float)
    for pid, area_m2 in session.execute(select(Plot.park_id, Plot.area_m2)
                                        .where(Plot.land_use == LandUse.INDUSTRIAL, Plot.supply_date <= year_end)):
        supplied[pid] += m2_to_mu(area_m2)
    return {name: supplied.get(pid) or None for pid, name, _ in rows}


def run_and_store(session: Session, rs: RuleSet, year: int, *, actor: str, park_id: int | None = None) -> EvaluationRun:
    """Evaluates from the registry and stores the run with every result and the park figures; the
    caller commits. The run is audited as one record; its results are written in bulk beside it."""
    with bulk.collector_paused():
        records = records_from_registry(session, rs, year, park_id)
        result = engine.evaluate(rs, records)
        ids = dict(session.execute(select(Enterprise.uscc, Enterprise.id).where(
            Enterprise.id.in_(select(AnnualIndicator.enterprise_id).where(AnnualIndicator.year == year)))).all())
        by_uscc = {r.uscc: r for r in records}
        figures = parks_mod.park_figures(result.results, by_uscc, class_names(rs.raw), rs.raw,
                                         park_land(session, rs, year, park_id))
        run = EvaluationRun(ruleset_id=rs.id, ruleset=rs.raw, year=year, scope=f"park:{park_id}" if park_id else "all",
                            fingerprint=result.fingerprint, created_at=clock.now(),
                            created_by=actor, parks=figures)
        session.add(run)
        session.flush()
        # A generator: the rows are streamed to the database as they are made (see bulk.write_rows).
        # vars(), not asdict(): items are flat, and asdict's deep copy took 14 s for 100k results.
        bulk.write_rows(session, EvaluationResult.__table__, (
            {"run_id": run.id, "enterprise_id": ids.get(r.uscc), "uscc": r.uscc, "name": r.name, "park": r.park,
             "pool": r.pool, "total": r.total, "bonus": r.bonus, "penalty": r.penalty, "rank": r.rank,
             "klass": r.klass, "land_mu": by_uscc[r.uscc].land_mu, "items": [vars(i) for i in r.items],
             "reasons": r.reasons, "inputs": _inputs_json(by_uscc[r.uscc])} for r in result.results))
        session.expire(run, ["results"])
    return run


def _inputs_json(rec: engine.EnterpriseInput) -> dict:
    """The record's fields, leaving out those it does not have (None: the field's default, as
    ``EnterpriseInput`` and every reader assume; a third of the document for a typical firm)."""
    out = {k: v for k, v in vars(rec).items() if v is not None}
    out["tags"] = list(rec.tags)
    return out


def class_names(ruleset_raw: dict) -> list[str]:
    """The rule set's classes, best first (A, B, C, D)."""
    cls = ruleset_raw.get("classification") or {}
    return [c for c, _ in (cls.get("splits") or cls.get("thresholds") or [])]


def create_run(session: Session, *, ruleset: str | None, ruleset_text: str | None = None, year: int | None = None,
               park_id: int | None = None, actor: str) -> EvaluationRun:
    """A run from a preset id or an uploaded rule set (TOML text) for a year (default: the rule
    set's) over all parks or one; the caller commits. Every bad choice is named in one ValidationError."""
    from . import rulesets
    if ruleset_text:
        rs = rulesets.loads(ruleset_text)
    elif ruleset in rulesets.preset_ids():
        rs = rulesets.load(ruleset)
    else:
        raise ValidationError(Problem("ruleset", f"{ruleset!r} is no preset", " / ".join(rulesets.preset_ids())
                                      + ", or upload a rule-set file"))
    year = year or rs.year
    if park_id is not None and session.get(Park, park_id) is None:
        raise ValidationError(Problem("park", f"no park #{park_id}", "a park of the registry, or all parks"))
    if session.scalar(select(AnnualIndicator.id).where(AnnualIndicator.year == year).limit(1)) is None:
        raise ValidationError(Problem("year", f"no enterprise has annual indicators for {year}",
                                      "a year whose indicators have been entered"))
    return run_and_store(session, rs, year, actor=actor, park_id=park_id)


# Reading stored runs ----------------------------------------------------------------------------

def runs_list(session: Session) -> list[EvaluationRun]:
    """Every stored run, newest first."""
    return list(session.scalars(select(EvaluationRun).order_by(EvaluationRun.year.desc(), EvaluationRun.id.desc())))


def get_run(session: Session, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise LookupError(f"no evaluation run #{run_id}")
    return run


def as_engine_run(run: EvaluationRun) -> engine.Run:
    """The stored run in the engine's form (what the exports are written from)."""
    results = []
    for r in run.results:
        results.append(engine.Result(r.uscc, r.name, r.park, r.pool, [engine.Item(**i) for i in r.items],
                                     bonus=r.bonus or 0.0, penalty=r.penalty or 0.0, total=r.total, rank=r.rank,
                                     klass=r.klass, reasons=list(r.reasons)))
    sizes = defaultdict(int)
    for res in results:
        if res.pool and res.rank:
            sizes[res.pool] += 1
    for res in results:
        res.pool_size = sizes.get(res.pool) if res.pool else None
    return engine.Run(run.ruleset, run.year, run.fingerprint, results)


def class_counts(session: Session, run: EvaluationRun) -> dict[str | None, int]:
    """How many results of the run are in each class (None: listed apart or not evaluated)."""
    return dict(session.execute(select(EvaluationResult.klass, func.count()).where(EvaluationResult.run_id == run.id)
                                .group_by(EvaluationResult.klass)).all())


def class_summary(session: Session, run: EvaluationRun) -> list[tuple[str | None, list[int], int, int]]:
    """Per pool (then None: not evaluated or listed apart): the count in each class, best first,
    the count without one of those classes (T or none), and the pool's total. Counted in SQL: a
    province's run has 100,000 results."""
    counts = dict(((pool, klass), n) for pool, klass, n in session.execute(
        select(EvaluationResult.pool, EvaluationResult.klass, func.count()).where(EvaluationResult.run_id == run.id)
        .group_by(EvaluationResult.pool, EvaluationResult.klass)))
    classes = class_names(run.ruleset)
    out = []
    for pool in [p["name"] for p in run.ruleset.get("pools", [])] + [None]:
        per_class = [counts.get((pool, c), 0) for c in classes]
        total = sum(n for (p, _), n in counts.items() if p == pool)
        out.append((pool, per_class, total - sum(per_class), total))
    return out


def visible_parks(session: Session, audience: Audience) -> set[str] | None:
    """The parks (by name, as results name them) whose enterprises' results ``audience`` may read;
    None: every result, including those of enterprises in no park."""
    if audience.evaluation_parks is None:
        return None
    ids = audience.evaluation_parks
    return set(session.scalars(select(Park.name).where(Park.id.in_(ids)))) if ids else set()


def result_parks(session: Session, run: EvaluationRun, parks: set[str] | None = None) -> list[str]:
    """The parks named in the run's results (for the ranking's filter), of ``parks`` only if given."""
    names = session.scalars(select(EvaluationResult.park).where(EvaluationResult.run_id == run.id,
                                                                EvaluationResult.park.is_not(None))
                            .distinct().order_by(EvaluationResult.park))
    return [n for n in names if parks is None or n in parks]


def get_result(session: Session, run: EvaluationRun, uscc: str, parks: set[str] | None = None) -> EvaluationResult:
    """One enterprise's result in the run; LookupError if it has none (or none in ``parks``)."""
    result = session.scalars(select(EvaluationResult).where(EvaluationResult.run_id == run.id,
                                                            EvaluationResult.uscc == uscc)).first()
    if result is None or (parks is not None and result.park not in parks):
        raise LookupError(f"no result for {uscc} in run #{run.id}")
    return result


def prior_run(session: Session, run: EvaluationRun) -> EvaluationRun | None:
    """The latest run of the previous year over the same scope (for year-over-year change)."""
    return session.scalars(select(EvaluationRun).where(EvaluationRun.scope == run.scope,
                                                       EvaluationRun.year == run.year - 1)
                           .order_by(EvaluationRun.id.desc()).limit(1)).first()


def park_ranking(session: Session, run: EvaluationRun) -> list[dict]:
    """The run's park figures, ranked, with the change since the previous year's run."""
    prior = prior_run(session, run)
    return parks_mod.with_change(run.parks or [], prior.parks if prior else None)


def ranking(session: Session, run: EvaluationRun, *, pool: str | None = None, park: str | None = None,
            jurisdiction: str | None = None, industry: str | None = None, klass: str | None = None,
            text: str | None = None, parks: set[str] | None = None) -> list[EvaluationResult]:
    """The run's results matching the filters, by pool then rank (not evaluated last); of the
    enterprises in ``parks`` only, if given (``visible_parks``).

    ``industry`` matches the start of the GB/T 4754 code (a 门类 letter is not stored; use 大类
    digits such as 33); ``jurisdiction`` is a jurisdiction's name or code: the enterprises of the
    parks under it; ``text`` finds a name or credit code."""
    stmt = select(EvaluationResult).where(EvaluationResult.run_id == run.id)
    if parks is not None:
        stmt = stmt.where(EvaluationResult.park.in_(parks))
    if pool:
        stmt = stmt.where(EvaluationResult.pool == pool)
    if park:
        stmt = stmt.where(EvaluationResult.park == park)
    if klass:
        stmt = stmt.where(EvaluationResult.klass == klass)
    if text:
        like = f"%{text.strip()}%"
        stmt = stmt.where(EvaluationResult.name.like(like) | EvaluationResult.uscc.like(like.upper()))
    if jurisdiction:
        codes = [c for c, n in session.execute(select(Jurisdiction.code, Jurisdiction.name)).all()
                 if jurisdiction in (c, n)]
        names = session.scalars(select(Park.name).where(Park.jurisdiction_code.in_(codes))).all()
        stmt = stmt.where(EvaluationResult.park.in_(names))
    results = session.scalars(stmt).all()
    if industry:
        results = [r for r in results if str((r.inputs or {}).get("industry_code", "")).startswith(industry.strip())]
    return sorted(results, key=lambda r: (r.pool is None, r.pool or "", r.rank or 10**9, r.uscc))


def enterprise_history(session: Session, uscc: str) -> list[tuple[EvaluationRun, EvaluationResult]]:
    """Every stored result of one enterprise, oldest year first (the latest run of each year and scope)."""
    rows = session.execute(select(EvaluationRun, EvaluationResult).join(EvaluationResult.run)
                           .where(EvaluationResult.uscc == uscc)
                           .order_by(EvaluationRun.year, EvaluationRun.id)).all()
    latest: dict[tuple, tuple] = {}
    for run, res in rows:
        latest[(run.year, run.scope)] = (run, res)
    return sorted(latest.values(), key=lambda x: (x[0].year, x[0].scope))
