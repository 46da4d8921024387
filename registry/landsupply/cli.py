"""``registry landcalc``: the land-supply calculator from the command line, its options made from the
calculator's parameter list (``service.PARAMS``)."""
from __future__ import annotations

import json

import click


def _landcalc_options(f):
    from .service import PARAMS
    for p in reversed(PARAMS):
        f = click.option("--" + p.name.replace("_", "-"), p.name, help=f"{p.label}: {p.description}")(f)
    return f


@click.command(help="Land-supply calculator (供地测算): allowed land, control indicators, 标准地 commitments, "
                  "and the standard-factory alternative. Numbers in m², 万元, t/m², m; see docs/landsupply.md.")
@_landcalc_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--tables", "list_tables", is_flag=True, help="List the indicator tables and exit.")
@click.pass_obj
def landcalc(obj, fmt, list_tables, **params):
    from ..core import clock
    from ..core.validation import ValidationError
    from ..storage.db import session_scope
    from . import service, tables
    if list_tables:
        for tid in tables.table_ids():
            t = tables.load(tid)
            click.echo(f"{t.id}\t{t.name}\t{','.join(t.jurisdictions) or '全国'}\t{t.source}")
        return
    try:
        req = service.parse({k: v for k, v in params.items() if v is not None})
        with session_scope(obj["url"], actor="cli") as session:
            result = service.calculate(session, req, clock.today())
            session.rollback()  # the calculator reads only
    except ValidationError as exc:
        raise click.ClickException("input refused, nothing was computed:\n" + "\n".join(
            f"  {p.field}: {p.message} (expected {p.expected})" for p in exc.problems)) from None
    if fmt == "json":
        click.echo(json.dumps(service.as_json(result), ensure_ascii=False, indent=1, default=str))
        return
    click.echo(f"{result.verdict}")
    for reason in result.reasons:
        click.echo(f"  - {reason}")
    click.echo(f"指标表：{result.table['name']}（{' ← '.join(result.table['lineage'])}）")
    click.echo(f"行业：{result.industry['crosswalk']}")
    for b in result.bounds:
        click.echo(f"  {'至多' if b['kind'] == 'max' else '至少'} {b['mu']:.2f} 亩  {b['constraint']}：{b['how']}")
    for ch in result.checks:
        if ch.ok is None:
            continue
        shown = f"{ch.value:.2%}" if ch.unit == "%" else f"{ch.value:,.2f}"
        limit = f"{ch.limit:.0%}" if ch.unit == "%" else f"{ch.limit:g}"
        click.echo(f"  {'✓' if ch.ok else '✗'} {ch.label} {shown} {ch.comparator} {limit}")
    for c in result.commitments:
        click.echo(f"  承诺 {c['indicator']} {c['comparator']} {c['threshold']} {c['unit']}，{c['deadline']}")
    sf = result.standard_factory
    click.echo(f"可用标准厂房单元 {len(sf['units'])} 个，合计 {sf['available_m2']:,.0f} m²")


