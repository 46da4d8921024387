"""Engines and sessions for both backends: SpatiaLite (embedded default) and PostgreSQL + PostGIS.

Import order matters: the wheels' PROJ/GEOS/GDAL must be loaded before mod_spatialite, which SQLite
loads with RTLD_GLOBAL and which would otherwise capture their symbols (a heap corruption at exit).
"""
from __future__ import annotations

import pyogrio  # noqa: F401  - load bundled GDAL/PROJ before mod_spatialite (see module docstring)
import pyproj  # noqa: F401
import shapely  # noqa: F401

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from functools import lru_cache

from geoalchemy2 import load_spatialite
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from ..core import audit, integrity  # noqa: F401  - they register the flush rules and the audit trail
from ..core.conflicts import Conflict
from ..core.integrity import taken_words
from . import config

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

INSTALL_HINT = "apt-get install -y libsqlite3-mod-spatialite"


class SpatiaLiteUnavailable(RuntimeError):
    """SQLite cannot load mod_spatialite here; the message says how to fix it."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot take the request now: unreachable (``kind`` "unreachable"), busy with
    another writer ("busy"), or its disk is full ("full"). Nothing was written; the same request
    may be retried after ``retry_after`` seconds (after space is freed, for a full disk)."""

    def __init__(self, kind: str, detail: str):
        self.kind, self.detail = kind, detail
        self.retry_after = {"busy": 5, "full": 300}.get(kind, 30)
        what = {"busy": "the database is busy with another writer",
                "full": "the database's disk is full"}.get(kind, "the database cannot be reached")
        super().__init__(f"{what}; nothing was written, try again in {self.retry_after} s ({detail})")


# Driver messages that mean "not now" rather than "not this": SQLite's lock, PostgreSQL going away.
_BUSY = ("database is locked", "database table is locked", "database is busy")
_FULL = ("database or disk is full", "no space left on device", "could not extend file", "disk full")
_UNREACHABLE = ("connection refused", "terminating connection", "server closed the connection", "connection is closed",
                "the database system is shutting down", "the database system is starting up",
                "could not connect", "connection to server", "consuming input failed", "no connection to the server",
                "connection timeout expired", "the connection is lost")


# What any failure of the database or its driver is raised as (an availability problem or not).
DatabaseError = DBAPIError


def release(session: Session) -> None:
    """Ends a session whose transaction failed: rolled back, or, when its connection is gone, the
    connection dropped (the pool makes new ones)."""
    try:
        session.rollback()
    except DBAPIError:
        session.invalidate()


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """``exc`` (a SQLAlchemy or driver error) as a DatabaseUnavailable, or None if it is about the
    request itself (a constraint, bad SQL) rather than the database's availability."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = str(orig).lower()
    if any(m in low for m in _BUSY):
        return DatabaseUnavailable("busy", text)
    if any(m in low for m in _FULL) or getattr(orig, "sqlstate", None) == "53100":
        return DatabaseUnavailable("full", text)
    if getattr(exc, "connection_invalidated", False) or any(m in low for m in _UNREACHABLE):
        return DatabaseUnavailable("unreachable", text)
    return None


def _load_spatialite(dbapi_conn, _record):
    try:
        # transaction=True: InitSpatialMetaData in one transaction, 0.07 s instead of 20 s per new file.
        load_spatialite(dbapi_conn, transaction=True)
    except Exception as exc:  # sqlite3.OperationalError from load_extension
        raise SpatiaLiteUnavailable(
            f"SQLite could not load mod_spatialite ({exc}). Install it with: {INSTALL_HINT}") from exc
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    # How long a write waits for another writer before the request is answered "busy, retry".
    cur.execute(f"PRAGMA busy_timeout = {config.sqlite_busy_timeout_ms()}")
    cur.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for ``url`` (default: config.database_url()) with SpatiaLite loaded on SQLite."""
    url = url or config.database_url()
    if url.startswith("sqlite"):
        if not hasattr(sqlite3.Connection, "enable_load_extension"):
            raise SpatiaLiteUnavailable(
                "this Python's sqlite3 cannot load extensions; create the venv with Debian's "
                "/usr/bin/python3 (see README)")
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _load_spatialite)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn, _record):
            # WAL lets the map keep reading while a manager saves; one writer at a time as ever.
            dbapi_conn.execute("PRAGMA journal_mode = WAL")
            # The transactions are ours (below), not the driver's: left to itself, Python's sqlite3
            # runs reads outside any transaction and begins one only at the first write, so the
            # check before a write (is the unit free?) could see data another writer is changing.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A write takes SQLite's write lock when it begins, before it reads: a second writer
            # waits for the first to commit (up to the busy timeout), then reads what it wrote.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # No JIT: the registry's queries are short, and compiling them (60 ms for the map's clusters)
    # costs more than it saves. Measured in docs/performance.md.
    kwargs.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One shared engine per URL for the process."""
    return make_engine(url)


def dialect(session_or_engine) -> str:
    """'sqlite' or 'postgresql'."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name


def insert_missing(session: Session, model, **values) -> None:
    """Adds a row of ``model`` with ``values`` unless one with its primary key is there: one
    statement on either backend (ON CONFLICT DO NOTHING), so parallel first inserts cannot both
    add it nor fail."""
    if dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    keys = [c.name for c in model.__table__.primary_key.columns]
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


class _LostRace(Exception):
    """Inside a failed flush: another writer got there first (turned into a Conflict once the
    transaction is rolled back)."""

    def __init__(self, exc: Exception, versioned: list):
        self.exc, self.versioned = exc, versioned


class RegistrySession(Session):
    """A session whose lost races are refused in the registry's own terms, like any other refusal:
    a save based on stale data (another writer bumped the version first) and a value another writer
    took at the same moment (a unique key, a lease period on PostGIS's exclusion constraint) both
    become a ``Conflict``, after the transaction is rolled back, so nothing is half-written. Errors
    that are not races (a bug, the database going away) pass through unchanged."""

    _committing = False

    def flush(self, objects=None) -> None:
        # The versions the writes are based on, read now: a failed flush leaves them unreadable.
        versioned = [(o, inspect(o).dict.get("version")) for o in (*self.dirty, *self.deleted)
                     if getattr(type(o), "__mapper__", None) is not None and type(o).__mapper__.version_id_col is not None]
        try:
            super().flush(objects)
        except (StaleDataError, IntegrityError, OperationalError) as exc:
            if isinstance(exc, IntegrityError) and taken(exc) is None:
                raise
            if isinstance(exc, OperationalError) and not _stale_snapshot(exc):
                raise
            if self._committing:
                raise _LostRace(exc, versioned) from exc  # commit rolls back, then answers
            self.rollback()
            raise self._conflict(_LostRace(exc, versioned)) from None

    def commit(self) -> None:
        self._committing = True
        try:
            super().commit()
        except _LostRace as lost:
            self.rollback()
            raise self._conflict(lost) from None
        finally:
            self._committing = False

    def _conflict(self, lost: _LostRace) -> Conflict:
        """The Conflict for a race lost by this session, whose transaction is rolled back."""
        if isinstance(lost.exc, IntegrityError):
            return taken(lost.exc)
        versioned = lost.versioned
        table = next((o.__tablename__ for o, _ in versioned if f"'{o.__tablename__}'" in str(lost.exc)
                      or f" {o.__tablename__} " in str(getattr(lost.exc, "statement", ""))), None)
        stale, seen = next(((o, v) for o, v in versioned if o.__tablename__ == table),
                           versioned[0] if len(versioned) == 1 else (None, None))
        if stale is None:
            return Conflict(entity=table, message="记录已被他人修改，您的修改未保存；请刷新后再操作")
        try:
            self.refresh(stale)
        except ObjectDeletedError:
            return Conflict(entity=stale.__tablename__, message="记录已被他人删除，您的修改未保存")
        return Conflict(stale, seen)


def _stale_snapshot(exc: OperationalError) -> bool:
    """SQLite refused a write because another writer committed since this transaction read
    (SQLITE_BUSY_SNAPSHOT): what it read is out of date, as with a stale version."""
    return getattr(getattr(exc, "orig", None), "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY_SNAPSHOT


def taken(exc: IntegrityError) -> Conflict | None:
    """The Conflict for a unique key or exclusion constraint another writer got to first, naming
    the field; None for any other integrity error (a foreign key, a check: the request's own)."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None)
    if state == "23P01":  # PostgreSQL's exclusion constraint: two leases of a unit at once
        table, columns, value = "lease", ("unit_id",), ""
    elif state == "23505":  # PostgreSQL: Key (uscc)=(9161…) already exists.
        diag = orig.diag
        found = re.match(r"Key \((.*?)\)=\((.*)\) already exists", diag.message_detail or "")
        table = diag.table_name
        columns = tuple(c.strip() for c in found[1].split(",")) if found else ()
        value = found[2].split(",")[-1].strip() if found else ""
    elif str(orig).startswith("UNIQUE constraint failed:"):  # SQLite: … failed: enterprise.uscc
        names = [n.strip() for n in str(orig).split(":", 1)[1].split(",")]
        table, columns, value = names[0].split(".")[0], tuple(n.split(".", 1)[1] for n in names), ""
    else:
        return None
    field, message = taken_words(table, columns, value)
    return Conflict(entity=table, field=field, message=message + "，本次未保存任何内容；请核对后换一个值或刷新查看")


# The execution option that marks a transaction as one that will write (see ``for_writing``).
WRITE = "registry_write"


def for_writing(session: Session) -> Session:
    """Marks ``session``'s transaction as a write, before it reads anything: on SQLite it begins
    with the write lock (``BEGIN IMMEDIATE``), so that what it checks before writing (is the unit
    free, is the record at the version the user saw) cannot change until it commits; concurrent
    writers take turns. On PostgreSQL transactions read committed data and the database's own
    constraints (the lease exclusion, unique keys, row versions) refuse the loser of a race."""
    session.connection(execution_options={WRITE: True})
    return session


def sessionmaker_for(url: str | None = None) -> sessionmaker:
    return sessionmaker(bind=engine_for(url or config.database_url()), expire_on_commit=False,
                        class_=RegistrySession)


@contextlib.contextmanager
def session_scope(url: str | None = None, *, actor: str = "system") -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: all of it or nothing.

    ``actor`` is recorded in the audit trail of every write made through the session.
    """
    session = sessionmaker_for(url)()
    session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
