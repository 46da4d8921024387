"""The land-supply calculation: allowed land, site-plan compliance, implied yields, 标准地
commitments and the verdict — pure arithmetic over a Table and a Project, every number explained.

Definitions (domain.md §2.2): 投资强度 = fixed-asset investment ÷ site area; 容积率 = counted floor
area ÷ site area, a storey higher than the table's limit (8 m) counting twice; 建筑系数 = footprints
÷ site area; 行政办公及生活服务设施用地比重 = their land ÷ site area, or, where it cannot be measured, their
floor-area share; 绿地率 = green area ÷ site area. Limits are inclusive: a value exactly at its limit
complies.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from geodata.area import M2_PER_MU, m2_to_mu

from ..core.validation import Problem, ValidationError, check_industry_code, industries
from .tables import COMMITMENTS, CONTROL_KEYS, Table, crosswalk


@dataclass(frozen=True)
class Project:  # 拟供地项目
    industry_code: str
    investment_wan: float  # 固定资产投资 (万元), land price included
    footprint_m2: float  # 建筑物、构筑物及堆场占地
    gfa_m2: float | None = None  # 总建筑面积; from footprint × storeys when not given
    storey_heights_m: tuple[float, ...] = ()  # one per storey over the whole footprint
    tall_gfa_m2: float = 0.0  # the part of gfa in storeys higher than the limit (when no storey list)
    admin_gfa_m2: float = 0.0  # 行政办公及生活服务设施 floor area
    admin_land_m2: float | None = None  # their land, where it can be measured
    green_m2: float = 0.0
    output_wan: float | None = None  # annual output at full production
    tax_wan: float | None = None  # annual tax at full production
    jobs: int | None = None
    land_m2: float | None = None  # requested land, or a candidate plot's area
    code_edition: str = "2017"  # the GB/T 4754 edition of industry_code
    region_class: str | None = None  # for tables with 投资强度 by region class
    supply_date: dt.date | None = None  # for the commitments' deadlines
    floor_load_t_m2: float | None = None  # what the project needs of a factory floor
    clear_height_m: float | None = None
    crane_t: float | None = None
    power_kva: float | None = None


@dataclass
class Check:
    key: str
    label: str
    value: float | None
    comparator: str  # ">=" or "<="
    limit: float | None
    unit: str
    ok: bool | None  # None: no limit in the table
    margin: float | None  # headroom (positive) or shortfall (negative), in the value's unit
    note: str = ""


@dataclass
class Result:
    table: dict
    industry: dict
    counted_gfa_m2: float
    land_min_m2: float
    land_max_m2: float | None
    binding_min: str
    binding_max: str | None
    bounds: list[dict] = field(default_factory=list)
    land_m2: float | None = None
    checks: list[Check] = field(default_factory=list)
    yields: dict = field(default_factory=dict)
    commitments: list[dict] = field(default_factory=list)
    standard_factory: dict = field(default_factory=dict)
    verdict: str = ""
    reasons: list[str] = field(default_factory=list)


def _industry(project: Project, table: Table) -> dict:
    """The project's industry in both editions, with the crosswalk's note; raises on a bad code."""
    cw = crosswalk()
    raw = str(project.industry_code or "").strip().upper()
    code = raw[1:] if re.fullmatch(r"C\d{2,4}", raw) else raw
    edition = str(project.code_edition)
    field_ = "project.industry_code"
    if edition not in ("2017", "2002"):
        raise ValidationError(Problem("project.code_edition", f"{edition!r} 不是代码版本", "2017 或 2002"))
    if not re.fullmatch(r"\d{2,4}", code):
        raise ValidationError(Problem(field_, f"{raw!r} 不是行业代码", "GB/T 4754 制造业大类 13–43，如 38 或 3811"))
    major = code[:2]
    if edition == "2002":
        if major not in cw.names_2002:
            hint = (f"；GB/T 4754-2017 中有 {major}（{industries()[major].name}）——请选择 2017 版"
                    if major in industries() and 13 <= int(major) <= 43 else "")
            raise ValidationError(Problem(field_, f"{code!r}：GB/T 4754-2002 制造业中没有大类 {major}{hint}",
                                          "2002 版大类 13–43（没有 38）"))
        candidates = cw.reverse(major)
        if len(candidates) != 1:
            listed = ", ".join(f"{c} {industries()[c].name}" for c in candidates)
            raise ValidationError(Problem(field_, f"2002 版大类 {major}（{cw.names_2002[major]}）在 2017 版分成了几个大类：{listed}",
                                          "项目的 GB/T 4754-2017 代码（选 2017 版）"))
        code_2017, codes_2002 = candidates[0], [major]
    else:
        check_industry_code(code, field_)
        if not 13 <= int(major) <= 43:
            raise ValidationError(Problem(field_, f"{code!r} 不是 GB/T 4754-2017 的制造业代码",
                                          "门类 C、大类 13–43：控制指标只适用于制造业"))
        code_2017, codes_2002 = major, cw.map.get(major, [])
    sharing = sorted(c for c, olds in cw.map.items() if set(olds) & set(codes_2002) and c != code_2017)
    note = f"GB/T 4754-2017 {code_2017} {industries()[code_2017].name}"
    if codes_2002:
        note += " ↔ 2002 " + " + ".join(f"{c} {cw.names_2002[c]}" for c in codes_2002)
        if sharing:
            note += f"（2002 年的该类亦含 2017 年 {', '.join(sharing)}）"
    else:
        note += "：2002 年版无对应大类"
    return {"code": code, "code_2017": code_2017, "name": industries()[code_2017].name, "codes_2002": codes_2002,
            "ambiguous": len(codes_2002) > 1 or bool(sharing) or not codes_2002, "crosswalk": note}


def _far_min(table: Table, ind: dict) -> tuple[float | None, str]:
    sec = table.far_min
    if sec.basis == "gb4754-2017":
        v = sec.values.get(ind["code_2017"])
        return v, f"容积率下限 {v}（{table.id}，2017 年代码 {ind['code_2017']}）" if v else "本表无该行业容积率下限"
    rows = {c: sec.values[c] for c in ind["codes_2002"] if c in sec.values}
    if not rows:
        return None, f"{table.id} 的容积率表按 2002 年代码编制，{ind['crosswalk']}，无可用下限"
    value = max(rows.values())  # several 2002 rows: the strictest (crosswalk.toml, ambiguous_rule)
    note = f"容积率下限 {value}（{table.id}，按 2002 年代码 " + "、".join(f"{c}={v}" for c, v in rows.items()) + "）"
    if len(set(rows.values())) > 1:
        note += "；对应关系不唯一，取较严格值"
    return value, note


def _intensity_min(table: Table, project: Project, ind: dict) -> tuple[float | None, str]:
    row = table.industries.values.get(ind["code_2017"] if table.industries.basis == "gb4754-2017" else
                                      next(iter(ind["codes_2002"]), ""), {})
    if "investment_intensity_min" in row:
        return float(row["investment_intensity_min"]), f"投资强度下限 {row['investment_intensity_min']} 万元/亩（{table.id}）"
    classes = table.intensity_classes.values
    if classes:
        if project.region_class not in classes:
            raise ValidationError(Problem("project.region_class", f"{project.region_class!r} is not a region class of {table.id}",
                                          " / ".join(classes)))
        key = ind["code_2017"] if table.intensity_classes.basis == "gb4754-2017" else next(iter(ind["codes_2002"]), "")
        value = classes[project.region_class].get(key)
        if value:
            return value, f"投资强度下限 {value:.2f} 万元/亩（{table.id}，{project.region_class}）"
    return None, f"{table.id} 未设该行业投资强度下限（国家 2008 年投资强度表未随软件提供，请加载本地表）"


def _check_inputs(p: Project) -> None:
    problems = []

    def positive(name, value, unit, allow_zero=False, required=True):
        if value is None:
            if required:
                problems.append(Problem(f"project.{name}", "is missing", f"a positive number ({unit})"))
            return
        if not isinstance(value, (int, float)) or value < 0 or (value == 0 and not allow_zero):
            problems.append(Problem(f"project.{name}", f"{value!r} is not valid", f"a {'non-negative' if allow_zero else 'positive'} number ({unit})"))

    positive("investment_wan", p.investment_wan, "万元")
    positive("footprint_m2", p.footprint_m2, "m²")
    positive("gfa_m2", p.gfa_m2, "m²", required=not p.storey_heights_m)
    for name, unit in (("admin_gfa_m2", "m²"), ("green_m2", "m²"), ("tall_gfa_m2", "m²")):
        positive(name, getattr(p, name), unit, allow_zero=True)
    for name, unit in (("admin_land_m2", "m²"), ("output_wan", "万元"), ("tax_wan", "万元"), ("jobs", "人"),
                       ("land_m2", "m²"), ("floor_load_t_m2", "t/m²"), ("clear_height_m", "m"), ("power_kva", "kVA")):
        positive(name, getattr(p, name), unit, required=False)
    positive("crane_t", p.crane_t, "t", allow_zero=True, required=False)
    if any(not isinstance(h, (int, float)) or h <= 0 for h in p.storey_heights_m):
        problems.append(Problem("project.storey_heights_m", f"{list(p.storey_heights_m)!r} is not valid", "positive storey heights in m"))
    if not problems:
        gfa = p.gfa_m2 or p.footprint_m2 * len(p.storey_heights_m)
        if p.gfa_m2 and p.gfa_m2 < p.footprint_m2:
            problems.append(Problem("project.gfa_m2", f"{p.gfa_m2:g} m² is less than the footprint {p.footprint_m2:g} m²",
                                    "the total floor area, at least the footprint"))
        if p.admin_gfa_m2 > gfa:
            problems.append(Problem("project.admin_gfa_m2", f"{p.admin_gfa_m2:g} m² exceeds the total floor area {gfa:g} m²",
                                    "a part of the floor area"))
        if p.tall_gfa_m2 > gfa:
            problems.append(Problem("project.tall_gfa_m2", f"{p.tall_gfa_m2:g} m² exceeds the total floor area {gfa:g} m²",
                                    "a part of the floor area"))
        if p.land_m2 is not None and p.footprint_m2 > p.land_m2:
            problems.append(Problem("project.footprint_m2", f"the footprint {p.footprint_m2:g} m² is larger than the land {p.land_m2:g} m²",
                                    "buildings that fit on the land"))
        if p.land_m2 is not None and p.footprint_m2 + p.green_m2 > p.land_m2:
            problems.append(Problem("project.green_m2", f"footprint + green = {p.footprint_m2 + p.green_m2:g} m² exceeds the land {p.land_m2:g} m²",
                                    "green space beside the buildings, on the land"))
    if problems:
        raise ValidationError(problems)


def counted_gfa(p: Project, tall_m: float) -> tuple[float, float, str]:
    """(total floor area, floor area as counted for 容积率, how)."""
    if p.storey_heights_m:
        gfa = p.gfa_m2 or p.footprint_m2 * len(p.storey_heights_m)
        per = gfa / len(p.storey_heights_m)
        tall = [h for h in p.storey_heights_m if h > tall_m]
        counted = gfa + per * len(tall)
        how = (f"{len(p.storey_heights_m)} 层，其中 {len(tall)} 层层高超过 {tall_m:g} m 按两层计："
               f"{gfa:,.0f} + {per * len(tall):,.0f} = {counted:,.0f} m²") if tall else f"{gfa:,.0f} m²（无超高楼层）"
        return gfa, counted, how
    gfa = p.gfa_m2
    counted = gfa + p.tall_gfa_m2
    how = (f"{gfa:,.0f} m²，其中 {p.tall_gfa_m2:,.0f} m² 层高超过 {tall_m:g} m 按两倍计 = {counted:,.0f} m²"
           if p.tall_gfa_m2 else f"{gfa:,.0f} m²")
    return gfa, counted, how


def _check(key, label, value, comparator, limit, unit, note="") -> Check:
    if limit is None or value is None:
        return Check(key, label, value, comparator, limit, unit, None, None, note or "本表未设限值")
    eps = 1e-9 * max(1.0, abs(limit))
    ok = value >= limit - eps if comparator == ">=" else value <= limit + eps
    margin = value - limit if comparator == ">=" else limit - value
    return Check(key, label, value, comparator, limit, unit, ok, margin, note)


def calculate(table: Table, p: Project, *, context: dict | None = None) -> Result:
    """Everything the calculator answers for one project. ``context`` carries what comes from the
    registry: the park's benchmarks and classes (``park``), and vacant units (``units``)."""
    _check_inputs(p)
    ctx = context or {}
    ind = _industry(p, table)
    c = table.controls
    gfa, counted, gfa_how = counted_gfa(p, c.get("tall_storey_m", 8.0))
    far_min, far_note = _far_min(table, ind)
    ii_min, ii_note = _intensity_min(table, p, ind)

    # The allowed land: each limit gives a bound; the tightest ones bind.
    maxima, minima = [], [("建筑物占地", p.footprint_m2, f"场地须容纳 {p.footprint_m2:,.0f} m² 的建筑占地")]
    if ii_min:
        maxima.append(("投资强度", p.investment_wan / ii_min * M2_PER_MU,
                       f"{p.investment_wan:,.0f} 万元 ÷ {ii_min:g} 万元/亩 = {p.investment_wan / ii_min:,.2f} 亩"))
    if far_min:
        maxima.append(("容积率", counted / far_min, f"计容建筑面积 {counted:,.0f} m² ÷ {far_min:g} = {counted / far_min:,.0f} m²"))
    if c.get("building_coefficient_min"):
        bc = c["building_coefficient_min"]
        maxima.append(("建筑系数", p.footprint_m2 / bc, f"建筑占地 {p.footprint_m2:,.0f} m² ÷ {bc:.0%} = {p.footprint_m2 / bc:,.0f} m²"))
    if c.get("admin_land_share_max") and p.admin_land_m2:
        share = c["admin_land_share_max"]
        minima.append(("行政办公及生活服务设施用地比重", p.admin_land_m2 / share,
                       f"行政生活用地 {p.admin_land_m2:,.0f} m² ÷ {share:.0%} = {p.admin_land_m2 / share:,.0f} m²"))
    if c.get("green_ratio_max") and p.green_m2:
        share = c["green_ratio_max"]
        minima.append(("绿地率", p.green_m2 / share, f"绿地 {p.green_m2:,.0f} m² ÷ {share:.0%} = {p.green_m2 / share:,.0f} m²"))
    lo = max(minima, key=lambda b: b[1])
    hi = min(maxima, key=lambda b: b[1]) if maxima else None
    bounds = [{"kind": "max", "constraint": n, "m2": v, "mu": m2_to_mu(v), "how": h} for n, v, h in maxima] + \
             [{"kind": "min", "constraint": n, "m2": v, "mu": m2_to_mu(v), "how": h} for n, v, h in minima]
    res = Result(table={"id": table.id, "name": table.name, "source": table.source, "lineage": list(table.lineage)},
                 industry=ind, counted_gfa_m2=counted, land_min_m2=lo[1], land_max_m2=hi[1] if hi else None,
                 binding_min=lo[0], binding_max=hi[0] if hi else None, bounds=bounds)
    res.yields["gfa_how"] = gfa_how

    # The site plan on the requested land (or, without one, on the largest allowed).
    land = p.land_m2 or (hi[1] if hi else None)
    res.land_m2 = land
    if land:
        lmu = m2_to_mu(land)
        admin_share = (p.admin_land_m2 / land, "按用地计") if p.admin_land_m2 else (p.admin_gfa_m2 / gfa, "无法单独计量，按建筑面积比例计")
        res.checks = [
            _check("investment_intensity", "固定资产投资强度", p.investment_wan / lmu, ">=", ii_min, "万元/亩", ii_note),
            _check("far", "容积率", counted / land, ">=", far_min, "", far_note + f"；计容建筑面积 {gfa_how}"),
            _check("building_coefficient", "建筑系数", p.footprint_m2 / land, ">=", c.get("building_coefficient_min"), "%"),
            _check("admin_land_share", "行政办公及生活服务设施用地比重", admin_share[0], "<=", c.get("admin_land_share_max"), "%",
                   admin_share[1]),
            _check("admin_gfa_share", "行政办公及生活服务设施建筑面积比重", p.admin_gfa_m2 / gfa, "<=", c.get("admin_gfa_share_max"), "%",
                   "" if c.get("admin_gfa_share_max") else "本表未设（部分地方规定 ≤ 15%）"),
            _check("green_ratio", "绿地率", p.green_m2 / land, "<=", c.get("green_ratio_max"), "%"),
        ]
        res.yields.update({
            "land_mu": lmu,
            "tax_per_mu": None if p.tax_wan is None else p.tax_wan / lmu,
            "output_per_mu": None if p.output_wan is None else p.output_wan / lmu,
            "output_per_job": None if not (p.output_wan and p.jobs) else p.output_wan / p.jobs,
        })

    # 标准地 commitments from the local table, with deadlines after supply.
    row = table.industries.values.get(ind["code_2017"], {}) if table.industries.basis == "gb4754-2017" else {}
    months = table.deadlines
    stated = {"investment_intensity_min": res.checks[0].value if res.checks else None,
              "tax_per_mu_min": res.yields.get("tax_per_mu"), "output_per_mu_min": res.yields.get("output_per_mu")}
    for key, (label, unit, comparator) in COMMITMENTS.items():
        if key not in row:
            continue
        stage = "completion" if key == "investment_intensity_min" else "full_production"
        due = months.get(stage)
        deadline = (add_months(p.supply_date, due).isoformat() if (due and p.supply_date) else
                    f"供地后 {due} 个月（{'竣工' if stage == 'completion' else '达产'}）" if due else "按出让合同约定")
        value = stated.get(key)
        res.commitments.append({"key": key, "indicator": label, "comparator": comparator, "threshold": row[key],
                                "unit": unit, "deadline": deadline, "project_value": value,
                                "project_meets": None if value is None else value >= row[key]})
    if far_min:
        due = months.get("completion")
        res.commitments.append({"key": "far_min", "indicator": "容积率", "comparator": ">=", "threshold": far_min, "unit": "",
                                "deadline": (add_months(p.supply_date, due).isoformat() if due and p.supply_date else
                                             f"供地后 {due} 个月（竣工）" if due else "竣工验收时"),
                                "project_value": counted / land if land else None,
                                "project_meets": None if not land else counted / land >= far_min - 1e-9})

    _compare_with_park(res, ctx.get("park") or {})
    _standard_factory(res, table, p, ctx.get("units"))
    _verdict(res, table, p)
    return res


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it has fewer days)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _compare_with_park(res: Result, park: dict) -> None:
    """The implied yields beside the park's current figures and the latest evaluation's class."""
    y = res.yields
    if not park:
        return
    y["park"] = park.get("name")
    for key in ("tax_per_mu", "revenue_per_mu"):
        y[f"park_{key}"] = park.get(key)
    if y.get("tax_per_mu") is not None and park.get("tax_per_mu"):
        y["vs_park_tax"] = y["tax_per_mu"] / park["tax_per_mu"]
    if park.get("would_rank"):
        y["would_rank"] = park["would_rank"]


def _standard_factory(res: Result, table: Table, p: Project, units: list[dict] | None) -> None:
    sf = table.standard_factory
    need_mu = m2_to_mu(p.land_m2) if p.land_m2 else (m2_to_mu(res.land_max_m2) if res.land_max_m2 else None)
    reasons = []
    if sf.get("max_mu") and need_mu is not None and need_mu < sf["max_mu"]:
        reasons.append(f"用地需求 {need_mu:.2f} 亩，低于本地单独供地起点 {sf['max_mu']:g} 亩")
    fits = (p.crane_t in (None, 0)
            and (p.floor_load_t_m2 is None or p.floor_load_t_m2 <= sf.get("max_floor_load_t_m2", float("inf")))
            and (p.clear_height_m is None or p.clear_height_m <= sf.get("max_clear_height_m", float("inf"))))
    if fits and sf.get("max_floor_load_t_m2") and (p.floor_load_t_m2 is not None or p.clear_height_m is not None):
        reasons.append(f"荷载 {p.floor_load_t_m2 or '—'} t/m²、层高 {p.clear_height_m or '—'} m，无行车需求，"
                       f"多层标准厂房可满足（≤ {sf['max_floor_load_t_m2']:g} t/m²、≤ {sf.get('max_clear_height_m', '—')} m）")
    gfa = res.counted_gfa_m2
    listed = units or []
    total = sum(u["area_m2"] for u in listed)
    res.standard_factory = {
        "recommended": bool(reasons), "reasons": reasons, "units": listed, "available_m2": total,
        "enough": total >= (p.gfa_m2 or gfa), "land_saved_mu": need_mu if reasons else None,
        "land_saved_how": ("所申请用地" if p.land_m2 else "按控制指标可供的最大用地") if reasons else None,
    }


def _verdict(res: Result, table: Table, p: Project) -> None:
    failed = [ch for ch in res.checks if ch.ok is False]
    if res.land_max_m2 is not None and res.land_min_m2 > res.land_max_m2 + 1e-6:
        res.reasons.append(f"可供用地区间为空：至少 {m2_to_mu(res.land_min_m2):.2f} 亩（{res.binding_min}），"
                           f"至多 {m2_to_mu(res.land_max_m2):.2f} 亩（{res.binding_max}）")
    for ch in failed:
        shown = f"{ch.value:.2%}" if ch.unit == "%" else f"{ch.value:,.2f} {ch.unit}".strip()
        limit = f"{ch.limit:.0%}" if ch.unit == "%" else f"{ch.limit:g} {ch.unit}".strip()
        res.reasons.append(f"{ch.label} {shown}，{'低于下限' if ch.comparator == '>=' else '超过上限'} {limit}")
    for note in (ch.note for ch in res.checks if ch.ok is None and ch.key == "investment_intensity"):
        res.reasons.append(note)
    if res.industry["ambiguous"]:
        res.reasons.append("行业代码新旧版本对应不唯一：" + res.industry["crosswalk"])
    if res.standard_factory.get("recommended"):
        res.verdict = "建议入驻标准厂房，原则上不单独供地"
        res.reasons = res.standard_factory["reasons"] + res.reasons
    elif failed or (res.land_max_m2 is not None and res.land_min_m2 > res.land_max_m2 + 1e-6):
        res.verdict = "不符合用地控制指标，须调整方案"
    else:
        hi = f"{m2_to_mu(res.land_max_m2):.2f} 亩（{res.binding_max}）" if res.land_max_m2 else "不限"
        res.verdict = "符合用地控制指标，可按方案供地"
        res.reasons.insert(0, f"可供用地 {m2_to_mu(res.land_min_m2):.2f} 亩 至 {hi}")


def check_names() -> dict[str, str]:
    """The control indicators' names, for documentation and forms."""
    return dict(CONTROL_KEYS)
