"""The ``registry`` command: db upgrade, demo, summary, user create, backup and restore here; each
capability's own commands from its package (``evaluate`` from evaluation/, ``landcalc`` from
landsupply/, ``import`` and ``export`` from gis/); and commands that other layers contribute through
the ``registry.commands`` entry-point group (``serve`` comes from web/)."""
from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points

import click

from .assets.parks import find_park
from .core import clock
from .core.enums import Role
from .core.params import Param
from .core.validation import ValidationError
from .storage import config


def date_option(ctx, param, value):
    """A click callback reading a date the way every parameter is read (registry.core.params)."""
    if value is None:
        return None
    try:
        return Param(param.name, "date", "").parse(value)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(f"{p.message}（应为 {p.expected}）" for p in exc.problems)) from None


def park_id(session, name_or_id: str | None) -> int | None:
    """The id of the park a command names (by name or id; None for none), or a usage error that
    lists the parks there are."""
    if not name_or_id:
        return None
    try:
        return find_park(session, name_or_id).id
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None


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
@click.option("--today", callback=date_option, help="Reference date for leases and indicators (default: today).")
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
@click.option("--as-of", "as_of", callback=date_option, help="Date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def summary(obj, park, as_of, fmt):
    from .occupancy import summary as summary_mod
    from .storage.db import session_scope
    with session_scope(obj["url"]) as session:
        if park:
            results = [summary_mod.summarize(session, as_of, park_id(session, park))]
        else:
            results = summary_mod.summarize_parks(session, as_of) + [summary_mod.summarize(session, as_of)]
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            click.echo(r.statement() if r.park_id else "合计：" + r.statement())


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


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked for twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("create", help="Create a user. The password is asked for (or read from stdin with --password-stdin).")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--park", "parks", multiple=True, help="A park of the user's scope (repeatable): a park manager writes to it, every role reads it in full.")
@click.option("--display-name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def user_create(obj, username, role, parks, display_name, password_stdin):
    from .storage.db import session_scope
    from .core.users import create_user
    from .core.validation import ValidationError
    password = _read_password(password_stdin)
    try:
        with session_scope(obj["url"], actor="cli") as session:
            u = create_user(session, username, password, role, [park_id(session, p) for p in parks], display_name)
            click.echo(f"created user {u.username} ({u.role.label})")
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None


@user.command("password", help="Set a user's password (a forgotten one); every session of theirs ends. Asked for, or read from stdin with --password-stdin.")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def user_password(obj, username, password_stdin):
    from sqlalchemy import select
    from .storage.db import session_scope
    from .core.models import User
    from .core.users import set_password
    from .core.validation import ValidationError
    password = _read_password(password_stdin)
    try:
        with session_scope(obj["url"], actor="cli") as session:
            found = session.scalar(select(User.id).where(User.username == username))
            if found is None:
                raise click.ClickException(f"没有用户 {username}")
            set_password(session, None, found, password)
            click.echo(f"password set for {username}; their sessions have ended")
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def add_commands() -> None:
    """Adds each capability's commands (evaluate, landcalc, import, export) and those other layers
    contribute through the ``registry.commands`` entry point (``serve`` from web/)."""
    from .evaluation.cli import evaluate
    from .gis.cli import export_, import_
    from .landsupply.cli import landcalc
    for command in (evaluate, landcalc, import_, export_):
        cli.add_command(command)
    for ep in entry_points(group="registry.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


def main(argv=None):
    """The console script. A database that is down or locked ends the command with a one-line reason
    and exit status 75 (EX_TEMPFAIL: try again later) instead of a traceback."""
    from sqlalchemy.exc import DBAPIError

    from .storage.db import DatabaseUnavailable, unavailable
    add_commands()
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
