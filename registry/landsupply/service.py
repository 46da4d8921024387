"""The land-supply calculator on the registry's live data: the table for the park's jurisdiction,
a candidate plot's area, the park's 亩均 figures and the class the project would rank in by the
latest evaluation, and the vacant standard-factory units that would serve the project instead.

``PARAMS`` defines the inputs once: the CLI, the web form, the JSON API and its OpenAPI document
are built from it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from geodata.area import m2_to_mu

from ..core.enums import BuildingType
from ..evaluation import engine, rulesets
from ..core.models import Building, EvaluationRun, Floor, Park, Plot, Unit
from ..occupancy import status
from ..vacancy.needs import SpaceNeeds, building_fits, storey_fits
from ..core.validation import Problem, ValidationError, normalize_code
from . import calc, tables
from .calc import Project



@dataclass(frozen=True)
class Param:
    name: str
    type: str  # string / number / integer / date / list
    label: str  # Chinese, for the form
    description: str
    required: bool = False


PARAMS: tuple[Param, ...] = (
    Param("industry_code", "string", "行业代码", "GB/T 4754 大类 or finer, e.g. 3811", True),
    Param("code_edition", "string", "代码版本", "2017 (default) or 2002: which GB/T 4754 edition industry_code is"),
    Param("park", "integer", "园区", "park id: its jurisdiction chooses the table; its figures are the benchmarks"),
    Param("table", "string", "指标表", "a table id, instead of the park's jurisdiction (see /api/landcalc/tables)"),
    Param("region_class", "string", "地区类别", "for tables with 投资强度 by region class"),
    Param("plot", "integer", "候选地块", "a registry plot id: its area is the land"),
    Param("land_m2", "number", "申请用地(m²)", "requested land in m² (or land_mu)"),
    Param("land_mu", "number", "申请用地(亩)", "requested land in 亩"),
    Param("investment_wan", "number", "固定资产投资(万元)", "fixed-asset investment incl. land, 万元", True),
    Param("footprint_m2", "number", "建筑占地(m²)", "footprints of buildings, structures and storage yards", True),
    Param("gfa_m2", "number", "总建筑面积(m²)", "total floor area (or give storey_heights)"),
    Param("storey_heights", "list", "各层层高(m)", "comma-separated storey heights over the footprint, e.g. 9,4.5,4.5"),
    Param("tall_gfa_m2", "number", "超高楼层面积(m²)", "floor area in storeys higher than 8 m (counted twice)"),
    Param("admin_gfa_m2", "number", "行政生活建筑面积(m²)", "administrative and living floor area"),
    Param("admin_land_m2", "number", "行政生活用地(m²)", "their land, where it can be measured"),
    Param("green_m2", "number", "绿地面积(m²)", "green area"),
    Param("output_wan", "number", "达产年产值(万元)", "annual output at full production"),
    Param("tax_wan", "number", "达产年税收(万元)", "annual tax at full production"),
    Param("jobs", "integer", "就业人数", "jobs"),
    Param("supply_date", "date", "供地日期", "for the commitments' deadlines (YYYY-MM-DD)"),
    Param("floor_load_t_m2", "number", "所需楼面荷载(t/m²)", "for the standard-factory alternative"),
    Param("clear_height_m", "number", "所需层高(m)", "for the standard-factory alternative"),
    Param("crane_t", "number", "行车(t)", "crane capacity needed, 0 for none"),
    Param("power_kva", "number", "用电容量(kVA)", "power needed"),
    Param("available_by", "date", "入驻日期", "standard-factory units free on this date (default today)"),
)


@dataclass(frozen=True)
class Request:
    project: Project
    park_id: int | None = None
    table_id: str | None = None
    plot_id: int | None = None
    available_by: dt.date | None = None


def parse(params: Mapping[str, str]) -> Request:
    """A calculator request from text parameters (form, query string, CLI); every bad one is named."""
    problems, out = [], {}
    for p in PARAMS:
        raw = params.get(p.name)
        if raw in (None, ""):
            if p.required:
                problems.append(Problem(p.name, "is missing", p.description))
            continue
        text = normalize_code(str(raw)) if p.type != "string" else str(raw).strip()
        try:
            if p.type == "number":
                out[p.name] = float(text)
            elif p.type == "integer":
                out[p.name] = int(text)
            elif p.type == "date":
                out[p.name] = dt.date.fromisoformat(text)
            elif p.type == "list":
                out[p.name] = tuple(float(x) for x in text.replace("，", ",").split(",") if x.strip())
            else:
                out[p.name] = text
        except ValueError:
            problems.append(Problem(p.name, f"{raw!r} is not valid", f"{p.type}: {p.description}"))
    if "land_m2" in out and "land_mu" in out:
        problems.append(Problem("land_mu", "both land_m2 and land_mu are given", "one of them"))
    if problems:
        raise ValidationError(problems)
    land = out.pop("land_m2", None) or (out.pop("land_mu") * calc.M2_PER_MU if "land_mu" in out else None)
    project = Project(
        industry_code=out["industry_code"], code_edition=out.get("code_edition", "2017"),
        investment_wan=out["investment_wan"], footprint_m2=out["footprint_m2"], gfa_m2=out.get("gfa_m2"),
        storey_heights_m=out.get("storey_heights", ()), tall_gfa_m2=out.get("tall_gfa_m2", 0.0),
        admin_gfa_m2=out.get("admin_gfa_m2", 0.0), admin_land_m2=out.get("admin_land_m2"),
        green_m2=out.get("green_m2", 0.0), output_wan=out.get("output_wan"), tax_wan=out.get("tax_wan"),
        jobs=out.get("jobs"), land_m2=land, region_class=out.get("region_class"), supply_date=out.get("supply_date"),
        floor_load_t_m2=out.get("floor_load_t_m2"), clear_height_m=out.get("clear_height_m"),
        crane_t=out.get("crane_t"), power_kva=out.get("power_kva"))
    return Request(project, out.get("park"), out.get("table"), out.get("plot"), out.get("available_by"))


def calculate(session: Session, req: Request, today: dt.date) -> calc.Result:
    """The calculation with the registry's context (see the module docstring)."""
    park = session.get(Park, req.park_id) if req.park_id is not None else None
    if req.park_id is not None and park is None:
        raise ValidationError(Problem("park", f"no park #{req.park_id}", "a park of the registry"))
    project = req.project
    if req.plot_id is not None:
        plot = session.get(Plot, req.plot_id)
        if plot is None:
            raise ValidationError(Problem("plot", f"no plot #{req.plot_id}", "a plot of the registry"))
        if project.land_m2 is not None:
            raise ValidationError(Problem("plot", "both a plot and a land area are given", "one of them"))
        project = dataclasses.replace(project, land_m2=plot.area_m2)
        park = park or plot.park
    table = tables.load(req.table_id) if req.table_id else tables.for_jurisdiction(park.jurisdiction_code if park else None)
    day = req.available_by or today
    if day < today:
        raise ValidationError(Problem("available_by", f"{day} is in the past", "today or later"))
    context = {"park": park_context(session, park, project) if park else {},
               "units": vacant_units(session, project, park.id if park else None, day)}
    return calc.calculate(table, project, context=context)


def latest_run(session: Session, park: Park) -> EvaluationRun | None:
    """The newest evaluation that covers the park (its own run, or one over all parks)."""
    return session.scalars(select(EvaluationRun).where(or_(EvaluationRun.scope == f"park:{park.id}",
                                                            EvaluationRun.scope == "all"))
                           .order_by(EvaluationRun.year.desc(), EvaluationRun.id.desc()).limit(1)).first()


def park_context(session: Session, park: Park, project: Project) -> dict:
    """The park's current 亩均 figures and the class the project would get in the latest evaluation."""
    run = latest_run(session, park)
    out = {"name": park.name}
    if run is None:
        return out
    figures = next((p for p in (run.parks or []) if p["park"] == park.name), None)
    if figures:
        out.update(tax_per_mu=figures.get("tax_per_mu"), revenue_per_mu=figures.get("revenue_per_mu"))
    if project.land_m2 and project.tax_wan is not None and all(r.inputs for r in run.results):
        out["would_rank"] = would_rank(run, project)
    return out


def would_rank(run: EvaluationRun, project: Project) -> dict:
    """The class the project would get, scored with the run's rule set among the run's enterprises
    (its figures at full production; what it cannot state yet falls under the rule set's
    missing-data rule)."""
    rs = rulesets.parse(run.ruleset)
    fields = {f.name for f in dataclasses.fields(engine.EnterpriseInput)}
    records = [engine.EnterpriseInput(**{k: (tuple(v) if k == "tags" else v) for k, v in r.inputs.items() if k in fields})
               for r in run.results]
    me = engine.EnterpriseInput(uscc="拟供地项目", name="拟供地项目", industry_code=project.industry_code,
                                above_scale=(project.output_wan or 0) >= 2000, land_mu=m2_to_mu(project.land_m2),
                                tax_wan=project.tax_wan, revenue_wan=project.output_wan, employees=project.jobs)
    result = next(r for r in engine.evaluate(rs, records + [me]).results if r.uscc == me.uscc)
    return {"run_id": run.id, "year": run.year, "ruleset": rs.id, "pool": result.pool, "class": result.klass,
            "total": result.total, "rank": result.rank, "pool_size": result.pool_size}


def vacant_units(session: Session, project: Project, park_id: int | None, day: dt.date) -> list[dict]:
    """Standard-factory units available by ``day`` (the map's rule) that meet the project's floor
    load, clear height, crane and power (the map's check of needs); the buildings' own figures
    (crane, power) apply to all their units."""
    needs = SpaceNeeds(available_by=day, min_load_t_m2=project.floor_load_t_m2, min_height_m=project.clear_height_m,
                       crane_t=project.crane_t or None, min_power_kva=project.power_kva)
    stmt = (select(Unit, Floor, Building, Park.name).join(Building, Building.id == Unit.building_id)
            .join(Park, Park.id == Building.park_id)
            .outerjoin(Floor, (Floor.building_id == Unit.building_id) & (Floor.level == Unit.floor_level))
            .where(Building.type == BuildingType.STANDARD_FACTORY, status.building_ready_by(day),
                   status.available_unit(day), storey_fits(needs), *building_fits(needs)))
    if park_id is not None:
        stmt = stmt.where(Building.park_id == park_id)
    out = []
    for unit, floor, building, park_name in session.execute(
            stmt.order_by(Park.name, Building.code, Unit.floor_level, Unit.code)):
        out.append({"unit_id": unit.id, "unit": unit.code, "building_id": building.id, "building": building.code,
                    "building_name": building.name, "park": park_name, "floor": unit.floor_level,
                    "area_m2": unit.leasable_area_m2,
                    "floor_load_t_m2": round(floor.floor_load_t_m2, 2) if floor and floor.floor_load_t_m2 else None,
                    "storey_height_m": floor.storey_height_m if floor else None, "crane_t": building.crane_tonnage_t,
                    "power_kva": building.power_kva, "rent": building.asking_rent_yuan_m2_month,
                    "map_url": f"/map?b={building.id}"})
    return out


def as_json(result: calc.Result) -> dict:
    """The result as plain JSON (the API and ``registry landcalc --format json``)."""
    return dataclasses.asdict(result)
