"""Rule sets: versioned TOML files with a ``source``, validated on load with field-named errors.

A rule set holds the scope (who is evaluated), the pools with their indicators, weights, benchmarks
and scoring method, the classification, and the energy factors. Presets ship in ``rulesets/`` and are
selected by id (``huangyan-2022``); any other file is loaded by path. Every field is documented in
docs/rulesets.md.
"""
from __future__ import annotations

import functools

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..core.validation import Problem, ValidationError

# Indicator keys → (Chinese name, unit, higher is better).
INDICATORS = {
    "tax_per_mu": ("亩均税收", "万元/亩", True),
    "value_added_per_mu": ("亩均增加值", "万元/亩", True),
    "revenue_per_mu": ("亩均营业收入", "万元/亩", True),
    "value_added_per_energy": ("单位能耗增加值", "万元/tce", True),
    "tax_per_energy": ("单位能耗税收", "万元/tce", True),
    "value_added_per_emission": ("单位排放增加值", "万元/t", True),
    "rnd_share": ("R&D经费占营业收入比重", "", True),
    "labour_productivity": ("全员劳动生产率", "万元/人", True),
    "tax_per_electricity": ("单位电耗税收", "万元/万kWh", True),
    "energy_per_value_added": ("单位增加值能耗", "tce/万元", False),
}
# Park-level figures ([parks]): the land basis and the ranking metrics (registry.evaluation.parks).
PARK_LAND = {"supplied": "已供工业用地", "built_up": "建成区面积", "enterprises": "参评企业用地合计"}
PARK_METRICS = {
    "tax_per_mu": ("亩均税收", "万元/亩"),
    "revenue_per_mu": ("亩均营业收入", "万元/亩"),
    "value_added_per_mu": ("亩均增加值", "万元/亩"),
    "revenue_per_employee": ("人均营业收入", "万元/人"),
}
METHODS = ("ratio", "minmax")
MISSING = ("pool_average", "zero")


@dataclass(frozen=True)
class Indicator:
    key: str
    weight: float
    benchmark: dict  # {"fixed": x} | {"k": 2, "of": "pool_mean"|"prior_mean"|"pool_max"|"group_mean"}
    higher_is_better: bool = True
    cap: float | None = None  # item score at most cap × weight
    floor: float | None = None  # item score at least floor × weight

    @property
    def label(self) -> str:
        return INDICATORS[self.key][0]

    @property
    def unit(self) -> str:
        return INDICATORS[self.key][1]


@dataclass(frozen=True)
class Pool:
    name: str
    above_scale: bool | None  # None: any
    method: str
    missing: str
    indicators: tuple[Indicator, ...]
    industries: tuple[str, ...] = ()  # optional industry group (大类 codes)


@dataclass(frozen=True)
class RuleSet:
    id: str
    name: str
    source: str
    jurisdiction: str
    year: int
    version: int
    notes: tuple[str, ...]
    energy: dict
    scope: dict
    pools: tuple[Pool, ...]
    classification: dict
    prior_means: dict = field(default_factory=dict)
    bonuses: tuple[dict, ...] = ()  # {"tag": "high_tech", "points": 2}
    penalties: tuple[dict, ...] = ()
    policies: tuple[dict, ...] = ()
    raw: dict = field(default_factory=dict, repr=False)  # as loaded: copied into each run


def preset_ids() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(__package__).joinpath("rulesets").iterdir()
                  if p.name.endswith(".toml"))


@functools.cache
def preset_choices() -> list[tuple[str, str]]:
    """Every preset as (id, its name as its issuing body names it), for a form's list."""
    return [(ref, load(ref).name) for ref in preset_ids()]


def load(ref: str) -> RuleSet:
    """A preset by id, or a TOML file by path; raises ValidationError naming every bad field."""
    if ref in preset_ids():
        text = resources.files(__package__).joinpath("rulesets", f"{ref}.toml").read_text(encoding="utf-8")
    else:
        path = Path(ref)
        if not path.exists():
            raise ValidationError(Problem("ruleset", f"{ref!r} is neither a preset nor a file",
                                          "one of " + ", ".join(preset_ids()) + ", or a path to a .toml file"))
        text = path.read_text(encoding="utf-8")
    return loads(text)


def loads(text: str) -> RuleSet:
    """A rule set from TOML text (an uploaded file); raises ValidationError naming every bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(Problem("ruleset", f"not valid TOML: {exc}", "a TOML file")) from None
    except RecursionError:  # arrays or tables nested thousands deep: no rule set looks like that
        raise ValidationError(Problem("ruleset", "TOML 文件嵌套过深", "规则文件（TOML），嵌套不超过几层")) from None
    return parse(data)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shape_problems(data) -> list[Problem]:
    """Values of the wrong kind (a number where a table belongs, …), named by field. The checks of
    content in ``parse`` rely on these shapes."""
    problems: list[Problem] = []

    def expect(value, where, ok, expected):
        if value is not None and not ok(value):
            problems.append(Problem(f"ruleset.{where}", f"{value!r} is not {expected}", expected))
            return False
        return value is not None

    is_table = lambda v: isinstance(v, dict)  # noqa: E731
    is_tables = lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)  # noqa: E731
    is_texts = lambda v: isinstance(v, list) and all(isinstance(x, (str, int)) for x in v)  # noqa: E731
    is_pairs = lambda v: isinstance(v, list) and all(  # noqa: E731
        isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and _is_number(x[1]) for x in v)
    if not isinstance(data, dict):
        return [Problem("ruleset", f"{type(data).__name__} is not a rule set", "a TOML document")]
    expect(data.get("year"), "year", lambda v: isinstance(v, int) and not isinstance(v, bool), "a year, e.g. 2024")
    expect(data.get("version"), "version", lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number")
    expect(data.get("notes"), "notes", is_texts, "a list of texts")
    if expect(data.get("scope"), "scope", is_table, "a table [scope]"):
        scope = data["scope"]
        for key in ("exclude_industries", "exempt"):
            expect(scope.get(key), f"scope.{key}", is_texts, "a list of codes")
        for key in ("min_years_in_production", "below_scale_min_mu"):
            expect(scope.get(key), f"scope.{key}", lambda v: _is_number(v) and v >= 0, "a number ≥ 0")
        expect(scope.get("tenants"), "scope.tenants", lambda v: isinstance(v, str), "separate / apportion / merge")
    if expect(data.get("pools"), "pools", is_tables, "a list of [[pools]] tables"):
        for i, p in enumerate(data["pools"]):
            if expect(p.get("indicators"), f"pools[{i}].indicators", is_tables, "a list of indicator tables"):
                for j, ind in enumerate(p["indicators"]):
                    expect(ind.get("benchmark"), f"pools[{i}].indicators[{j}].benchmark", is_table,
                           "a table, e.g. { fixed = 24.1 }")
                    for key in ("cap", "floor"):
                        expect(ind.get(key), f"pools[{i}].indicators[{j}].{key}", _is_number, "a number")
                    expect(ind.get("higher_is_better"), f"pools[{i}].indicators[{j}].higher_is_better",
                           lambda v: isinstance(v, bool), "true or false")
            expect(p.get("industries"), f"pools[{i}].industries", is_texts, "a list of industry codes")
    if expect(data.get("classification"), "classification", is_table, "a table [classification]"):
        for key in ("splits", "thresholds"):
            expect(data["classification"].get(key), f"classification.{key}", is_pairs, '[["A", 20], …]')
    expect(data.get("policies"), "policies", is_tables, "a list of [[policies]] tables")
    for key in ("bonuses", "penalties"):
        if expect(data.get(key), key, is_tables, f"a list of [[{key}]] tables"):
            for i, b in enumerate(data[key]):
                expect(b.get("points"), f"{key}[{i}].points", _is_number, "a number of points")
                if b.get("points") is None:
                    problems.append(Problem(f"ruleset.{key}[{i}].points", "is missing", "a number of points"))
    expect(data.get("prior_means"), "prior_means", lambda v: is_table(v) and all(_is_number(x) for x in v.values()),
           "a table of indicator = mean")
    for key in ("parks", "energy"):
        expect(data.get(key), key, is_table, f"a table [{key}]")
    return problems


def parse(data: dict) -> RuleSet:
    """A validated rule set from its parsed TOML; raises ValidationError naming every bad field."""
    problems = _shape_problems(data)
    if problems:
        raise ValidationError(problems)

    def need(key, kind, where=data, prefix=""):
        if key not in where:
            problems.append(Problem(f"ruleset.{prefix}{key}", "is missing", kind))
            return None
        return where[key]

    for key in ("id", "name", "source", "jurisdiction", "year"):
        need(key, "a value")
    if data.get("source") is not None and not str(data["source"]).strip():
        problems.append(Problem("ruleset.source", "is empty", "where the method was published"))
    pools = []
    for i, p in enumerate(data.get("pools") or []):
        where = f"pools[{i}]."
        method = p.get("method", "ratio")
        if not isinstance(method, str) or method not in METHODS:
            problems.append(Problem(f"ruleset.{where}method", f"{method!r} is unknown", " or ".join(METHODS)))
        missing = p.get("missing", "pool_average")
        if not isinstance(missing, str) or missing not in MISSING:
            problems.append(Problem(f"ruleset.{where}missing", f"{missing!r} is unknown", ", ".join(MISSING)))
        inds = []
        for j, ind in enumerate(p.get("indicators") or []):
            w = f"{where}indicators[{j}]."
            key = ind.get("key")
            if not isinstance(key, str) or key not in INDICATORS:
                problems.append(Problem(f"ruleset.{w}key", f"{key!r} is not an indicator", ", ".join(INDICATORS)))
                continue
            weight = ind.get("weight")
            if not _is_number(weight) or weight <= 0:
                problems.append(Problem(f"ruleset.{w}weight", f"{weight!r} is not a positive number", "e.g. 30"))
                continue
            bench = ind.get("benchmark") or {}
            ok = ("fixed" in bench and isinstance(bench["fixed"], (int, float)) and bench["fixed"] > 0) or (
                bench.get("of") in ("pool_mean", "prior_mean", "pool_max", "group_mean")
                and isinstance(bench.get("k", 1), (int, float)) and bench.get("k", 1) > 0)
            if method == "ratio" and not ok:
                problems.append(Problem(f"ruleset.{w}benchmark", f"{bench!r} is no benchmark",
                                        "{ fixed = 24.1 } or { k = 2.0, of = \"pool_mean\" | \"prior_mean\" | \"pool_max\" | \"group_mean\" }"))
                continue
            inds.append(Indicator(key, float(weight), bench, ind.get("higher_is_better", INDICATORS[key][2]),
                                  ind.get("cap"), ind.get("floor")))
        if not inds:
            problems.append(Problem(f"ruleset.{where}indicators", "no valid indicator", "at least one"))
        pools.append(Pool(p.get("name") or f"pool{i}", p.get("above_scale"), method, missing, tuple(inds),
                          tuple(str(c) for c in p.get("industries", []))))
    if not pools:
        problems.append(Problem("ruleset.pools", "is missing", "one or more [[pools]]"))
    cls = data.get("classification") or {}
    if cls.get("method") == "percentile":
        splits = cls.get("splits") or []
        if not splits or abs(sum(s[1] for s in splits) - 100) > 1e-9:
            problems.append(Problem("ruleset.classification.splits", f"{splits!r} does not add up to 100",
                                    '[["A", 20], ["B", 40], ["C", 35], ["D", 5]]'))
    elif cls.get("method") == "thresholds":
        if not cls.get("thresholds"):
            problems.append(Problem("ruleset.classification.thresholds", "is missing", '[["A", 90], ["B", 70], ["C", 50], ["D", 0]]'))
    else:
        problems.append(Problem("ruleset.classification.method", f"{cls.get('method')!r} is unknown", "percentile or thresholds"))
    class_list = [c for c, _ in (cls.get("splits") or cls.get("thresholds") or [])] + ["T"]
    for i, pol in enumerate(data.get("policies", [])):
        if not isinstance(pol.get("class"), str) or pol.get("class") not in class_list:
            problems.append(Problem(f"ruleset.policies[{i}].class", f"{pol.get('class')!r} is not a class",
                                    " / ".join(class_list)))
        tiers = pol.get("tiers", [])
        if not isinstance(tiers, list) or not all(
                isinstance(t, list) and len(t) == 2 and isinstance(t[0], int) and t[0] >= 1
                and isinstance(t[1], (int, float)) for t in tiers):
            problems.append(Problem(f"ruleset.policies[{i}].tiers", f"{tiers!r} is not a list of tiers",
                                    "[[1, 0.05], [2, 0.10], [3, 0.15]]: [consecutive years at least, amount]"))
    parks = data.get("parks") or {}
    if not isinstance(parks.get("land", "supplied"), str) or parks.get("land", "supplied") not in PARK_LAND:
        problems.append(Problem("ruleset.parks.land", f"{parks.get('land')!r} is unknown", " / ".join(PARK_LAND)))
    if not isinstance(parks.get("rank_by", "tax_per_mu"), str) or parks.get("rank_by", "tax_per_mu") not in PARK_METRICS:
        problems.append(Problem("ruleset.parks.rank_by", f"{parks.get('rank_by')!r} is unknown", " / ".join(PARK_METRICS)))
    energy = data.get("energy") or {}
    for k in ("electricity_kgce_per_kwh", "natural_gas_kgce_per_m3", "coal_tce_per_t"):
        if not isinstance(energy.get(k), (int, float)) or energy[k] <= 0:
            problems.append(Problem(f"ruleset.energy.{k}", f"{energy.get(k)!r} is not a positive factor", "e.g. 0.1229"))
    if problems:
        raise ValidationError(problems)
    return RuleSet(str(data["id"]), data["name"], data["source"], str(data["jurisdiction"]), int(data["year"]),
                   int(data.get("version", 1)), tuple(data.get("notes", [])), energy, data.get("scope", {}),
                   tuple(pools), cls, data.get("prior_means", {}), tuple(data.get("bonuses", [])),
                   tuple(data.get("penalties", [])), tuple(data.get("policies", [])), data)
