"""The ``registry`` command: db upgrade, demo, summary, user create, and commands that other layers
contribute through the ``registry.commands`` entry-point group (``serve`` comes from web/)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from importlib.metadata import entry_points

import click
from sqlalchemy import or_, select

from .storage import config
from .core.enums import Role
from .core import clock


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD") from None


@click.group(help="Industrial park and standard-factory asset registry (园区与标准厂房资产登记).")
@click.option("--database", envvar=config.DATABASE_URL_ENV, metavar="URL",
              help="Database URL (default: the SpatiaLite file in the instance folder; "
                   f"also read from {config.DATABASE_URL_ENV}).")
@click.pass_context
def cli(ctx, database):
    ctx.obj = {"url": database or config.database_url()}


@cli.group(help="Database schema.")
def db():
    pass


@db.command("upgrade", help="Apply migrations up to REVISION (default: the latest).")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(obj, revision):
    from .storage import migrate
    migrate.upgrade(obj["url"], revision)
    click.echo(f"database at revision {migrate.current(obj['url'])}: {_safe_url(obj['url'])}")


@db.command("downgrade", help="Undo migrations down to REVISION ('base' removes every table and its data).")
@click.argument("revision")
@click.confirmation_option(prompt="Downgrading can drop tables and their data. Continue?")
@click.pass_obj
def db_downgrade(obj, revision):
    from .storage import migrate
    migrate.downgrade(obj["url"], revision)
    click.echo(f"database at revision {migrate.current(obj['url']) or 'base'}")


@db.command("current", help="Show the applied migration.")
@click.pass_obj
def db_current(obj):
    from .storage import migrate
    click.echo(migrate.current(obj["url"]) or "base (empty)")


@cli.command(help="Load the demo dataset: three parks modelled on county bureau reports.")
@click.option("--today", callback=_date, help="Reference date for leases and indicators (default: today).")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already holds parks.")
@click.pass_obj
def demo(obj, today, if_empty):
    from .storage import bulk, migrate
    from .sample import demo as demo_mod
    from .storage.db import session_scope
    today = today or clock.today()
    if migrate.current(obj["url"]) != migrate.head():
        raise click.ClickException("the database schema is not current; run: registry db upgrade")
    with session_scope(obj["url"], actor="demo") as session:
        if not bulk.is_empty(session):
            if if_empty:
                click.echo("the database already holds parks; demo data not loaded")
                return
            raise click.ClickException("the database already holds parks; demo data loads only into an empty "
                                       "database (point REGISTRY_DATABASE_URL at a new file)")
        ds = demo_mod.demo_dataset(today)
        with click.progressbar(length=len(bulk.TABLES), label="loading demo data", file=sys.stderr) as bar:
            counts = bulk.load(session, ds, progress=bar.update)
    click.echo("loaded " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@cli.command(help="The bureau-report summary of one park or of all parks on a date.")
@click.option("--park", "park", help="Park name or id (default: every park, then the total).")
@click.option("--as-of", "as_of", callback=_date, help="Date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def summary(obj, park, as_of, fmt):
    from .occupancy import summary as summary_mod
    from .storage.db import session_scope
    with session_scope(obj["url"]) as session:
        if park:
            results = [summary_mod.summarize(session, as_of, _park_id(session, park))]
        else:
            results = summary_mod.summarize_parks(session, as_of) + [summary_mod.summarize(session, as_of)]
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            click.echo(r.statement() if r.park_id else "合计：" + r.statement())


@cli.command(help="亩均 evaluation from a spreadsheet, without the database (file mode).")
@click.option("--ruleset", help="A preset id (huangyan-2022, huaian-2024) or a rule-set TOML file.")
@click.option("--year", type=int, help="The data year (checked against the rule set's year).")
@click.option("--from", "source", type=click.Path(exists=True, dir_okay=False), help="The filled enterprise template (.xlsx).")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write result.xlsx (or the template).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "json"]), default="xlsx", show_default=True)
@click.option("--template", "want_template", is_flag=True, help="Write the empty input template to --out.")
@click.option("--registry", "from_registry", is_flag=True, help="Read inputs from the registry and store the run.")
@click.option("--park", help="With --registry: only this park (name).")
@click.pass_obj
def evaluate(obj, ruleset, year, source, out, fmt, want_template, from_registry, park):
    from .evaluation import engine, filemode, rulesets
    from .core.validation import ValidationError
    if want_template:
        if not out:
            raise click.UsageError("--template needs --out FILE.xlsx")
        with open(out, "wb") as f:
            f.write(filemode.template())
        click.echo(f"template written to {out}")
        return
    if from_registry:
        from .storage.db import session_scope
        from .evaluation import runs
        from .core.models import Park
        rs = rulesets.load(ruleset)
        with session_scope(obj["url"], actor="cli") as session:
            park_id = None
            if park:
                park_id = session.scalar(select(Park.id).where(Park.name == park))
                if park_id is None:
                    raise click.ClickException(f"no park is named {park!r}")
            run = runs.run_and_store(session, rs, year or rs.year, actor="cli", park_id=park_id)
            counts = {k or "—": n for k, n in runs.class_counts(session, run).items()}
            click.echo(f"run #{run.id} ({rs.id}, {run.year}, {run.scope}): {sum(counts.values())} enterprises; "
                       + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; fingerprint {run.fingerprint[:12]}")
        return
    if not (ruleset and source):
        raise click.UsageError("give --ruleset and --from (or --template --out FILE)")
    try:
        rs = rulesets.load(ruleset)
    except ValidationError as exc:
        raise click.ClickException("rule set refused: " + str(exc)) from None
    if year is not None and year != rs.year:
        raise click.ClickException(f"--year {year} does not match the rule set's year {rs.year} ({rs.id})")
    with open(source, "rb") as f:
        records, errors = filemode.read(f.read())
    if errors:
        raise click.ClickException("the input has errors, nothing was evaluated:\n" + "\n".join(errors))
    run = engine.evaluate(rs, records)
    if fmt == "json":
        click.echo(json.dumps(run.to_json(), ensure_ascii=False, indent=1, default=str))
        return
    if not out:
        raise click.UsageError("--format xlsx needs --out FILE.xlsx")
    with open(out, "wb") as f:
        f.write(filemode.write(run, rs))
    counts = {}
    for r in run.results:
        counts[r.klass or "单列/未参评"] = counts.get(r.klass or "单列/未参评", 0) + 1
    click.echo(f"{len(run.results)} enterprises evaluated by {rs.id}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _landcalc_options(f):
    from .landsupply.service import PARAMS
    for p in reversed(PARAMS):
        f = click.option("--" + p.name.replace("_", "-"), p.name, help=f"{p.label}: {p.description}")(f)
    return f


@cli.command(help="Land-supply calculator (供地测算): allowed land, control indicators, 标准地 commitments, "
                  "and the standard-factory alternative. Numbers in m², 万元, t/m², m; see docs/landsupply.md.")
@_landcalc_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--tables", "list_tables", is_flag=True, help="List the indicator tables and exit.")
@click.pass_obj
def landcalc(obj, fmt, list_tables, **params):
    from .storage.db import session_scope
    from .landsupply import service, tables
    from .core.validation import ValidationError
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


def _park_id(session, park: str | None) -> int | None:
    from .core.models import Park
    if not park:
        return None
    cond = Park.name == park
    if park.isdigit():
        cond = or_(cond, Park.id == int(park))
    park_id = session.scalar(select(Park.id).where(cond))
    if park_id is None:
        raise click.ClickException(f"no park is named {park!r}")
    return park_id


def _mapping(ctx, param, values):
    out = {}
    for item in values:
        name, sep, source = item.partition("=")
        if not sep or not name.strip() or not source:
            raise click.BadParameter(f"{item!r}: expected FIELD=SOURCE_FIELD (or FIELD==CONSTANT), e.g. code=JZBH")
        out[name.strip()] = source
    return out


@cli.command("import", help="Import a GIS file (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, DXF, CSV/XLSX) "
                            "into parks, plots, buildings or units. Without --commit it is a dry run.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--into", "target", type=click.Choice(["parks", "plots", "buildings", "units"]),
              help="The kind of record each feature becomes (or the profile's).")
@click.option("--park", help="The park (name or id) every record belongs to, unless a field gives it.")
@click.option("--layer", help="GeoPackage/KML layer, shapefile in a zip, or sheet (default: the first).")
@click.option("--map", "mapping", multiple=True, callback=_mapping, metavar="FIELD=SOURCE",
              help="Take FIELD from SOURCE (repeatable; FIELD==VALUE gives a constant). Unmapped fields are "
                   "matched by name, alias and usual abbreviations.")
@click.option("--encoding", help="Text encoding, overriding .cpg and detection (e.g. GBK, UTF-8).")
@click.option("--crs", help="Source CRS, overriding the file's, e.g. EPSG:4526 (zone 38 with prefix).")
@click.option("--datum", type=click.Choice(["wgs84", "gcj02", "bd09"]),
              help="gcj02/bd09: lon/lat traced on AMap/Tencent or Baidu maps.")
@click.option("--cad-layer", "cad_layers", multiple=True, help="DXF: only entities on this CAD layer (repeatable).")
@click.option("--close-tolerance", type=float, help="Largest gap (m) closed between a polyline's ends [0.5].")
@click.option("--repair", is_flag=True, default=None, help="Repair invalid geometries with make_valid (reported).")
@click.option("--skip-rejected", is_flag=True, help="Commit the good features and skip the rejected ones.")
@click.option("--profile", help="Start from this saved profile.")
@click.option("--save-profile", help="Save the options and mapping under this name.")
@click.option("--commit", "do_commit", is_flag=True, help="Write to the database (otherwise only report).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def import_(obj, path, target, park, layer, mapping, encoding, crs, datum, cad_layers, close_tolerance, repair,
            skip_rejected, profile, save_profile, do_commit, fmt):
    from geodata.sources import SourceError
    from .storage.db import session_scope
    from .gis import importer, profiles
    from .core.validation import ValidationError
    given = {"target": target, "park": park, "layer": layer, "mapping": mapping, "encoding": encoding, "crs": crs,
             "datum": datum, "cad_layers": list(cad_layers) or None, "close_tolerance_m": close_tolerance,
             "repair": repair, "skip_rejected": skip_rejected or None}
    try:
        with session_scope(obj["url"], actor="cli") as session:
            if profile:
                options = profiles.load(session, profile, **given)
            else:
                if not target:
                    raise click.UsageError("give --into (parks, plots, buildings or units) or --profile")
                options = importer.Options.from_dict({k: val for k, val in given.items() if val is not None})
            plan = importer.plan(session, path, options)
            if fmt == "json" and not do_commit:
                click.echo(json.dumps(plan.as_json(), ensure_ascii=False, indent=2))
            else:
                _print_plan(plan)
            if save_profile:
                profiles.save(session, None, save_profile, options)
                click.echo(f"profile {save_profile!r} saved")
            if do_commit:
                if not plan.can_commit:
                    importer.commit(session, plan)  # raises ImportRefused with the reasons
                total = len(plan.new) + len(plan.updated)
                with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                    counts = importer.commit(session, plan, progress=bar.update)
                click.echo("committed: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
            elif plan.problems or (plan.rejected and not options.skip_rejected):
                click.echo("dry run: fix the problems above (or use --skip-rejected) before --commit")
            else:
                click.echo("dry run: nothing written; add --commit to import")
    except (SourceError, ValidationError, importer.ImportRefused, LookupError) as exc:
        raise click.ClickException(str(exc)) from None


def _print_plan(plan) -> None:
    click.echo(f"file: {plan.source} ({plan.format}), layer {plan.layer}"
               + (f" of {', '.join(plan.layers)}" if len(plan.layers) > 1 else ""))
    if plan.encoding is not None:
        click.echo(f"encoding: {plan.encoding}")
    for name, values in plan.samples.items():
        click.echo(f"  {name}: " + " | ".join(values))
    if plan.crs is not None:
        click.echo(f"coordinates: {plan.crs.label} (from {plan.crs.how})")
    click.echo("mapping: " + (", ".join(f"{k} ← {v}" for k, v in plan.mapping.items()) or "none"))
    for note in plan.notes:
        click.echo(f"note: {note}")
    for problem in plan.problems:
        click.echo(f"PROBLEM: {problem}")
    click.echo(plan.summary())
    for r in plan.rejected:
        click.echo(f"  rejected {r}")
    for number, key, note in plan.repaired:
        click.echo(f"  repaired feature {number} ({key}): {note}")
    for f in plan.updated[:50]:
        click.echo(f"  update feature {f.number} ({f.key}): " + ", ".join(f.changes))


@cli.command("export", help="Export a layer (parks, plots, buildings, units, vacancies) to GeoJSON, GeoPackage, "
                            "zipped Shapefile, KML, CSV or XLSX.")
@click.argument("layer", type=click.Choice(["parks", "plots", "buildings", "units", "vacancies"]))
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "shp", "kml", "csv", "xlsx"]),
              default="gpkg", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: LAYER.<suffix> here).")
@click.option("--park", help="Only this park (name or id).")
@click.option("--as-of", "as_of", callback=_date, help="Date of unit status and vacancies (default: today).")
@click.option("--encoding", type=click.Choice(["UTF-8", "GBK"]), default="UTF-8", show_default=True,
              help="Shapefile text encoding (GBK for old ArcGIS).")
@click.option("--public", is_flag=True, help="Only the fields the public investor map shows.")
@click.pass_obj
def export_(obj, layer, fmt, out, park, as_of, encoding, public):
    from .storage.db import session_scope
    from .gis import exporter
    from geodata.writers import DiskFull
    out = out or f"{layer}{exporter.SUFFIX[fmt]}"
    with session_scope(obj["url"]) as session:
        try:
            n = exporter.export(session, layer, fmt, out, day=as_of or clock.today(), public=public,
                                park=_park_id(session, park), encoding=encoding)
        except DiskFull as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {n} {layer} to {out}")


@cli.command("backup", help="Write a consistent copy of the whole database (SpatiaLite: online backup; "
                            "PostGIS: pg_dump) and its manifest of row counts.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Backup file (default: backups/registry-<date>-<time>.sqlite|.dump in the instance folder).")
@click.pass_obj
def backup_(obj, out):
    from .storage import backup
    path = out or backup.default_path(obj["url"], config.instance_path() / "backups")
    try:
        manifest = backup.backup(obj["url"], path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up {sum(manifest['tables'].values()):,} rows in {len(manifest['tables'])} tables "
               f"(schema {manifest['schema']}) to {path} ({manifest['bytes']:,} bytes)")


@cli.command("restore", help="Replace the database with a backup made by `registry backup` (all or nothing; "
                             "row counts checked against the backup's manifest).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore_(obj, file, yes):
    from .storage import backup
    if not yes:
        click.confirm(f"Replace everything in {_safe_url(obj['url'])} with {file}?", abort=True)
    try:
        manifest = backup.restore(obj["url"], file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {sum(manifest['tables'].values()):,} rows in {len(manifest['tables'])} tables from {file}")


@cli.group(help="Users.")
def user():
    pass


@user.command("create", help="Create a user. The password is asked for (or read from stdin with --password-stdin).")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--park", "parks", multiple=True, help="A park a park manager may write to (repeatable).")
@click.option("--display-name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def user_create(obj, username, role, parks, display_name, password_stdin):
    from .storage.db import session_scope
    from .core.users import create_user
    from .core.validation import ValidationError
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(obj["url"], actor="cli") as session:
            u = create_user(session, username, password, role, list(parks), display_name)
            click.echo(f"created user {u.username} ({u.role.label})")
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def _add_contributed_commands() -> None:
    for ep in entry_points(group="registry.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


def main(argv=None):
    """The console script. A database that is down or locked ends the command with a one-line reason
    and exit status 75 (EX_TEMPFAIL: try again later) instead of a traceback."""
    from sqlalchemy.exc import DBAPIError

    from .storage.db import DatabaseUnavailable, unavailable
    _add_contributed_commands()
    try:
        status = cli.main(args=argv, prog_name="registry", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (DBAPIError, DatabaseUnavailable) as exc:
        problem = unavailable(exc)
        if problem is None:
            raise
        click.echo(f"Error: {problem}", err=True)
        sys.exit(75)
    sys.exit(status if isinstance(status, int) else 0)
