"""What a bureau publishes from a stored run: the result table, the publication list (公示名单) by
class, the differential-policy list, and the park ranking, as tables for .xlsx and CSV export.

The differential-policy list applies the rule set's ``[[policies]]``: each names a class, the
measure in words and, optionally, tiers by the number of consecutive years the enterprise has been
in that class (Shandong's D-class electricity surcharge of +0.05 / 0.10 / 0.15 元/kWh for 1 / 2 / 3+
years). Consecutive years are counted back through the stored runs of earlier years over the same
scope.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.models import EvaluationResult, EvaluationRun
from ..core.tabular import Column, Table
from . import filemode
from .filemode import CLASS_FILLS
from .rulesets import PARK_METRICS as METRICS
from .rulesets import INDICATORS
from .rulesets import parse as parse_ruleset
from .runs import as_engine_run, class_names, park_ranking


def _title(run: EvaluationRun, what: str) -> str:
    return f"{run.ruleset.get('name', run.ruleset_id)} {run.year} 年度 {what}"


def results_table(run: EvaluationRun) -> Table:
    """Every result, one row each, with every indicator's value, benchmark and score (CSV export)."""
    keys = []
    for pool in run.ruleset.get("pools", []):
        for ind in pool.get("indicators", []):
            if ind["key"] not in keys:
                keys.append(ind["key"])
    cols = [Column("pool", "评价组", width=8), Column("rank", "组内排名", "0", 8), Column("klass", "等级", width=6),
            Column("uscc", "统一社会信用代码", width=22), Column("name", "企业名称", width=30), Column("park", "所在园区", width=16),
            Column("land_mu", "用地面积(亩)", "0.00")]
    for key in keys:
        label, unit = INDICATORS[key][0], INDICATORS[key][1]
        cols += [Column(f"{key}.value", f"{label}({unit})" if unit else label, "0.0000"),
                 Column(f"{key}.benchmark", f"{label}基准值", "0.0000"), Column(f"{key}.score", f"{label}得分", "0.00")]
    cols += [Column("bonus", "加分", "0.00", 8), Column("penalty", "减分", "0.00", 8), Column("total", "总分", "0.00", 10),
             Column("reasons", "说明", width=60)]
    rows = []
    for r in sorted(run.results, key=lambda r: (r.pool is None, r.pool or "", r.rank or 10**9, r.uscc)):
        row = {"pool": r.pool or "不参评/单列", "rank": r.rank, "klass": r.klass, "uscc": r.uscc, "name": r.name,
               "park": r.park, "land_mu": r.land_mu, "bonus": r.bonus, "penalty": r.penalty, "total": r.total,
               "reasons": "；".join(r.reasons), "fill": r.klass}
        for item in r.items:
            row[f"{item['key']}.value"] = item["value"]
            row[f"{item['key']}.benchmark"] = item["benchmark"]
            row[f"{item['key']}.score"] = item["score"]
        rows.append(row)
    return Table(_title(run, "评价结果"), cols, rows, fill_key="fill", fills=CLASS_FILLS,
                 notes=[f"评价批次 #{run.id}，输入指纹 {run.fingerprint}", f"规则来源：{run.ruleset.get('source', '')}"])


def publication_table(run: EvaluationRun) -> Table:
    """公示名单: the scored enterprises by class (best first), then the not-rated (T) list. No scores:
    what is published for objections is the class; the scores stay in the bureau's result table."""
    pub = run.ruleset.get("publication") or {}
    classes = class_names(run.ruleset)
    order = {c: i for i, c in enumerate(classes + ["T"])}
    listed = [r for r in run.results if r.klass in order]
    listed.sort(key=lambda r: (order[r.klass], r.pool or "", r.rank or 10**9, r.uscc))
    rows, n = [], {}
    for r in listed:
        n[r.klass] = n.get(r.klass, 0) + 1
        rows.append({"klass": r.klass, "no": n[r.klass], "name": r.name, "uscc": r.uscc, "park": r.park,
                     "pool": r.pool or "不定等级", "fill": r.klass})
    cols = [Column("klass", "评价等级", width=8), Column("no", "序号", "0", 6), Column("name", "企业名称", width=34),
            Column("uscc", "统一社会信用代码", width=22), Column("park", "所在园区", width=18), Column("pool", "类别", width=10)]
    notes = [f"{c} 类 {n.get(c, 0)} 家" for c in classes + ["T"]]
    if pub.get("period_days"):
        notes.append(f"公示期 {pub['period_days']} 天。")
    if pub.get("contact"):
        notes.append(f"异议受理：{pub['contact']}")
    return Table(pub.get("title") or _title(run, "亩均效益综合评价结果公示名单"), cols, rows,
                 fill_key="fill", fills=CLASS_FILLS, notes=notes)


def consecutive_years(session: Session, run: EvaluationRun) -> dict[str, int]:
    """For each enterprise of the run, how many consecutive years (this one included) it has been in
    its current class, by the latest stored run of each earlier year over the same scope."""
    earlier = {}
    for prior in session.scalars(select(EvaluationRun).where(EvaluationRun.scope == run.scope,
                                                             EvaluationRun.year < run.year)
                                 .order_by(EvaluationRun.year, EvaluationRun.id)):
        earlier[prior.year] = prior.id  # the latest run of each year wins
    classes_by_year = {year: dict(session.execute(select(EvaluationResult.uscc, EvaluationResult.klass)
                                                  .where(EvaluationResult.run_id == run_id)).all())
                       for year, run_id in earlier.items()}
    out = {}
    for r in run.results:
        if r.klass is None:
            continue
        years, y = 1, run.year - 1
        while y in classes_by_year and classes_by_year[y].get(r.uscc) == r.klass:
            years, y = years + 1, y - 1
        out[r.uscc] = years
    return out


def _tier(policy: dict, years: int):
    tiers = sorted(policy.get("tiers") or [], key=lambda t: t[0])
    value = None
    for min_years, amount in tiers:
        if years >= min_years:
            value = amount
    return value


def policy_table(session: Session, run: EvaluationRun) -> Table:
    """The differential-policy list: every enterprise in a class with a configured policy, with the
    consecutive years in that class and the measure (and tiered amount) that applies."""
    policies = {p["class"]: p for p in run.ruleset.get("policies", []) if p.get("class")}
    streak = consecutive_years(session, run)
    order = {c: i for i, c in enumerate(class_names(run.ruleset) + ["T"])}
    rows = []
    for r in sorted((r for r in run.results if r.klass in policies),
                    key=lambda r: (order.get(r.klass, 99), r.pool or "", r.rank or 10**9, r.uscc)):
        p = policies[r.klass]
        years = streak.get(r.uscc, 1)
        amount = _tier(p, years)
        rows.append({"klass": r.klass, "name": r.name, "uscc": r.uscc, "park": r.park, "years": years,
                     "measure": p.get("measure") or p.get("text", ""), "amount": amount, "unit": p.get("unit", ""),
                     "fill": r.klass})
    cols = [Column("klass", "等级", width=6), Column("name", "企业名称", width=34), Column("uscc", "统一社会信用代码", width=22),
            Column("park", "所在园区", width=18), Column("years", "连续年数", "0", 8), Column("measure", "差别化措施", width=50),
            Column("amount", "标准", "0.00", 8), Column("unit", "单位", width=10)]
    notes = [f"{c} 类：{p.get('text', '')}" for c, p in policies.items()]
    notes.append("连续年数按历年同范围评价批次计算（本年计 1 年）。")
    return Table(_title(run, "差别化政策名单"), cols, rows, fill_key="fill", fills=CLASS_FILLS, notes=notes)


def park_table(session: Session, run: EvaluationRun) -> Table:
    """The park ranking with the previous year's figures and the change."""
    rows = []
    classes = class_names(run.ruleset)
    for p in park_ranking(session, run):
        row = {k: p.get(k) for k in ("rank", "park", "land_mu", "land_basis_label", "enterprises", "tax_wan",
                                     "revenue_wan", "value_added_wan", "employees", *METRICS)}
        for c in classes:
            row[f"class.{c}"] = p["classes"].get(c, 0)
        for key in METRICS:
            row[f"change.{key}"] = None if p["change"][key] is None else p["change"][key] / 100
        row["rank_change"] = p["rank_change"]
        rows.append(row)
    cols = [Column("rank", "排名", "0", 6), Column("park", "园区", width=20), Column("land_mu", "用地(亩)", "0.00"),
            Column("land_basis_label", "用地口径", width=14), Column("enterprises", "参评企业", "0", 8),
            Column("tax_wan", "税收(万元)", "#,##0.00"), Column("revenue_wan", "营业收入(万元)", "#,##0.00"),
            Column("value_added_wan", "增加值(万元)", "#,##0.00"), Column("employees", "职工(人)", "#,##0")]
    cols += [Column(k, f"{label}({unit})", "0.00") for k, (label, unit) in METRICS.items()]
    cols += [Column(f"class.{c}", f"{c}类", "0", 6) for c in classes]
    cols += [Column(f"change.{k}", f"{label}同比", "0.0%") for k, (label, _) in METRICS.items()]
    cols += [Column("rank_change", "名次变化", "0", 8)]
    return Table(_title(run, "园区亩均效益排名"), cols, rows,
                 notes=["同比：与上一年度同范围评价批次相比；名次变化为正表示上升。"])


def workbook(session: Session, run: EvaluationRun) -> bytes:
    """The run's full result workbook: summary with a chart, a sheet per pool, the park ranking,
    the not-evaluated list and the method (the same layout as file mode)."""
    return filemode.write(as_engine_run(run), parse_ruleset(run.ruleset), parks=park_ranking(session, run))


TABLES = {"results": lambda session, run: results_table(run), "publication": lambda session, run: publication_table(run),
          "policy": policy_table, "parks": park_table}


def table(session: Session, run: EvaluationRun, what: str) -> Table:
    """One of the run's tables by name: results, publication, policy or parks."""
    if what not in TABLES:
        raise LookupError(f"no table {what!r}: one of {', '.join(TABLES)}")
    return TABLES[what](session, run)
