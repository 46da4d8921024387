"""Land-use control indicator tables: versioned TOML files with a source, validated on load.

A table holds the control indicators (建筑系数, 行政办公及生活服务设施用地, 绿地率, the tall-storey rule),
minimum 容积率 per industry, 投资强度 minima (per industry, or by region class and industry), and
local 标准地 rules (per-industry 亩均 commitments, the standard-factory threshold, deadlines). A local
table ``extends`` another (usually the national one) and overrides what it sets. Each per-industry
section says which edition of GB/T 4754 its codes are (``code_basis``): the 2008 national 容积率 table
is keyed by 2002 codes, and ``crosswalk.toml`` maps the 2017 codes the registry stores onto them.

Tables ship in ``tables/``; more can be dropped into ``<instance>/landsupply/`` (or the folder in
REGISTRY_LANDSUPPLY_TABLES) without code changes. The format is documented in docs/landsupply.md.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..storage import config
from ..core.validation import Problem, ValidationError

BASES = ("gb4754-2002", "gb4754-2017")
CONTROL_KEYS = {
    "building_coefficient_min": "建筑系数下限",
    "admin_land_share_max": "行政办公及生活服务设施用地比重上限",
    "admin_gfa_share_max": "行政办公及生活服务设施建筑面积比重上限",
    "green_ratio_max": "绿地率上限",
    "tall_storey_m": "计两层的层高界限 (m)",
}
# Per-industry 标准地 commitments a local table may set: key → (label, unit, comparator)
COMMITMENTS = {
    "investment_intensity_min": ("固定资产投资强度", "万元/亩", ">="),
    "tax_per_mu_min": ("亩均税收", "万元/亩", ">="),
    "value_added_per_mu_min": ("亩均增加值", "万元/亩", ">="),
    "output_per_mu_min": ("亩均产出", "万元/亩", ">="),
    "labour_productivity_min": ("全员劳动生产率", "万元/人·年", ">="),
    "value_added_per_energy_min": ("单位能耗增加值", "万元/tce", ">="),
    "value_added_per_emission_min": ("单位排放增加值", "万元/t", ">="),
    "rnd_share_min": ("研发经费占营业收入比重", "", ">="),
}
MU_PER_HECTARE = 15.0


@dataclass(frozen=True)
class Section:
    """Per-industry values and the GB/T 4754 edition their codes belong to."""
    basis: str
    values: dict


@dataclass(frozen=True)
class Table:
    id: str
    name: str
    source: str
    edition: int
    jurisdictions: tuple[str, ...]
    notes: tuple[str, ...]
    controls: dict
    far_min: Section
    industries: Section  # code → {label, investment_intensity_min, tax_per_mu_min, …}
    intensity_classes: Section  # region class → {code → 万元/亩}
    standard_factory: dict
    deadlines: dict
    lineage: tuple[str, ...] = field(default=())  # this table, then what it extends


@dataclass(frozen=True)
class Crosswalk:
    map: dict  # 2017 大类 → [2002 大类 …]
    names_2002: dict
    source: str

    def reverse(self, code_2002: str) -> list[str]:
        return sorted(c for c, olds in self.map.items() if code_2002 in olds)


def _folders() -> list[Path]:
    extra = os.environ.get("REGISTRY_LANDSUPPLY_TABLES") or str(config.instance_path() / "landsupply")
    return [Path(p) for p in extra.split(os.pathsep) if p]


def _raw_tables() -> dict[str, tuple[dict, str]]:
    out = {}
    shipped = resources.files(__package__).joinpath("tables")
    for item in sorted(shipped.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            out[item.name[:-5]] = (item.read_text(encoding="utf-8"), f"shipped:{item.name}")
    for folder in _folders():
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                out[path.stem] = (path.read_text(encoding="utf-8"), str(path))
    parsed = {}
    for stem, (text, where) in out.items():
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(Problem(f"landsupply table {where}", f"not valid TOML: {exc}", "a TOML file")) from None
        parsed[str(data.get("id", stem))] = (data, where)
    return parsed


def _check(data: dict, where: str) -> list[Problem]:
    problems = []

    def bad(path, value, expected):
        problems.append(Problem(f"{where}: {path}", f"{value!r} is not valid", expected))

    for key in ("id", "name", "source"):
        if not str(data.get(key, "")).strip():
            problems.append(Problem(f"{where}: {key}", "is missing", "a value (source: where the values were published)"))
    if data.get("code_basis", "gb4754-2017") not in BASES:
        bad("code_basis", data.get("code_basis"), " or ".join(BASES))
    for key, value in (data.get("controls") or {}).items():
        if key not in CONTROL_KEYS:
            bad(f"controls.{key}", key, ", ".join(CONTROL_KEYS))
        elif not isinstance(value, (int, float)) or value <= 0 or (key != "tall_storey_m" and value > 1):
            bad(f"controls.{key}", value, "a share between 0 and 1 (e.g. 0.30)" if key != "tall_storey_m" else "metres, e.g. 8")
    for code, value in (data.get("far_min") or {}).items():
        if not (str(code).isdigit() and len(str(code)) == 2) or not isinstance(value, (int, float)) or value <= 0:
            bad(f"far_min.{code}", value, "a 2-digit 大类 code = a positive 容积率")
    for code, row in (data.get("industries") or {}).items():
        if not (str(code).isdigit() and len(str(code)) == 2):
            bad(f"industries.{code}", code, "a 2-digit 大类 code")
            continue
        for key, value in row.items():
            if key == "label":
                continue
            if key not in COMMITMENTS:
                bad(f"industries.{code}.{key}", key, ", ".join(COMMITMENTS))
            elif not isinstance(value, (int, float)) or value <= 0:
                bad(f"industries.{code}.{key}", value, "a positive number")
    intensity = data.get("investment_intensity") or {}
    if intensity:
        if intensity.get("unit", "万元/亩") not in ("万元/亩", "万元/公顷"):
            bad("investment_intensity.unit", intensity.get("unit"), "万元/亩 or 万元/公顷")
        for cls, rows in (intensity.get("classes") or {}).items():
            for code, value in rows.items():
                if not isinstance(value, (int, float)) or value <= 0:
                    bad(f"investment_intensity.classes.{cls}.{code}", value, "a positive number")
    sf = data.get("standard_factory") or {}
    for key in ("max_mu", "max_floor_load_t_m2", "max_clear_height_m"):
        if key in sf and (not isinstance(sf[key], (int, float)) or sf[key] <= 0):
            bad(f"standard_factory.{key}", sf[key], "a positive number")
    for key, value in (data.get("deadlines") or {}).items():
        if key not in ("start", "completion", "full_production") or not isinstance(value, int) or value <= 0:
            bad(f"deadlines.{key}", value, "start / completion / full_production = months after supply")
    return problems


def _build(tid: str, raw: dict, seen: tuple[str, ...] = ()) -> Table:
    if tid not in raw:
        raise ValidationError(Problem("landsupply.table", f"{tid!r} is not a known table", ", ".join(sorted(raw))))
    data, where = raw[tid]
    if tid in seen:
        raise ValidationError(Problem(f"{where}: extends", f"{' → '.join(seen + (tid,))} is a cycle", "a chain ending in a national table"))
    problems = _check(data, where)
    if problems:
        raise ValidationError(problems)
    parent = _build(str(data["extends"]), raw, seen + (tid,)) if data.get("extends") else None
    basis = data.get("code_basis", "gb4754-2017")
    intensity = data.get("investment_intensity") or {}
    factor = MU_PER_HECTARE if intensity.get("unit") == "万元/公顷" else 1.0
    classes = {cls: {c: v / factor for c, v in rows.items()} for cls, rows in (intensity.get("classes") or {}).items()}

    def section(own: dict | None, inherited: Section | None) -> Section:
        if own:
            return Section(basis, dict(own))
        return inherited or Section(basis, {})

    return Table(
        id=str(data["id"]), name=data["name"], source=data["source"], edition=int(data.get("edition", 0)),
        jurisdictions=tuple(str(j) for j in data.get("jurisdictions", [])),
        notes=tuple(data.get("notes", [])) + (parent.notes if parent else ()),
        controls={**(parent.controls if parent else {}), **(data.get("controls") or {})},
        far_min=section(data.get("far_min"), parent.far_min if parent else None),
        industries=section(data.get("industries"), parent.industries if parent else None),
        intensity_classes=section(classes, parent.intensity_classes if parent else None),
        standard_factory={**(parent.standard_factory if parent else {}), **(data.get("standard_factory") or {})},
        deadlines={**(parent.deadlines if parent else {}), **(data.get("deadlines") or {})},
        lineage=(str(data["id"]),) + (parent.lineage if parent else ()),
    )


def table_ids() -> list[str]:
    return sorted(_raw_tables())


def load(tid: str) -> Table:
    """A table by id (shipped or in the tables folder), merged with what it extends."""
    return _build(tid, _raw_tables())


def for_jurisdiction(code: str | None) -> Table:
    """The most specific table for a GB/T 2260 code: one listing the code itself, then its city
    (first 4 digits), then its province (first 2); else the national table."""
    raw = _raw_tables()
    if code:
        for prefix in (code, code[:4] + "00", code[:2] + "0000"):
            for tid, (data, _) in sorted(raw.items()):
                if prefix in [str(j) for j in data.get("jurisdictions", [])]:
                    return _build(tid, raw)
    nationals = [tid for tid, (data, _) in raw.items() if not data.get("jurisdictions") and not data.get("extends")]
    if not nationals:
        raise ValidationError(Problem("landsupply.table", "no national table is installed", "national-2008.toml"))
    return _build(max(nationals, key=lambda t: raw[t][0].get("edition", 0)), raw)


@lru_cache(maxsize=1)
def crosswalk() -> Crosswalk:
    data = tomllib.loads(resources.files(__package__).joinpath("crosswalk.toml").read_text(encoding="utf-8"))
    return Crosswalk({k: list(v) for k, v in data["map"].items()}, dict(data["names_2002"]), data["source"])


def listing() -> list[dict]:
    """Every installed table: id, name, source, edition, the jurisdictions it is chosen for, and the
    tables it extends."""
    out = []
    for tid in table_ids():
        t = load(tid)
        out.append({"id": t.id, "name": t.name, "source": t.source, "edition": t.edition,
                    "jurisdictions": list(t.jurisdictions), "extends": list(t.lineage[1:])})
    return out
