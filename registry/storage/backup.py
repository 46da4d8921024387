"""Backups and restores of the whole registry: SQLite's online backup API for SpatiaLite (a
consistent copy while the app keeps serving), pg_dump/pg_restore for PostGIS.

Each backup has a manifest beside it (``<file>.json``): when, from which backend, at which schema
revision, and every table's row count. A restore is all or nothing, and checks the restored counts
against the manifest before it reports success.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from . import migrate
from .db import engine_for
from ..core.models import Base
from ..core import clock

SUFFIX = {"sqlite": ".sqlite", "postgresql": ".dump"}


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why and what was left unchanged."""


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(path)


def row_counts(url: str) -> dict[str, int]:
    """Rows in every registry table (the manifest's check figures)."""
    with engine_for(url).connect() as c:
        return {t.name: c.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def default_path(url: str, folder: Path) -> Path:
    stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
    return folder / f"registry-{stamp}{SUFFIX[_backend(url)]}"


def backup(url: str, dest: str | Path) -> dict:
    """Writes a consistent copy of the database at ``url`` to ``dest`` and its manifest; returns the
    manifest. The file appears under its name only once complete."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    backend = _backend(url)
    partial = dest.with_name(f".{dest.name}.partial")
    tables = [t.name for t in Base.metadata.sorted_tables]
    # The manifest's counts come from the very snapshot that is copied, so writes the app makes
    # meanwhile can never make a good backup look wrong.
    if backend == "sqlite":
        src = sqlite3.connect(_sqlite_path(url))
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # the pages of one consistent state; the app may keep reading and writing
            ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
            counts = {t: dst.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            dst.close()
            src.close()
        if ok != "ok":
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed SQLite's integrity check ({ok}); no backup written")
    else:
        with engine_for(url).connect() as c:
            c = c.execution_options(isolation_level="REPEATABLE READ")
            with c.begin():
                snapshot = c.scalar(text("SELECT pg_export_snapshot()"))
                counts = {t: c.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}
                _pg_tool("pg_dump", url, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                         f"--file={partial}")
    os.replace(partial, dest)
    manifest = {"file": dest.name, "created": clock.local_now().isoformat(timespec="seconds"),
                "backend": backend, "schema": migrate.current(url), "tables": counts,
                "bytes": dest.stat().st_size}
    dest.with_name(dest.name + ".json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def restore(url: str, src: str | Path) -> dict:
    """Replaces the database at ``url`` with the backup ``src`` (made by ``backup`` on the same
    backend), all or nothing; checks every table's row count against the manifest. Returns the
    manifest."""
    src = Path(src)
    if not src.exists():
        raise BackupError(f"no backup file {src}")
    manifest_path = src.with_name(src.name + ".json")
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    backend = _backend(url)
    if manifest and manifest["backend"] != backend:
        raise BackupError(f"{src.name} is a {manifest['backend']} backup; this database is {backend}. "
                          "Move data between backends with registry export/import instead")
    engine_for(url).dispose()  # no pooled connection may hold the old file or schema open
    if backend == "sqlite":
        target = _sqlite_path(url)
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            verdict = source.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:  # not even readable as a database
            verdict = str(exc)
        if verdict != "ok":
            source.close()
            raise BackupError(f"备份文件 {src.name} 不完整或已损坏（{verdict}），数据库未改动")
        dst = sqlite3.connect(target)
        try:
            # One step (all pages): the target changes whole, or not at all.
            source.backup(dst)
        finally:
            dst.close()
            source.close()
    else:
        # --clean drops each object the backup holds before recreating it, all in one transaction.
        # A table the backup does not hold (a newer schema) would survive beside an older
        # alembic_version, so such a target is refused.
        listing = _pg_list(url, src)
        in_backup = set(re.findall(r"^\d+; \d+ \d+ TABLE public (\w+) ", listing, re.M))
        with engine_for(url).connect() as c:
            present = {r[0] for r in c.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"))}
        extra = sorted(present - in_backup)
        if extra:
            raise BackupError(f"this database has tables the backup does not ({', '.join(extra)}): restore into "
                              "a new, empty database, then point the registry at it; nothing was changed")
        # Extensions (PostGIS) belong to the superuser who created them, as docs/operations.md sets
        # up: they are left alone, not dropped and recreated; every other object is recreated
        # owned by the role restoring (the app's), with no grants copied from elsewhere.
        keep = tempfile.NamedTemporaryFile("w", suffix=".list", delete=False)
        with keep:
            keep.write("\n".join(line for line in listing.splitlines() if not _EXTENSION_ENTRY.match(line)))
        try:
            try:  # every block read and decompressed, to nowhere: a damaged file is found before the database is touched
                _pg_tool("pg_restore", url, "--file=/dev/null", str(src))
            except BackupError as exc:
                raise BackupError(f"备份文件 {src.name} 不完整或已损坏（{exc}），数据库未改动") from None
            _pg_tool("pg_restore", url, "--single-transaction", "--no-owner", "--no-privileges", "--clean",
                     "--if-exists", "--exit-on-error", f"--use-list={keep.name}",
                     f"--dbname={make_url(url).database}", str(src))
        finally:
            os.unlink(keep.name)
    engine_for(url).dispose()
    if manifest:
        found = row_counts(url)
        wrong = {t: (n, found.get(t)) for t, n in manifest["tables"].items() if found.get(t) != n}
        if wrong:
            raise BackupError("restored, but these tables do not hold what the backup's manifest says "
                              f"(table: expected, found): {wrong}")
    return manifest or {"file": src.name, "tables": row_counts(url)}


# A listing's extension entries ("EXTENSION - postgis", "COMMENT - EXTENSION postgis") and the
# rows of PostGIS's own table (spatial_ref_sys: the extension's, not the registry's data).
_EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION|COMMENT - EXTENSION|TABLE DATA public spatial_ref_sys) ")


def _pg_list(url: str, src: Path) -> str:
    """The table of contents of the custom-format dump ``src``; a damaged or truncated file is a
    BackupError that says so."""
    try:
        listing = _pg_tool("pg_restore", url, "--list", str(src))
    except BackupError as exc:
        raise BackupError(f"备份文件 {src.name} 不完整或已损坏，无法读取其目录（{exc}），数据库未改动") from None
    if not re.search(r"^\d+; \d+ \d+ TABLE DATA ", listing, re.M):
        raise BackupError(f"备份文件 {src.name} 不含任何表的数据，可能不完整；数据库未改动")
    return listing


def _pg_tool(tool: str, url: str, *args: str) -> str:
    """Runs pg_dump or pg_restore against ``url`` (connection from the URL, password by environment,
    never on the command line); returns its output."""
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is not installed (apt-get install postgresql-client)")
    u = make_url(url)
    env = {**os.environ, "PGPASSWORD": u.password or "", "PGHOST": u.host or "", "PGPORT": str(u.port or 5432),
           "PGUSER": u.username or "", "PGDATABASE": u.database or ""}
    proc = subprocess.run([exe, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{tool} failed, nothing was changed: {proc.stderr.strip()}")
    return proc.stdout
