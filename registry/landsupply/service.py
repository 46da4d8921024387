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

from ..core.authz import EVERYTHING, Audience
from ..core.enums import BuildingType
from ..assets.parks import park_choices
from ..evaluation import engine, rulesets
from ..core.models import Building, EvaluationRun, Floor, Park, Plot, Unit
from ..occupancy import status
from ..vacancy.needs import SpaceNeeds, move_in_day, building_fits, storey_fits
from ..core.params import REFUSED, Param, parse_all
from ..core.validation import Problem, ValidationError
from . import calc, tables
from .calc import Project



PARAMS: tuple[Param, ...] = (
    Param("industry_code", "text", "GB/T 4754 大类 or finer, e.g. 3811", "行业代码", required=True),
    Param("code_edition", "choice", "2017 (default) or 2002: which GB/T 4754 edition industry_code is", "代码版本",
          choices=("2017", "2002")),
    Param("park", "integer", "park id: its jurisdiction chooses the table; its figures are the benchmarks", "园区",
          minimum=1),
    Param("table", "text", "a table id, instead of the park's jurisdiction (see /api/landcalc/tables)", "指标表"),
    Param("region_class", "text", "for tables with 投资强度 by region class", "地区类别"),
    Param("plot", "integer", "a registry plot id: its area is the land", "候选地块", minimum=1),
    Param("land_m2", "number", "requested land in m² (or land_mu)", "申请用地(m²)", minimum=0),
    Param("land_mu", "number", "requested land in 亩", "申请用地(亩)", minimum=0),
    Param("investment_wan", "number", "fixed-asset investment incl. land, 万元", "固定资产投资(万元)", required=True,
          minimum=0),
    Param("footprint_m2", "number", "footprints of buildings, structures and storage yards", "建筑占地(m²)",
          required=True, minimum=0),
    Param("gfa_m2", "number", "total floor area (or give storey_heights)", "总建筑面积(m²)", minimum=0),
    Param("storey_heights", "numbers", "comma-separated storey heights over the footprint, e.g. 9,4.5,4.5", "各层层高(m)"),
    Param("tall_gfa_m2", "number", "floor area in storeys higher than 8 m (counted twice)", "超高楼层面积(m²)", minimum=0),
    Param("admin_gfa_m2", "number", "administrative and living floor area", "行政生活建筑面积(m²)", minimum=0),
    Param("admin_land_m2", "number", "their land, where it can be measured", "行政生活用地(m²)", minimum=0),
    Param("green_m2", "number", "green area", "绿地面积(m²)", minimum=0),
    Param("output_wan", "number", "annual output at full production", "达产年产值(万元)", minimum=0),
    Param("tax_wan", "number", "annual tax at full production", "达产年税收(万元)"),
    Param("jobs", "integer", "jobs", "就业人数", minimum=0),
    Param("supply_date", "date", "for the commitments' deadlines (YYYY-MM-DD)", "供地日期"),
    Param("floor_load_t_m2", "number", "for the standard-factory alternative", "所需楼面荷载(t/m²)", minimum=0),
    Param("clear_height_m", "number", "for the standard-factory alternative", "所需层高(m)", minimum=0),
    Param("crane_t", "number", "crane capacity needed, 0 for none", "行车(t)", minimum=0),
    Param("power_kva", "number", "power needed", "用电容量(kVA)", minimum=0),
    Param("available_by", "date", "standard-factory units free on this date (default today; an earlier date means today)", "入驻日期"),
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
    try:
        out = parse_all(PARAMS, params)
    except ValidationError as exc:
        problems = exc.problems
    if all(str(params.get(name) or "").strip() for name in ("land_m2", "land_mu")):
        problems.append(Problem("land_mu", "同时给出了 land_m2 和 land_mu", "二者之一"))
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


def calculate(session: Session, req: Request, today: dt.date, audience: Audience = EVERYTHING) -> calc.Result:
    """The calculation with the registry's context (see the module docstring). Where the project
    would rank among the park's evaluated enterprises is given only to a reader who sees the
    park's evaluation results (``audience``)."""
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
    day = move_in_day(req.available_by, today)
    context = {"park": park_context(session, park, project, audience.evaluation(park.id)) if park else {},
               "units": vacant_units(session, project, park.id if park else None, day)}
    return calc.calculate(table, project, context=context)


def form_choices(session: Session) -> dict:
    """What the calculator's form offers: the parks (id, name), the indicator tables, and the plots
    not yet supplied (id, code, park name)."""
    return {"parks": park_choices(session),
            "tables": tables.table_ids(),
            "plots": [tuple(r) for r in session.execute(select(Plot.id, Plot.code, Park.name).join(Park)
                                                        .where(Plot.holder_id.is_(None)).order_by(Park.name, Plot.code))]}


def latest_run(session: Session, park: Park) -> EvaluationRun | None:
    """The newest evaluation that covers the park (its own run, or one over all parks)."""
    return session.scalars(select(EvaluationRun).where(or_(EvaluationRun.scope == f"park:{park.id}",
                                                            EvaluationRun.scope == "all"))
                           .order_by(EvaluationRun.year.desc(), EvaluationRun.id.desc()).limit(1)).first()


def park_context(session: Session, park: Park, project: Project, ranked: bool = True) -> dict:
    """The park's current 亩均 figures and (``ranked``) the class the project would get in the latest
    evaluation."""
    run = latest_run(session, park)
    out = {"name": park.name}
    if run is None:
        return out
    figures = next((p for p in (run.parks or []) if p["park"] == park.name), None)
    if figures:
        out.update(tax_per_mu=figures.get("tax_per_mu"), revenue_per_mu=figures.get("revenue_per_mu"))
    if ranked and project.land_m2 and project.tax_wan is not None and all(r.inputs for r in run.results):
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


def openapi_paths() -> dict:
    """The calculator's part of the OpenAPI document (paths under the API's root), from ``PARAMS``."""
    return {
        "/landcalc": {"get": {
            "summary": "Land-supply calculation (供地测算) for a project; needs a signed-in session",
            "parameters": [p.openapi() for p in PARAMS],
            "responses": {"200": {"description": "verdict, land bounds, checks, yields, commitments, standard factories",
                                  "content": {"application/json": {"schema": {"type": "object", "required": [
                                      "verdict", "reasons", "bounds", "checks", "commitments", "standard_factory"]}}}},
                          "400": REFUSED, "401": {"description": "not signed in"}}}},
        "/landcalc/tables": {"get": {
            "summary": "The land-use control indicator tables installed",
            "responses": {"200": {"description": "tables", "content": {"application/json": {"schema": {
                "type": "array", "items": {"type": "object", "required": ["id", "name", "source"]}}}}}}}},
    }


def as_json(result: calc.Result) -> dict:
    """The result as plain JSON (the API and ``registry landcalc --format json``)."""
    return dataclasses.asdict(result)
