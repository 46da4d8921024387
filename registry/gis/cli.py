"""``registry import`` and ``registry export``: GIS files in and out from the command line."""
from __future__ import annotations

import json
import sys

import click

from ..cli import date_option, park_id


def _mapping(ctx, param, values):
    out = {}
    for item in values:
        name, sep, source = item.partition("=")
        if not sep or not name.strip() or not source:
            raise click.BadParameter(f"{item!r}: expected FIELD=SOURCE_FIELD (or FIELD==CONSTANT), e.g. code=JZBH")
        out[name.strip()] = source
    return out


@click.command("import", help="Import a GIS file (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, DXF, CSV/XLSX) "
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
    from ..core.validation import ValidationError
    from ..storage.db import session_scope
    from . import importer, profiles
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


@click.command("export", help="Export a layer (parks, plots, buildings, units, vacancies) to GeoJSON, GeoPackage, "
                            "zipped Shapefile, KML, CSV or XLSX.")
@click.argument("layer", type=click.Choice(["parks", "plots", "buildings", "units", "vacancies"]))
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "shp", "kml", "csv", "xlsx"]),
              default="gpkg", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: LAYER.<suffix> here).")
@click.option("--park", help="Only this park (name or id).")
@click.option("--as-of", "as_of", callback=date_option, help="Date of unit status and vacancies (default: today).")
@click.option("--encoding", type=click.Choice(["UTF-8", "GBK"]), default="UTF-8", show_default=True,
              help="Shapefile text encoding (GBK for old ArcGIS).")
@click.option("--public", is_flag=True, help="Only the fields the public investor map shows.")
@click.pass_obj
def export_(obj, layer, fmt, out, park, as_of, encoding, public):
    from ..core import clock
    from ..core.authz import EVERYTHING, PUBLIC
    from ..storage.db import session_scope
    from . import exporter
    from geodata.writers import DiskFull
    out = out or f"{layer}{exporter.SUFFIX[fmt]}"
    with session_scope(obj["url"]) as session:
        try:
            n = exporter.export(session, layer, fmt, out, day=as_of or clock.today(),
                                audience=PUBLIC if public else EVERYTHING,
                                park=park_id(session, park), encoding=encoding)
        except DiskFull as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {n} {layer} to {out}")


