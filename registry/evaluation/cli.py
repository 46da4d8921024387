"""``registry evaluate``: the 亩均 evaluation from the command line — the input template, a filled
spreadsheet without the database (file mode), or the registry's own data with the run stored."""
from __future__ import annotations

import json

import click

from ..cli import park_id


@click.group(help="亩均 evaluation: the input template, a filled spreadsheet (file mode), or the registry's data.")
def evaluate():
    pass


@evaluate.command("template", help="Write the empty enterprise input template.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write it (.xlsx).")
def template(out):
    from . import filemode
    with open(out, "wb") as f:
        f.write(filemode.template())
    click.echo(f"template written to {out}")


def _ruleset(ruleset: str):
    from ..core.validation import ValidationError
    from . import rulesets
    try:
        return rulesets.load(ruleset)
    except ValidationError as exc:
        raise click.ClickException("rule set refused: " + str(exc)) from None


@evaluate.command("file", help="Evaluate a filled template without the database; write result.xlsx or JSON.")
@click.option("--ruleset", required=True, help="A preset id (huangyan-2022, huaian-2024) or a rule-set TOML file.")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The filled enterprise template (.xlsx).")
@click.option("--year", type=int, help="The data year (checked against the rule set's year).")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write result.xlsx.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "json"]), default="xlsx", show_default=True)
def from_file(ruleset, source, year, out, fmt):
    from . import engine, filemode
    rs = _ruleset(ruleset)
    if year is not None and year != rs.year:
        raise click.ClickException(f"--year {year} does not match the rule set's year {rs.year} ({rs.id})")
    if fmt == "xlsx" and not out:
        raise click.UsageError("--format xlsx needs --out FILE.xlsx")
    with open(source, "rb") as f:
        records, errors = filemode.read(f.read())
    if errors:
        raise click.ClickException("the input has errors, nothing was evaluated:\n" + "\n".join(errors))
    run = engine.evaluate(rs, records)
    if fmt == "json":
        click.echo(json.dumps(run.to_json(), ensure_ascii=False, indent=1, default=str))
        return
    with open(out, "wb") as f:
        f.write(filemode.write(run, rs))
    counts = {}
    for r in run.results:
        counts[r.klass or "单列/未参评"] = counts.get(r.klass or "单列/未参评", 0) + 1
    click.echo(f"{len(run.results)} enterprises evaluated by {rs.id}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@evaluate.command("registry", help="Evaluate the registry's enterprises and store the run (immutable).")
@click.option("--ruleset", required=True, help="A preset id (huangyan-2022, huaian-2024) or a rule-set TOML file.")
@click.option("--year", type=int, help="The data year (default: the rule set's).")
@click.option("--park", help="Only this park (name or id).")
@click.pass_obj
def from_registry(obj, ruleset, year, park):
    from ..storage.db import session_scope
    from . import runs
    rs = _ruleset(ruleset)
    with session_scope(obj["url"], actor="cli") as session:
        run = runs.run_and_store(session, rs, year or rs.year, actor="cli", park_id=park_id(session, park))
        counts = {k or "—": n for k, n in runs.class_counts(session, run).items()}
        click.echo(f"run #{run.id} ({rs.id}, {run.year}, {run.scope}): {sum(counts.values())} enterprises; "
                   + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; fingerprint {run.fingerprint[:12]}")
