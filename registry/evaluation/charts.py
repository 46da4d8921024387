"""Charts of a stored run, as SVG or PNG: score distribution, class shares, park comparison, trend.

Drawn with matplotlib's object API (no pyplot state, safe in a threaded server) in Noto Sans CJK,
which the install puts on the machine. SVG text is drawn as paths, so the files look the same on a
computer without Chinese fonts; metadata carries no date, so the same run gives the same bytes.
"""
from __future__ import annotations

import io

from matplotlib import rc_context
from matplotlib.figure import Figure
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.models import EvaluationRun
from .rulesets import PARK_METRICS
from .runs import class_names, enterprise_history, park_ranking

KINDS = ("distribution", "classes", "parks", "trend")
FORMATS = ("svg", "png")
CLASS_COLOURS = {"A": "#2e8b57", "B": "#4a7fc1", "C": "#e0b03c", "D": "#c8553d", "T": "#9e9e9e"}
STYLE = {"font.family": ["Noto Sans CJK SC", "DejaVu Sans"], "font.size": 10, "svg.hashsalt": "registry",
         "axes.spines.top": False, "axes.spines.right": False}


def _render(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else 72, bbox_inches="tight",
                metadata={"Date": None} if fmt == "svg" else {"Software": "registry"})
    return buf.getvalue()


def distribution(run: EvaluationRun, fig: Figure) -> None:
    """Histogram of total scores, one series per pool."""
    ax = fig.add_subplot()
    pools = [p["name"] for p in run.ruleset.get("pools", [])]
    for pool in pools:
        totals = [r.total for r in run.results if r.pool == pool and r.total is not None]
        if totals:
            ax.hist(totals, bins=min(30, max(5, len(totals) // 5)), alpha=0.6, label=f"{pool}（{len(totals)} 家）")
    ax.set_xlabel("综合得分")
    ax.set_ylabel("企业数")
    ax.set_title(f"{run.year} 年度 得分分布")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False)


def classes(run: EvaluationRun, fig: Figure) -> None:
    """Stacked bars: each pool's enterprises by class (with the not-rated T class)."""
    ax = fig.add_subplot()
    names = class_names(run.ruleset) + ["T"]
    pools = [p["name"] for p in run.ruleset.get("pools", [])] + ["不定等级"]
    left = [0] * len(pools)
    for c in names:
        counts = [sum(1 for r in run.results if r.klass == c and (r.pool == p or (p == "不定等级" and r.pool is None)))
                  for p in pools]
        ax.barh(pools, counts, left=left, color=CLASS_COLOURS.get(c, "#777777"), label=f"{c} 类")
        for i, n in enumerate(counts):
            if n:
                ax.text(left[i] + n / 2, i, str(n), ha="center", va="center", color="white", fontsize=8)
        left = [a + b for a, b in zip(left, counts)]
    ax.invert_yaxis()
    ax.set_xlabel("企业数")
    ax.set_title(f"{run.year} 年度 各等级企业数")
    ax.legend(frameon=False, ncol=len(names), loc="lower center", bbox_to_anchor=(0.5, -0.35))


def parks(session: Session, run: EvaluationRun, fig: Figure, metric: str = "tax_per_mu") -> None:
    """Horizontal bars: each park's figure on ``metric``, best first."""
    label, unit = PARK_METRICS[metric]
    rows = [p for p in park_ranking(session, run) if p.get(metric) is not None]
    rows.sort(key=lambda p: -p[metric])
    ax = fig.add_subplot()
    ax.barh([p["park"] for p in rows], [p[metric] for p in rows], color="#4a7fc1")
    for i, p in enumerate(rows):
        ax.text(p[metric], i, f" {p[metric]:.2f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{label}（{unit}）")
    ax.set_title(f"{run.year} 年度 园区{label}对比")
    fig.set_figheight(max(3.0, 0.35 * len(rows) + 1.2))


def trend(session: Session, run: EvaluationRun, fig: Figure, uscc: str | None = None,
          metric: str = "tax_per_mu") -> None:
    """One enterprise's score over the years (with its class), or, without ``uscc``, each park's
    ``metric`` over the years of the runs with the same scope."""
    ax = fig.add_subplot()
    if uscc:
        history = enterprise_history(session, uscc)
        years = [r.year for r, res in history if res.total is not None]
        totals = [res.total for _, res in history if res.total is not None]
        ax.plot(years, totals, marker="o", color="#4a7fc1")
        for (r, res) in history:
            if res.total is not None:
                ax.annotate(res.klass or "", (r.year, res.total), textcoords="offset points", xytext=(0, 6),
                            ha="center", color=CLASS_COLOURS.get(res.klass or "", "#333333"))
        name = history[-1][1].name if history else uscc
        ax.set_title(f"{name} 历年综合得分")
        ax.set_ylabel("综合得分")
    else:
        label, unit = PARK_METRICS[metric]
        runs = {}
        for r in session.scalars(select(EvaluationRun).where(EvaluationRun.scope == run.scope,
                                                             EvaluationRun.year <= run.year)
                                 .order_by(EvaluationRun.year, EvaluationRun.id)):
            runs[r.year] = r  # the latest run of each year
        series: dict[str, list[tuple[int, float]]] = {}
        for year, r in sorted(runs.items()):
            for p in r.parks or []:
                if p.get(metric) is not None:
                    series.setdefault(p["park"], []).append((year, p[metric]))
        for park, points in sorted(series.items()):
            ax.plot([y for y, _ in points], [v for _, v in points], marker="o", label=park)
        ax.set_title(f"园区{label}历年变化")
        ax.set_ylabel(f"{label}（{unit}）")
        if len(series) <= 12 and series:
            ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("年度")
    ax.xaxis.get_major_locator().set_params(integer=True)


def chart(session: Session, run: EvaluationRun, kind: str, fmt: str, *, uscc: str | None = None,
          metric: str = "tax_per_mu") -> bytes:
    """One chart of the run as SVG or PNG bytes. Raises ValueError for an unknown kind, format or metric."""
    if kind not in KINDS:
        raise ValueError(f"unknown chart {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: svg or png")
    if metric not in PARK_METRICS:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(PARK_METRICS)}")
    with rc_context(STYLE):
        fig = Figure(figsize=(7.5, 4.0))
        if kind == "distribution":
            distribution(run, fig)
        elif kind == "classes":
            classes(run, fig)
        elif kind == "parks":
            parks(session, run, fig, metric)
        else:
            trend(session, run, fig, uscc, metric)
        return _render(fig, fmt)
