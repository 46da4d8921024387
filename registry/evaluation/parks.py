"""Park-level 亩均 figures: what each park's evaluated enterprises yield per mu of the park's land.

Per park: the sums of tax, revenue, value added and employees over the enterprises scored in the
run (tenants merged into a landlord count through the landlord; a separate tenant list does not
count), divided by the park's land. Which land is the rule set's choice (``[parks] land``):

- ``supplied``: industrial plots supplied by the end of the year (the registry's plots);
- ``built_up``: the park's whole built-up area (建成区面积, ``Park.built_area_mu``);
- ``enterprises``: the land of the evaluated enterprises themselves (file mode has nothing else).

Parks are ranked by ``[parks] rank_by`` (default 亩均税收), with class counts, and compared with the
previous year's run for the same scope.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from .engine import EnterpriseInput, Result
from .rulesets import PARK_LAND, PARK_METRICS

def settings(ruleset_raw: Mapping) -> tuple[str, str]:
    """The rule set's land basis and ranking metric (checked when the rule set was loaded)."""
    parks = ruleset_raw.get("parks") or {}
    return parks.get("land", "supplied"), parks.get("rank_by", "tax_per_mu")


def _div(a: float, b: float | None) -> float | None:
    return None if not b else a / b


def park_figures(results: Iterable[Result], inputs: Mapping[str, EnterpriseInput], classes: list[str],
                 ruleset_raw: Mapping, park_land: Mapping[str, float | None] | None = None) -> list[dict]:
    """One row per park, ranked. ``park_land`` maps park names to their land in 亩 on the rule set's
    basis; without it (file mode) or for a park it lacks, the evaluated enterprises' land is used and
    the row says so."""
    basis, rank_by = settings(ruleset_raw)
    sums: dict[str, dict] = defaultdict(lambda: {"enterprises": 0, "tax_wan": 0.0, "revenue_wan": 0.0,
                                                 "value_added_wan": 0.0, "employees": 0.0, "enterprise_land_mu": 0.0,
                                                 "classes": {c: 0 for c in classes}})
    for r in results:
        if r.pool is None or not r.park:
            continue  # not scored: not part of the park's evaluated figures
        rec = inputs[r.uscc]
        s = sums[r.park]
        s["enterprises"] += 1
        for key in ("tax_wan", "revenue_wan", "value_added_wan", "employees"):
            s[key] += getattr(rec, key) or 0.0
        s["enterprise_land_mu"] += rec.land_mu or 0.0
        if r.klass in s["classes"]:
            s["classes"][r.klass] += 1
    rows = []
    for park, s in sums.items():
        land = (park_land or {}).get(park) if basis != "enterprises" else None
        used = basis if land else "enterprises"
        land = land or s["enterprise_land_mu"]
        row = {"park": park, "land_mu": round(land, 4), "land_basis": used, "land_basis_label": PARK_LAND[used],
               **{k: round(v, 4) if isinstance(v, float) else v for k, v in s.items()}}
        row["tax_per_mu"] = _div(s["tax_wan"], land)
        row["revenue_per_mu"] = _div(s["revenue_wan"], land)
        row["value_added_per_mu"] = _div(s["value_added_wan"], land)
        row["revenue_per_employee"] = _div(s["revenue_wan"], s["employees"])
        rows.append(row)
    rows.sort(key=lambda x: (-(x[rank_by] if x[rank_by] is not None else float("-inf")), x["park"]))
    for i, row in enumerate(rows):
        tied = i > 0 and row[rank_by] == rows[i - 1][rank_by]
        row["rank"] = rows[i - 1]["rank"] if tied else i + 1
    return rows


def with_change(rows: list[dict], prior: list[dict] | None) -> list[dict]:
    """The rows with the previous year's figures and the change: ``prior`` (metric values and rank)
    and ``change`` (per metric, in percent of the prior value; None where there is nothing to compare)."""
    before = {p["park"]: p for p in (prior or [])}
    out = []
    for row in rows:
        p = before.get(row["park"])
        change = {}
        for key in PARK_METRICS:
            a, b = row.get(key), p.get(key) if p else None
            change[key] = None if a is None or not b else round((a - b) / abs(b) * 100, 2)
        out.append({**row, "prior": ({k: p.get(k) for k in (*PARK_METRICS, "rank")} if p else None), "change": change,
                    "rank_change": (p["rank"] - row["rank"]) if p else None})
    return out
