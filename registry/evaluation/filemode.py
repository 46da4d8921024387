"""File mode, for bureaus that only have a spreadsheet: template → filled workbook → results.

No database is involved. Columns have Chinese headers (English keys are accepted too); every bad
cell is reported with its row and column, and nothing is evaluated until all are good.
"""
from __future__ import annotations

import io
import unicodedata

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..core.tabular import append, cell, disk_errors, save
from ..core.validation import uscc_problem, normalize_code
from .engine import EnterpriseInput, Run
from .rulesets import INDICATORS, RuleSet

# (field, Chinese header, kind, description)
COLUMNS = [
    ("uscc", "统一社会信用代码", "code", "18 位，校验位须正确"),
    ("name", "企业名称", "text", ""),
    ("industry_code", "行业代码", "text", "GB/T 4754-2017，如 3311"),
    ("above_scale", "规模", "scale", "规上 或 规下"),
    ("land_mu", "用地面积(亩)", "number", "自有工业用地；租赁企业按本地规则折算后填写"),
    ("tax_wan", "实缴税金(万元)", "signed", "可为负（如留抵退税）"),
    ("value_added_wan", "工业增加值(万元)", "number", ""),
    ("revenue_wan", "营业收入(万元)", "number", ""),
    ("energy_tce", "综合能耗(吨标准煤)", "number", "未填电、气、煤时使用"),
    ("electricity_wan_kwh", "用电量(万千瓦时)", "number", ""),
    ("natural_gas_m3", "天然气(立方米)", "number", ""),
    ("coal_t", "煤炭(吨)", "number", ""),
    ("emissions_t", "主要污染物排放量(吨)", "number", "无数据请留空"),
    ("rnd_wan", "研发经费(万元)", "number", ""),
    ("employees", "年平均职工人数", "number", ""),
    ("years_in_production", "投产年数", "number", ""),
    ("park", "所在园区", "text", ""),
    ("tenant", "是否租赁企业", "bool", "是：名下无工业用地"),
    ("tags", "标签", "text", "high_tech、little_giant 等，逗号分隔"),
    ("veto", "否决事项", "text", "如 安全生产事故；填写即降为末档"),
    ("adjust_to", "调档", "text", "A/B/C/D"),
    ("adjust_reason", "调档原因", "text", ""),
]
BY_HEADER = {h: f for f, h, _, _ in COLUMNS} | {f: f for f, _, _, _ in COLUMNS}
CLASS_FILLS = {"A": "C6EFCE", "B": "DDEBF7", "C": "FFF2CC", "D": "F8CBAD", "T": "EDEDED"}
CHART_COLOURS = {"A": "2E8B57", "B": "4A7FC1", "C": "E0B03C", "D": "C8553D"}


def template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业数据"
    append(ws, [h for _, h, _, _ in COLUMNS])
    for i, _ in enumerate(COLUMNS, start=1):
        ws.cell(1, i).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(i)].width = 16
    ws.freeze_panes = "C2"
    info = wb.create_sheet("填写说明")
    append(info, ["列", "英文键", "说明"])
    for f, h, _, d in COLUMNS:
        append(info, [h, f, d])
    return save(wb)


def _n(v):
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def read(data: bytes) -> tuple[list[EnterpriseInput], list[str]]:
    """The enterprises of a filled template, and every problem as 'row N [column]: reason'."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - anything not a readable xlsx
        return [], [f"无法读取 Excel 文件（{type(exc).__name__}）"]
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [BY_HEADER.get(_n(h) or "") for h in next(rows, ())]
    if "uscc" not in header:
        return [], ["第1行：缺少“统一社会信用代码”列，请使用模板"]
    kinds = {f: k for f, _, k, _ in COLUMNS}
    labels = {f: h for f, h, _, _ in COLUMNS}
    out, errors, seen = [], [], set()
    for n, values in enumerate(rows, start=2):
        cells = {f: _n(v) for f, v in zip(header, values) if f}
        if all(v in (None, "") for v in cells.values()):
            continue
        rec, bad = {}, False
        for f, v in cells.items():
            kind = kinds[f]
            if v in (None, ""):
                continue
            if kind == "code":
                problem = uscc_problem(str(v))
                if problem:
                    errors.append(f"第{n}行 [{labels[f]}]：{problem}")
                    bad = True
                rec[f] = normalize_code(v)
            elif kind in ("number", "signed"):
                try:
                    x = float(str(v).replace(",", "")) if isinstance(v, str) else float(v)
                except ValueError:
                    errors.append(f"第{n}行 [{labels[f]}]：{v!r} 不是数字")
                    bad = True
                    continue
                if kind == "number" and x < 0:
                    errors.append(f"第{n}行 [{labels[f]}]：{v!r} 不能为负")
                    bad = True
                rec[f] = x
            elif kind == "scale":
                if str(v) not in ("规上", "规下", "above", "below"):
                    errors.append(f"第{n}行 [{labels[f]}]：{v!r} 应为 规上 或 规下")
                    bad = True
                rec[f] = str(v) in ("规上", "above")
            elif kind == "bool":
                rec[f] = str(v) in ("是", "Y", "yes", "1", "true")
            else:
                rec[f] = str(v)
        if "uscc" not in rec:
            errors.append(f"第{n}行 [统一社会信用代码]：为空")
            continue
        if rec["uscc"] in seen:
            errors.append(f"第{n}行 [统一社会信用代码]：{rec['uscc']} 重复出现")
            bad = True
        seen.add(rec["uscc"])
        if bad:
            continue
        kwh = rec.pop("electricity_wan_kwh", None)
        tenant = rec.pop("tenant", False)
        tags = tuple(t.strip() for t in rec.pop("tags", "").replace("，", ",").split(",") if t.strip())
        out.append(EnterpriseInput(name=rec.pop("name", ""), electricity_kwh=None if kwh is None else kwh * 10000,
                                   own_land=not tenant, tags=tags, **rec))
    wb.close()
    return out, errors


def _bold(ws, value):
    return cell(ws, value, font=Font(bold=True))


def _num(ws, value):
    return cell(ws, value, number_format="0.00")


def write(run: Run, rs: RuleSet, parks: list[dict] | None = None) -> bytes:
    """Results: a summary with a chart of the classes, one sheet per pool, the park ranking (when
    given: rows of registry.evaluation.parks), the not-evaluated list, and the method in words."""
    with disk_errors():
        return _write(run, rs, parks)


def _write(run: Run, rs: RuleSet, parks: list[dict] | None) -> bytes:
    wb = Workbook(write_only=True)  # streaming: linear in the number of enterprises
    summary = wb.create_sheet("汇总")
    summary.freeze_panes = "A5"
    append(summary, [rs.name, f"{rs.year} 年度"])
    append(summary, ["输入指纹", run.fingerprint])
    append(summary, [])
    append(summary, ["评价组", "企业数"] + [c for c, _ in rs.classification.get("splits", rs.classification.get("thresholds", []))])
    classes = [c for c, _ in rs.classification.get("splits", rs.classification.get("thresholds", []))]
    for pool in rs.pools:
        members = [r for r in run.results if r.pool == pool.name]
        append(summary, [pool.name, len(members)] + [sum(1 for r in members if r.klass == c) for c in classes])
    append(summary, ["不参评 / 单列", sum(1 for r in run.results if r.pool is None)])
    if classes and rs.pools:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title, chart.y_axis.title = "各评价组等级分布", "企业数"
        chart.add_data(Reference(summary, min_col=3, max_col=2 + len(classes), min_row=4, max_row=4 + len(rs.pools)),
                       titles_from_data=True)
        chart.set_categories(Reference(summary, min_col=1, min_row=5, max_row=4 + len(rs.pools)))
        for series, name in zip(chart.series, classes):
            if name in CHART_COLOURS:
                series.graphicalProperties.solidFill = CHART_COLOURS[name]
        summary.add_chart(chart, "H2")
    bold = Font(bold=True)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in CLASS_FILLS.items()}
    for pool in rs.pools:
        ws = wb.create_sheet(pool.name)
        ws.freeze_panes = "E2"
        head = ["排名", "等级", "统一社会信用代码", "企业名称", "园区"]
        for ind in pool.indicators:
            head += [f"{ind.label}({ind.unit})" if ind.unit else ind.label, f"{ind.label}得分"]
        head += ["加分", "减分", "总分", "说明"]
        append(ws, [cell(ws, h, font=bold) for h in head])
        for r in [r for r in run.results if r.pool == pool.name]:
            klass = cell(ws, r.klass, **({"fill": fills[r.klass]} if r.klass in fills else {}))
            row = [r.rank, klass, r.uscc, r.name, r.park or ""]
            for item in r.items:
                row += [_num(ws, item.value), _num(ws, item.score)]
            row += [r.bonus, r.penalty, _num(ws, r.total),
                    "；".join(r.reasons + [f"{i.label}：{i.note}" for i in r.items])]
            append(ws, row)
    if parks:
        ws = wb.create_sheet("园区排名")
        ws.freeze_panes = "C2"
        head = ["排名", "园区", "用地(亩)", "用地口径", "参评企业", "亩均税收(万元/亩)", "亩均营业收入(万元/亩)",
                "亩均增加值(万元/亩)", "人均营业收入(万元/人)"] + [f"{c}类" for c in classes] + ["亩均税收同比"]
        append(ws, [_bold(ws, h) for h in head])
        for p in parks:
            change = (p.get("change") or {}).get("tax_per_mu")
            pct = cell(ws, None if change is None else change / 100, number_format="0.0%")
            append(ws, [p["rank"], p["park"], _num(ws, p["land_mu"]), p["land_basis_label"], p["enterprises"],
                       _num(ws, p["tax_per_mu"]), _num(ws, p["revenue_per_mu"]), _num(ws, p["value_added_per_mu"]),
                       _num(ws, p["revenue_per_employee"])] + [p["classes"].get(c, 0) for c in classes] + [pct])
    other = wb.create_sheet("不参评及单列")
    append(other, ["等级", "统一社会信用代码", "企业名称", "原因"])
    for r in run.results:
        if r.pool is None:
            append(other, [r.klass or "", r.uscc, r.name, "；".join(r.reasons)])
    method = wb.create_sheet("评价方法")
    append(method, ["规则", f"{rs.name}（{rs.id} 第 {rs.version} 版）"])
    append(method, ["来源", rs.source])
    for note in rs.notes:
        append(method, ["说明", note])
    for pool in rs.pools:
        append(method, [])
        append(method, [f"{pool.name}：得分方法", "比值法：Σ 指标值 ÷ 基准值 × 权重" if pool.method == "ratio" else "最小-最大法"])
        for ind in pool.indicators:
            b = ind.benchmark
            bench = f"{b['fixed']}" if "fixed" in b else f"{b.get('k', 1)} × {b['of']}"
            append(method, [ind.label, f"权重 {ind.weight:g}", f"基准 {bench} {INDICATORS[ind.key][1]}"])
    cls = rs.classification
    append(method, [])
    append(method, ["分档", "；".join(f"{c} {s}%" for c, s in cls["splits"]) if cls["method"] == "percentile"
                   else "；".join(f"{c} ≥ {t}" for c, t in cls["thresholds"])])
    return save(wb)
