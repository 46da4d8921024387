"""Scoring enterprises by a rule set, with every number explained.

Pure computation over plain records: the same function serves file mode (a spreadsheet, no
database), registry runs, tests and benchmarks. The result is deterministic: the same rule set and
inputs give the same scores, ranks and classes, and the same input fingerprint.
"""
from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import orjson

from .rulesets import Indicator, Pool, RuleSet


@dataclass(frozen=True)
class EnterpriseInput:
    uscc: str
    name: str
    industry_code: str = ""
    above_scale: bool = False
    land_mu: float | None = None
    tax_wan: float | None = None
    value_added_wan: float | None = None
    revenue_wan: float | None = None
    energy_tce: float | None = None  # as reported; used when no raw quantities are given
    electricity_kwh: float | None = None
    natural_gas_m3: float | None = None
    coal_t: float | None = None
    emissions_t: float | None = None
    rnd_wan: float | None = None
    employees: float | None = None
    years_in_production: float | None = None
    tags: tuple[str, ...] = ()
    park: str | None = None
    own_land: bool = True  # False: a tenant without industrial land of its own
    land_formula: str | None = None  # how land_mu was obtained (tenant strategies), shown in results
    veto: str | None = None  # e.g. 安全生产事故: downgraded to the last class
    adjust_to: str | None = None  # manual 调档
    adjust_reason: str | None = None


@dataclass
class Item:
    key: str
    label: str
    unit: str
    weight: float
    value: float | None
    benchmark: float | None
    score: float
    note: str = ""


@dataclass
class Result:
    uscc: str
    name: str
    park: str | None
    pool: str | None
    items: list[Item] = field(default_factory=list)
    bonus: float = 0.0
    penalty: float = 0.0
    total: float | None = None
    rank: int | None = None
    pool_size: int | None = None
    klass: str | None = None  # A/B/C/D, T (not evaluated), or None (separate list / no land)
    reasons: list[str] = field(default_factory=list)


@dataclass
class Run:
    ruleset: dict
    year: int
    fingerprint: str
    results: list[Result]

    def to_json(self) -> dict:
        return {"ruleset": self.ruleset, "year": self.year, "fingerprint": self.fingerprint,
                "results": [asdict(r) for r in self.results]}


def tce(rec: EnterpriseInput, rs: RuleSet) -> tuple[float | None, str]:
    """综合能耗 in tce on the rule set's basis, from raw quantities where given, else as reported."""
    e = rs.energy
    raw = [rec.electricity_kwh, rec.natural_gas_m3, rec.coal_t]
    if any(x is not None for x in raw):
        total = ((rec.electricity_kwh or 0) * e["electricity_kgce_per_kwh"] / 1000
                 + (rec.natural_gas_m3 or 0) * e["natural_gas_kgce_per_m3"] / 1000 + (rec.coal_t or 0) * e["coal_tce_per_t"])
        # Quantities as a statistician writes them: 1,858,840 kWh, never 1.85884e+06.
        return total, (f"综合能耗 {total:,.3f} tce = 电 {rec.electricity_kwh or 0:,.0f} kWh × {e['electricity_kgce_per_kwh']} kgce/kWh"
                       f" + 气 {rec.natural_gas_m3 or 0:,.0f} m³ × {e['natural_gas_kgce_per_m3']} + 煤 {rec.coal_t or 0:,.2f} t × {e['coal_tce_per_t']}"
                       f"（{'等价值' if e.get('basis') == 'equivalent' else '当量值'}）")
    return rec.energy_tce, "综合能耗按企业填报" if rec.energy_tce is not None else ""


def _div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def value_of(key: str, rec: EnterpriseInput, energy: float | None) -> tuple[float | None, str]:
    """An indicator's value and, when it cannot be computed, why."""
    land = rec.land_mu
    values = {
        "tax_per_mu": (rec.tax_wan, land), "value_added_per_mu": (rec.value_added_wan, land),
        "revenue_per_mu": (rec.revenue_wan, land), "value_added_per_energy": (rec.value_added_wan, energy),
        "tax_per_energy": (rec.tax_wan, energy), "value_added_per_emission": (rec.value_added_wan, rec.emissions_t),
        "rnd_share": (rec.rnd_wan, rec.revenue_wan), "labour_productivity": (rec.value_added_wan, rec.employees),
        "tax_per_electricity": (rec.tax_wan, None if rec.electricity_kwh is None else rec.electricity_kwh / 10000),
        "energy_per_value_added": (energy, rec.value_added_wan),
    }
    a, b = values[key]
    v = _div(a, b)
    if v is not None:
        return v, ""
    if a is None:
        return None, "分子数据缺失"
    return None, "分母为零或缺失，无法计算"


def _benchmark(ind: Indicator, rs: RuleSet, pool_values: list[float], group_values: list[float]) -> tuple[float | None, str]:
    b = ind.benchmark
    if "fixed" in b:
        return float(b["fixed"]), f"基准值 {b['fixed']}（规则给定）"
    k = float(b.get("k", 1.0))
    of = b["of"]
    if of == "prior_mean":
        prior = rs.prior_means.get(ind.key)
        if prior:
            return k * prior, f"基准值 = {k:g} × 上年均值 {prior}"
        of = "pool_mean"
        note = "（未提供上年均值，改用本年本组均值）"
    else:
        note = ""
    values = group_values if of == "group_mean" else pool_values
    if not values:
        return None, "无可比数据，基准值无法确定"
    base = max(values) if of == "pool_max" else statistics.fmean(values)
    word = {"pool_mean": "本组均值", "pool_max": "本组最大值", "group_mean": "同行业均值"}[of]
    if base <= 0:
        return None, f"{word} {base:.4g} 不为正，基准值无法确定"
    return k * base, f"基准值 = {k:g} × {word} {base:.4f}{note}"


def _score(ind: Indicator, method: str, value: float, bench: float | None, values: list[float]) -> tuple[float, str]:
    if method == "minmax":
        lo, hi = values[0], values[1]
        if hi == lo:
            return ind.weight, "全组数值相同，得满分"
        frac = (value - lo) / (hi - lo) if ind.higher_is_better else (hi - value) / (hi - lo)
        return ind.weight * (20 + 80 * frac) / 100, f"{ind.weight:g} × (20 + 80 × {frac:.4f}) / 100"
    if bench is None:
        return 0.0, "基准值缺失，得 0 分"
    if ind.higher_is_better:
        s = value / bench * ind.weight
        text = f"{value:.4f} ÷ {bench:.4f} × {ind.weight:g}"
    else:
        s = max(0.0, (2 - value / bench) * ind.weight)
        text = f"(2 − {value:.4f} ÷ {bench:.4f}) × {ind.weight:g}，不低于 0"
    if ind.cap is not None and s > ind.cap * ind.weight:
        s, text = ind.cap * ind.weight, text + f"，封顶 {ind.cap:g} × 权重"
    if ind.floor is not None and s < ind.floor * ind.weight:
        s, text = ind.floor * ind.weight, text + f"，保底 {ind.floor:g} × 权重"
    return s, text


def _in_pool(p: Pool, rec: EnterpriseInput) -> bool:
    return (p.above_scale is None or p.above_scale == rec.above_scale) and (
        not p.industries or rec.industry_code[:2] in p.industries)


FINGERPRINT_VERSION = "v2"


def fingerprint(rs: RuleSet, records: list[EnterpriseInput]) -> str:
    """The run's input fingerprint: ``v2-`` and 61 hex digits of the SHA-256 of the rule set and
    every input record (sorted by USCC) as one canonical JSON document (orjson, keys sorted).

    Equal inputs give equal fingerprints within one version. Runs stored before version 2 carry 64
    hex digits (``json.dumps``'s spacing and number forms, ten times slower to produce); a v1 and
    a v2 fingerprint never compare equal, so a changed fingerprint across that upgrade says nothing
    about the inputs. The prefix keeps the 64 characters a stored run has room for.
    """
    # vars() rather than asdict(): the records are flat, and asdict's deep copy is 10× slower.
    payload = orjson.dumps({"ruleset": rs.raw, "inputs": [vars(r) for r in sorted(records, key=lambda r: r.uscc)]},
                           option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return f"{FINGERPRINT_VERSION}-{hashlib.sha256(payload).hexdigest()[:61]}"


def evaluate(rs: RuleSet, records: list[EnterpriseInput]) -> Run:
    """Scores, ranks and classes for every record, each with its explanation: who takes part and in
    which pool (``_admit``), each indicator's score within the pool (``_score_indicator``), the
    bonuses and penalties (``_adjust``), then ranks and classes (``_rank_and_classify``)."""
    results: dict[str, Result] = {}
    pools: dict[str, list[EnterpriseInput]] = {p.name: [] for p in rs.pools}
    for rec in sorted(records, key=lambda r: r.uscc):
        res = results[rec.uscc] = Result(rec.uscc, rec.name, rec.park, None)
        pool = _admit(rs, rec, res)
        if pool is not None:
            res.pool = pool.name
            pools[pool.name].append(rec)
    for pool in rs.pools:
        members = pools[pool.name]
        if not members:
            continue
        energies = {r.uscc: tce(r, rs) for r in members}
        for ind in pool.indicators:
            _score_indicator(rs, pool, ind, members, energies, results)
        for r in members:
            _adjust(rs, r, results[r.uscc])
        _rank_and_classify(rs, [results[r.uscc] for r in members], {r.uscc: r for r in members})
    ordered = sorted(results.values(), key=lambda x: (x.pool or "~", x.rank or 10**9, x.uscc))
    return Run(rs.raw, rs.year, fingerprint(rs, records), ordered)


def _admit(rs: RuleSet, rec: EnterpriseInput, res: Result):
    """The pool ``rec`` is evaluated in, or None (T class, a separate list, or not evaluated), with
    the reason in ``res``."""
    scope = rs.scope
    if rec.land_formula:
        res.reasons.append(f"用地：{rec.land_formula}")
    if rec.industry_code[:2] in scope.get("exclude_industries", []):
        res.klass = "T"
        res.reasons.append(f"行业 {rec.industry_code} 属公用事业，不参评（T 类）")
        return None
    if rec.uscc in scope.get("exempt", []):
        res.klass = "T"
        res.reasons.append("规则列明的豁免企业，不参评（T 类）")
        return None
    min_years = scope.get("min_years_in_production", 0)
    if min_years and rec.years_in_production is not None and rec.years_in_production < min_years:
        res.klass = "T"
        res.reasons.append(f"投产 {rec.years_in_production:g} 年，不足 {min_years:g} 年，不参评（T 类）")
        return None
    if not rec.own_land and scope.get("tenants", "separate") == "separate":
        res.reasons.append("租赁企业（名下无工业用地），按规则单列名单，不参与本评价排名")
        return None
    if rec.land_mu is None or rec.land_mu <= 0:
        res.reasons.append("用地面积为 0 或缺失：亩均指标无法计算，未参评，请核实用地数据")
        return None
    if not rec.above_scale and rec.land_mu < scope.get("below_scale_min_mu", 0):
        res.reasons.append(f"规下企业用地 {rec.land_mu:.2f} 亩，不足 {scope['below_scale_min_mu']:g} 亩，不参评")
        return None
    pool = next((p for p in rs.pools if _in_pool(p, rec)), None)
    if pool is None:
        res.reasons.append("不属于任何评价组")
    return pool


def _score_indicator(rs: RuleSet, pool, ind, members: list[EnterpriseInput], energies: dict,
                     results: dict[str, Result]) -> None:
    """One indicator of one pool: each member's value against the benchmark (the pool's, or its
    industry group's), its score and how it was reached; a missing value under the pool's rule."""
    values = {r.uscc: value_of(ind.key, r, energies[r.uscc][0]) for r in members}
    col = [v for v, _ in values.values() if v is not None]
    # Benchmarks once per pool (and per industry group), not once per enterprise.
    pool_bench = _benchmark(ind, rs, col, col)
    group_bench = {}
    if ind.benchmark.get("of") == "group_mean":
        by_group: dict[str, list[float]] = defaultdict(list)
        for r in members:
            v = values[r.uscc][0]
            if v is not None:
                by_group[r.industry_code[:2]].append(v)
        group_bench = {g: _benchmark(ind, rs, col, vals) for g, vals in by_group.items()}
    lohi = (min(col), max(col)) if col else (0.0, 0.0)
    scored: dict[str, tuple[float, str, float | None]] = {}
    for r in members:
        v, _why = values[r.uscc]
        if v is None:
            continue
        bench, bench_note = group_bench.get(r.industry_code[:2], pool_bench)
        s, how = _score(ind, pool.method, v, bench, lohi)
        scored[r.uscc] = (s, f"{how} = {s:.2f}；{bench_note}", bench)
    average = statistics.fmean(s for s, _, _ in scored.values()) if scored else 0.0
    for r in members:
        v, why = values[r.uscc]
        if r.uscc in scored:
            s, note, bench = scored[r.uscc]
            if v is not None and v < 0:
                note += "；数值为负（如留抵退税），按负分计"
        else:
            bench = None
            if pool.missing == "pool_average":
                s, note = average, f"{why}：按本组该项平均得分 {average:.2f} 计"
            else:
                s, note = 0.0, f"{why}：该项得 0 分"
        if ind.key in ("value_added_per_energy", "tax_per_energy", "energy_per_value_added") and energies[r.uscc][1]:
            note += f"；{energies[r.uscc][1]}"
        results[r.uscc].items.append(Item(ind.key, ind.label, ind.unit, ind.weight, v, bench, s, note))


def _adjust(rs: RuleSet, rec: EnterpriseInput, res: Result) -> None:
    """The rule set's bonuses and penalties for ``rec``'s tags, and its total."""
    for b in rs.bonuses:
        if b.get("tag") in rec.tags:
            res.bonus += float(b["points"])
            res.reasons.append(f"加分 {b['points']}：{b.get('reason', b['tag'])}")
    for p in rs.penalties:
        if p.get("tag") in rec.tags:
            res.penalty += float(p["points"])
            res.reasons.append(f"减分 {p['points']}：{p.get('reason', p['tag'])}")
    res.total = round(sum(i.score for i in res.items) + res.bonus - res.penalty, 6)


def _rank_and_classify(rs: RuleSet, pool: list[Result], inputs: dict[str, EnterpriseInput]) -> None:
    """Competition ranking (ties share the better rank) and classes; then vetoes and 调档."""
    pool.sort(key=lambda x: (-x.total, x.uscc))
    n = len(pool)
    cls = rs.classification
    for i, res in enumerate(pool):
        res.rank = pool[i - 1].rank if i > 0 and res.total == pool[i - 1].total else i + 1
        res.pool_size = n
        if cls["method"] == "percentile":
            position = (res.rank - 1) / n  # the share of the pool ranked above this enterprise
            cumulative = 0.0
            for name, share in cls["splits"]:
                cumulative += share / 100
                if position < cumulative - 1e-12:
                    res.klass = name
                    break
            ahead = res.rank - 1
            res.reasons.append(f"组内第 {res.rank}/{n} 名（排在前面的有 {ahead} 家，占 {position * 100:.1f}%），"
                               f"按比例划为 {res.klass} 类")
        else:
            for name, threshold in cls["thresholds"]:
                if res.total >= threshold:
                    res.klass = name
                    break
            res.reasons.append(f"得分 {res.total:.2f}，按分数线划为 {res.klass} 类")
    last = (cls.get("splits") or cls.get("thresholds"))[-1][0]
    for res in pool:
        rec = inputs[res.uscc]
        if rec.veto:
            res.reasons.append(f"一票否决：{rec.veto}，由 {res.klass} 类降为 {last} 类")
            res.klass = last
        if rec.adjust_to:
            res.reasons.append(f"人工调档：{res.klass} → {rec.adjust_to}（{rec.adjust_reason or '未注明原因'}）")
            res.klass = rec.adjust_to
