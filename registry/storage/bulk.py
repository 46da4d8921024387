"""Bulk loading of a generated or imported dataset, all of it in one transaction or none of it.

Rows are validated with the same rules as single records before anything is written. Writing uses
each backend's fast path (COPY on PostgreSQL, one prepared executemany on SQLite); every row written
leaves its insert record in the audit trail (``audit_inserted``), as a row saved through a form does.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import enum
import gc
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import orjson
import shapely
from geoalchemy2 import Geometry
from sqlalchemy import DateTime, String, case, cast, func, insert, literal, null, select, text
from sqlalchemy import types as sa_types
from sqlalchemy.orm import Session

from geodata.geometry import CHINA_LAT, CHINA_LON
from ..core import audit, validation as v
from .db import dialect, unavailable
from ..core.models import (SRID, AnnualIndicator, AuditRecord, Base, Building, Enterprise, EnterpriseTagLink, Floor,
                           Jurisdiction, Lease, Park, Plot, PlotObligation, RentRelief, Unit)


@dataclass
class _Shared:
    """What the chunks of one dataset share: the last id given per table, and the values a producer
    keeps unique across chunks (credit codes, names, regions), by kind."""

    ids: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)

    def unique(self, kind: str) -> set:
        return self.seen.setdefault(kind, set())


@dataclass
class Dataset:  # rows per table (dicts with explicit ids) for ``load``, parents before children
    jurisdictions: list[dict] = field(default_factory=list)
    parks: list[dict] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    plots: list[dict] = field(default_factory=list)
    obligations: list[dict] = field(default_factory=list)
    buildings: list[dict] = field(default_factory=list)
    floors: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    leases: list[dict] = field(default_factory=list)
    reliefs: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    shared: _Shared = field(default_factory=_Shared)

    def next_id(self, table: str) -> int:
        self.shared.ids[table] = self.shared.ids.get(table, 0) + 1
        return self.shared.ids[table]

    def chunk(self) -> Dataset:
        """An empty dataset that continues this one's ids, so the two can be loaded one after the other."""
        return Dataset(shared=self.shared)

    def extend(self, other: Dataset) -> None:
        for name, rows in self.tables().items():
            rows.extend(getattr(other, name))

    def tables(self) -> dict[str, list[dict]]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, list)}

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.tables().items()}


# Parents before children.
TABLES: list[tuple[str, type[Base]]] = [
    ("jurisdictions", Jurisdiction), ("parks", Park), ("enterprises", Enterprise), ("tags", EnterpriseTagLink),
    ("plots", Plot), ("obligations", PlotObligation), ("buildings", Building), ("floors", Floor),
    ("units", Unit), ("leases", Lease), ("reliefs", RentRelief), ("indicators", AnnualIndicator),
]
GEOMETRY = {"parks": "boundary", "plots": "geom", "buildings": "footprint"}
POSITIVE = {"plots": ["computed_area_m2"], "buildings": ["gfa_m2"], "units": ["leasable_area_m2"]}


def validate(ds: Dataset) -> None:
    """Raises ValidationError listing every bad row (table, index, field); returns if all are good."""
    problems: list[v.Problem] = []

    def add(table, i, fieldname, exc_or_msg, expected=""):
        if isinstance(exc_or_msg, v.ValidationError):
            for p in exc_or_msg.problems:
                problems.append(v.Problem(f"{table}[{i}].{fieldname}", p.message, p.expected))
        else:
            problems.append(v.Problem(f"{table}[{i}].{fieldname}", exc_or_msg, expected))

    for i, j in enumerate(ds.jurisdictions):
        try:
            v.check_region_code(j["code"])
        except v.ValidationError as exc:
            add("jurisdictions", i, "code", exc)
    for i, e in enumerate(ds.enterprises):
        problem = v.uscc_problem(e["uscc"])
        if problem:
            add("enterprises", i, "uscc", problem, v.USCC_EXPECTED)
        if e.get("industry_code"):
            try:
                v.check_industry_code(e["industry_code"])
            except v.ValidationError as exc:
                add("enterprises", i, "industry_code", exc)
    for table, col in GEOMETRY.items():
        geoms = np.array([r[col] for r in getattr(ds, table)], dtype=object)
        if not len(geoms):
            continue
        valid = shapely.is_valid(geoms)
        b = shapely.bounds(geoms)
        inside = ((b[:, 0] >= CHINA_LON[0]) & (b[:, 2] <= CHINA_LON[1]) &
                  (b[:, 1] >= CHINA_LAT[0]) & (b[:, 3] <= CHINA_LAT[1]))
        for i in np.flatnonzero(~(valid & inside)):
            try:
                v.check_polygon(geoms[i], col)
            except v.ValidationError as exc:
                add(table, int(i), col, exc)
    for table, cols in POSITIVE.items():
        for i, r in enumerate(getattr(ds, table)):
            for c in cols:
                if not (r[c] is not None and r[c] > 0):
                    add(table, i, c, f"{r[c]!r} is not positive", "a number > 0 in m²")
    for i, le in enumerate(ds.leases):
        if not le["end_date"] > le["start_date"]:
            add("leases", i, "end_date", f"{le['end_date']} is not after {le['start_date']}", "an end after the start")
    # Leases of one unit must not overlap: sort by unit and start, compare neighbours.
    order = sorted(range(len(ds.leases)), key=lambda i: (ds.leases[i]["unit_id"], ds.leases[i]["start_date"]))
    for a, b in zip(order, order[1:]):
        la, lb = ds.leases[a], ds.leases[b]
        if la["unit_id"] == lb["unit_id"] and lb["start_date"] < la["end_date"]:
            add("leases", b, "start_date", f"[{lb['start_date']}, {lb['end_date']}) on unit #{lb['unit_id']} overlaps "
                f"leases[{a}] [{la['start_date']}, {la['end_date']})", "a period when the unit is free")
    if problems:
        raise v.ValidationError(problems)


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector paused for the duration (usable as a decorator too).

    Bulk work builds hundreds of thousands of small acyclic containers (an evaluation's inputs,
    items and explanations; an import's columns and rows; a load's row dicts; an export's rows and
    features), and the collector walks the growing heap again and again while they are made: a
    third of a 100,000-enterprise evaluation, 0.4 s of a 100,000-footprint import or export.
    Reference counting still frees everything as usual; the few cycles made meanwhile are collected
    once it resumes. Concurrent users in threads leave it enabled once the first that paused it is
    done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@collector_paused()
def load(session: Session, ds: Dataset, *, progress: Callable[[int], None] | None = None,
         timings: dict[str, float] | None = None, note: str | None = None) -> dict[str, int]:
    """Validates and writes ``ds`` in the session's transaction; returns rows written per table.

    The caller commits (or the session scope does). On any error nothing of ``ds`` remains.
    ``timings``, if given, receives the seconds spent validating and writing each table; ``note``
    goes into every row's audit record (what the load was).
    """
    started = time.perf_counter()
    validate(ds)
    _rebase(session, ds)
    if timings is not None:
        timings["validate"] = time.perf_counter() - started
    conn = session.connection()
    backend = dialect(session)
    written = {}
    for name, model in TABLES:
        rows = getattr(ds, name)
        table = model.__table__
        cols = [c.name for c in table.columns if any(c.name in r for r in rows[:1])]
        geom_col = GEOMETRY.get(name)
        if rows:
            data = _transpose(rows, cols)
            insert_columns(session, table, data, geom_col)
            key = _AUDIT_KEY.get(table.name, "id")
            audit_inserted(session, table, key, data[key], cols, note=note)
        written[name] = len(rows)
        if timings is not None:
            now_ = time.perf_counter()
            timings[name] = now_ - started - sum(timings.values())
        if progress:
            progress(1)
    if backend == "postgresql":
        # COPY bypasses the id sequences; move them past the ids just written.
        for _, model in TABLES:
            if "id" in model.__table__.c:
                t = model.__table__.name
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                                  f"COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"))
    return written


def load_chunks(session: Session, chunks: Iterable[Dataset], *,
                timings: dict[str, float] | None = None) -> dict[str, int]:
    """Loads a dataset that comes in chunks (a park at a time, each continuing the previous ids)
    in the session's transaction; returns rows written per table. The caller commits.

    Into an empty registry, on PostgreSQL, every table's keys and indexes are put back once after
    the last chunk (``keys_deferred``) instead of being kept up row by row; a key broken across
    chunks fails then, and nothing of the load remains. ``timings``, if given, receives the
    seconds per table summed over the chunks, and ``keys`` for putting them back."""
    # The audit trail gets a record per row loaded: its indexes too are put back once.
    tables = [model.__table__ for _, model in TABLES] + [AuditRecord.__table__] if is_empty(session) else []
    written: dict[str, int] = {}
    spent: dict[str, float] = {}
    with keys_deferred(session, tables):
        for chunk in chunks:
            for name, n in load(session, chunk, timings=spent).items():
                written[name] = written.get(name, 0) + n
            if timings is not None:
                for name, seconds in spent.items():
                    timings[name] = timings.get(name, 0.0) + seconds
            spent.clear()
        started = time.perf_counter()
    if timings is not None:
        timings["keys"] = time.perf_counter() - started
    return written


def _rebase(session: Session, ds: Dataset) -> None:
    """Shifts the dataset's ids (and the foreign keys pointing at them) past the ids the database
    already holds, and drops jurisdictions it already has, so a dataset loads into a non-empty
    registry. Rows are changed in place."""
    offsets = {}
    for _, model in TABLES:
        t = model.__table__
        if "id" in t.c:
            offsets[t.name] = session.scalar(select(func.coalesce(func.max(t.c.id), 0))) or 0
    existing = set(session.scalars(select(Jurisdiction.code)))
    ds.jurisdictions[:] = [j for j in ds.jurisdictions if j["code"] not in existing]
    if not any(offsets.values()):
        return
    for name, model in TABLES:
        t = model.__table__
        shifts = [(fk.parent.name, offsets[fk.column.table.name]) for fk in t.foreign_keys
                  if fk.column.name == "id" and offsets.get(fk.column.table.name)]
        own = offsets.get(t.name, 0)
        for row in getattr(ds, name):
            if own and "id" in row:
                row["id"] += own
            for col, off in shifts:
                if row.get(col) is not None:
                    row[col] += off


def _transpose(rows: list[dict], cols: list[str]) -> dict[str, list]:
    """Rows (dicts; a missing key is None) as one list per column."""
    return {c: [r.get(c) for r in rows] for c in cols}


def _columns(table, data: dict[str, list], cols: list[str], geom_col: str | None, backend: str,
             binary: bool = False) -> list:
    """The values of ``cols`` as the driver takes them, converted once per column by the column's
    type: geometry to (E)WKB in one vectorised call (hex for PostgreSQL's text COPY, bytes for its
    binary one), JSON to text, enums to their values, dates to ISO text on SQLite."""
    out = []
    for c in cols:
        values = data[c]
        if c == geom_col:
            geoms = np.asarray(values, dtype=object)
            if backend == "postgresql":  # EWKB is PostGIS's input for geometry
                values = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=not binary, include_srid=True).tolist()
            else:
                values = shapely.to_wkb(geoms).tolist()
        else:
            convert = _converter(table.c[c].type, backend)
            if convert is not None:
                values = [None if x is None else convert(x) for x in values]
        out.append(values)
    return out


def _converter(column_type, backend: str) -> Callable | None:
    """How a value of a column of ``column_type`` is sent, when not as it is."""
    if isinstance(column_type, sa_types.JSON):
        return json_text
    if isinstance(column_type, sa_types.Enum):
        return lambda x: x.value if isinstance(x, enum.Enum) else x
    if backend == "sqlite" and isinstance(column_type, sa_types.Date) and not isinstance(column_type, sa_types.DateTime):
        return dt.date.isoformat
    return None


def json_text(value) -> str:
    """``value`` as JSON text, UTF-8 characters kept: orjson, a tenth of the standard library's time
    (300,000 documents for one 100,000-enterprise evaluation run)."""
    return orjson.dumps(value, default=_json_default).decode()


def _json_default(value):
    if isinstance(value, float):  # numpy's float64 and other float subclasses
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


STREAM_SLICE = 2000  # rows converted at a time while a COPY streams
SQLITE_SLICE = 5000  # rows per executemany on SQLite (progress is reported between them)


# The wire types of a binary COPY, by the column's type in the database. The server reads each
# field with its column type's own binary input: text and JSON arrive as UTF-8 text, geometry as
# EWKB bytes. A column of any other type (jsonb, arrays, a native enum) makes the COPY text.
_BINARY_WIRE = {"int2": "int2", "int4": "int4", "int8": "int8", "float4": "float4", "float8": "float8",
                "bool": "bool", "date": "date", "timestamp": "timestamp", "timestamptz": "timestamptz",
                "varchar": "text", "text": "text", "bpchar": "text", "json": "text", "geometry": "bytea"}


def _wire_types(raw, table: str, cols: list[str]) -> list[str] | None:
    types = dict(raw.execute("SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                             "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                             (table,)).fetchall())
    wire = [_BINARY_WIRE.get(types.get(c)) for c in cols]
    return None if None in wire else wire


def _copy_pg(conn, table, cols: list[str], slices: Iterable[dict[str, list]], geom_col: str | None,
             progress: Callable[[int], None] | None = None) -> None:
    """One COPY for the rows of all ``slices`` (each a list per column), each slice converted
    (vectorised per column) as the data goes out: PostgreSQL stores one slice on the other core
    while the next is made and converted, instead of waiting for every value to be ready and then
    the client for the server.

    Binary where every column's type allows (all of the registry's tables): no hex for geometries,
    no numbers or dates printed and parsed again; half the time of the text form for 100,000
    footprints."""
    raw = conn.connection.driver_connection
    wire = _wire_types(raw, table.name, cols)
    binary = wire is not None
    try:
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN"
                                           + (" (FORMAT BINARY)" if binary else "")) as copy:
            if binary:
                copy.set_types(wire)
            for chunk in slices:
                for row in zip(*_columns(table, chunk, cols, geom_col, "postgresql", binary)):
                    copy.write_row(row)
                if progress:
                    progress(len(chunk[cols[0]]))
    except Exception as exc:
        # The driver's own error (COPY runs below SQLAlchemy): the server gone or its disk full is
        # said as such (503 / 507), like any other statement's.
        problem = unavailable(exc)
        if problem is not None:
            raise problem from exc
        raise


REBUILD_MIN = 10000  # rows: below this, dropping and rebuilding indexes costs more than it saves


@contextlib.contextmanager
def indexes_rebuilt(session: Session, table, adding: int):
    """``keys_deferred`` for ``table`` when ``adding`` rows at least double it (and number at least
    REBUILD_MIN); otherwise nothing: for a small addition to a large table, rebuilding costs more
    than the per-row upkeep it saves."""
    if dialect(session) != "postgresql" or adding < REBUILD_MIN:
        yield
        return
    present = session.scalar(select(func.count()).select_from(table)) or 0
    with keys_deferred(session, [table] if adding >= present else []):
        yield


@contextlib.contextmanager
def keys_deferred(session: Session, tables):
    """On PostgreSQL, takes off the ``tables``' indexes that back no constraint (GiST indexes of
    geometries, plain B-trees), their foreign keys, exclusion constraints and unique constraints for
    the duration, and puts each back once afterwards, as PostgreSQL's "Populating a Database"
    advises: an index built sorted in one pass (0.2 s for the GiST index of 100,000 footprints,
    30 ms for a B-tree), a foreign key checked by one join, a unique or exclusion constraint by one
    index build, against a lookup and an index insert per row. Every row is still checked: a row
    that breaks a key makes the constraint fail to come back, and the write with it. Primary keys
    and the unique constraints other tables' keys point at stay.

    All inside the transaction: on failure the tables are as they were. Other writers and readers
    of the tables wait until the transaction ends. Elsewhere it does nothing."""
    if dialect(session) != "postgresql" or not tables:
        yield
        return
    indexes, constraints = [], []
    for table in tables:
        indexes += session.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"), {"t": table.name}).all()
        constraints += session.execute(text(
            "SELECT c.conrelid::regclass::text, c.contype, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid = CAST(:t AS regclass) AND (c.contype IN ('f', 'x') "
            "OR (c.contype = 'u' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid))) "
            "ORDER BY c.conname"), {"t": table.name}).all()
    # Keys that point elsewhere go first and come back last, after the keys they may point at.
    pointing = [c for c in constraints if c[1] == "f"]
    pointed = [c for c in constraints if c[1] != "f"]
    for name, _definition in indexes:
        session.execute(text(f"DROP INDEX {name}"))
    for group in (pointing, pointed):
        _alter(session, group, lambda name, _definition: f'DROP CONSTRAINT "{name}"')
    yield
    for group in (pointed, pointing):
        _alter(session, group, lambda name, definition: f'ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        session.execute(text(definition))


def _alter(session: Session, constraints, action: Callable[[str, str], str]) -> None:
    """One ALTER TABLE per table for ``action`` on each of its ``constraints`` (table, type, name,
    definition)."""
    for table, group in itertools.groupby(sorted(constraints, key=lambda c: c[0]), key=lambda c: c[0]):
        session.execute(text(f"ALTER TABLE {table} " + ", ".join(action(name, d) for _, _, name, d in group)))


# SpatiaLite keeps a geometry column in step through triggers fired per row: a type and SRID check
# (ggi_), an R*Tree insert (gii_) and a last-insert timestamp (tmi_). For many rows at once they
# cost three quarters of the insert; the fast path below does their work once, in bulk.
_SPATIAL_TRIGGERS = ("ggi", "gii", "tmi")
SPATIAL_BULK_MIN = 1000


def _executemany_sqlite(conn, table, cols: list[str], data: dict[str, list], geom_col: str | None) -> None:
    marks = ", ".join(f"GeomFromWKB(?, {SRID})" if c == geom_col else "?" for c in cols)
    raw = conn.connection.driver_connection
    geoms = np.asarray(data[geom_col], dtype=object) if geom_col else None
    insert = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks})"
    if (geoms is None or len(geoms) < SPATIAL_BULK_MIN or "id" not in cols
            or not (shapely.get_type_id(geoms) == 6).all()):
        raw.cursor().executemany(insert, zip(*_columns(table, data, cols, geom_col, "sqlite")))
        return
    if not raw.in_transaction:
        raw.execute("BEGIN")  # the trigger swap below must be undone with the rows on any failure
    names = [f"{t}_{table.name}_{geom_col}" for t in _SPATIAL_TRIGGERS]
    saved = raw.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                        f"({', '.join('?' * len(names))})", names).fetchall()
    if len(saved) != len(names):  # not the layout this fast path knows: the plain insert
        raw.cursor().executemany(insert, zip(*_columns(table, data, cols, geom_col, "sqlite")))
        return
    for name, _sql in saved:
        raw.execute(f"DROP TRIGGER {name}")
    # Every geometry is a MultiPolygon (checked above) written with the column's SRID: the type and
    # SRID check has nothing to refuse.
    raw.cursor().executemany(insert, zip(*_columns(table, data, cols, geom_col, "sqlite")))
    b = shapely.bounds(geoms)
    raw.executemany(f"INSERT INTO idx_{table.name}_{geom_col} (pkid, xmin, xmax, ymin, ymax) VALUES (?, ?, ?, ?, ?)",
                    zip(data["id"], b[:, 0].tolist(), b[:, 2].tolist(), b[:, 1].tolist(),
                        b[:, 3].tolist()))
    raw.execute("UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = lower(?)", (table.name, geom_col))
    for _name, sql in saved:
        raw.execute(sql)


def write_rows(session: Session, table, rows: Iterable[dict]) -> int:
    """Appends plain rows (no geometry; every row with the same keys) to ``table`` the fast way and
    returns how many. No ORM events: the caller audits what it wrote (registry.evaluation.runs
    stores 100,000 results of one audited run this way).

    ``rows`` may be a generator, and is streamed a slice at a time: the rows are never all in
    memory, and on PostgreSQL the server stores rows while the caller makes the next ones, on the
    other core, instead of the two taking turns."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    cols = list(first)
    size = _slice_size(session)
    count = 0

    def slices():
        nonlocal count
        batch = [first]
        while batch:
            batch.extend(itertools.islice(it, size - len(batch)))
            count += len(batch)
            yield _transpose(batch, cols)
            batch = list(itertools.islice(it, size))

    _write_slices(session, table, cols, slices(), None, None)
    return count


def insert_rows(session: Session, table, columns: list[str], rows: list[dict], geom_col: str | None,
                progress: Callable[[int], None] | None = None) -> None:
    """Appends rows (``columns`` of each dict; shapely geometries in ``geom_col``) the fast way,
    without ORM events: the caller validates and audits. See ``insert_columns``."""
    if rows:
        insert_columns(session, table, _transpose(rows, columns), geom_col, progress)


def insert_columns(session: Session, table, data: dict[str, list], geom_col: str | None,
                   progress: Callable[[int], None] | None = None) -> None:
    """Appends rows given as one list per column (``data``: column → values, all the same length;
    shapely geometries in ``geom_col``) the fast way, without ORM events: the caller validates and
    audits (the GIS importer writes 100,000 footprints so). ``progress`` is called with the number
    of rows sent, slice by slice."""
    cols = list(data)
    n = len(data[cols[0]]) if cols else 0
    if n:
        size = _slice_size(session)
        _write_slices(session, table, cols, ({c: v[start:start + size] for c, v in data.items()}
                                             for start in range(0, n, size)), geom_col, progress)


# The column that picks out a loaded table's rows when the table has no id of its own.
_AUDIT_KEY = {"jurisdiction": "code", "enterprise_tag": "enterprise_id"}


def audit_inserted(session: Session, table, key: str, values: list, columns: list[str], *,
                   note: str | None = None) -> None:
    """One insert record in the audit trail for every row of ``table`` just written in bulk (those
    whose ``key`` column is among ``values``), naming the row by its primary key and holding
    ``columns`` as stored, the way ``registry.core.audit`` records a row saved through the ORM.

    The database builds the records from the rows themselves (one INSERT … SELECT): no value goes
    back through Python, so auditing 100,000 rows costs one statement, not 100,000 documents."""
    if not values:
        return
    hidden = audit.REDACTED.get(table.name, set())
    columns = [c for c in columns if c not in hidden]
    backend = dialect(session)
    ident = _joined([cast(c, String) for c in table.primary_key.columns])  # as audit.identity names it
    when = audit.stamp(session)
    record = select(literal(when["at"], DateTime(timezone=True)), literal(when["actor"]), literal(audit.INSERT),
                    literal(table.name), ident, null(), _json_object(table, columns, backend),
                    literal(note, String)).select_from(table)
    column = table.c[key]
    target = AuditRecord.__table__
    names = ["at", "actor", "action", "entity", "entity_id", "before", "after", "note"]
    for condition in _in_runs(column, values):
        session.execute(insert(target).from_select(names, record.where(condition)))


def _joined(parts):
    """SQL joining text ``parts`` with commas."""
    out = parts[0]
    for part in parts[1:]:
        out = out.concat(",").concat(part)
    return out


def _json_object(table, columns: list[str], backend: str):
    """SQL building the JSON object of ``columns`` of a row, as the ORM path writes them: geometry
    as WKT, booleans as true/false, JSON columns nested, dates as ISO text."""
    pairs = []
    for name in columns:
        c = table.c[name]
        if isinstance(c.type, Geometry):
            value = func.ST_AsText(c, 9) if backend == "postgresql" else func.AsText(c)
        elif backend == "sqlite" and isinstance(c.type, sa_types.Boolean):
            value = func.json(case((c.is_(None), None), (c, "true"), else_="false"))
        elif backend == "sqlite" and isinstance(c.type, sa_types.JSON):
            value = func.json(c)
        else:
            value = c
        pairs += [literal(name), value]
    return func.json_build_object(*pairs) if backend == "postgresql" else func.json_object(*pairs)


def _in_runs(column, values: list, most: int = 100):
    """Conditions selecting ``values`` of ``column``: ranges of consecutive integers (an id range
    is one BETWEEN, answered by the primary key), else IN lists of at most 10,000."""
    if all(isinstance(v, int) for v in values):
        ordered = sorted(set(values))
        runs, start = [], ordered[0]
        for prev, cur in zip(ordered, ordered[1:]):
            if cur != prev + 1:
                runs.append((start, prev))
                start = cur
        runs.append((start, ordered[-1]))
        if len(runs) <= most:
            return [column.between(lo, hi) for lo, hi in runs]
        values = ordered
    values = list(dict.fromkeys(values))
    return [column.in_(values[i:i + 10000]) for i in range(0, len(values), 10000)]


def _slice_size(session: Session) -> int:
    return STREAM_SLICE if dialect(session) == "postgresql" else SQLITE_SLICE


def _write_slices(session: Session, table, cols: list[str], slices: Iterable[dict[str, list]], geom_col: str | None,
                  progress: Callable[[int], None] | None) -> None:
    """The one way rows are bulk-written: one streamed COPY on PostgreSQL, an executemany per slice
    on SQLite (SpatiaLite's index work done once per slice)."""
    conn = session.connection()
    if dialect(session) == "postgresql":
        _copy_pg(conn, table, cols, slices, geom_col, progress)
        return
    for chunk in slices:
        _executemany_sqlite(conn, table, cols, chunk, geom_col)
        if progress:
            progress(len(chunk[cols[0]]))


def reserve_ids(session: Session, table, n: int) -> list[int]:
    """``n`` fresh ids for ``table``: from its sequence on PostgreSQL (safe beside concurrent
    writers); after the largest on SQLite, whose single writer lock this transaction holds once it
    writes (a concurrent writer makes the insert fail, never collide)."""
    if dialect(session) == "postgresql":
        # The sequence looked up once (per row, the lookup cost five times the nextval), and the
        # numbers fetched as one array: 100,000 one-number rows cost seconds to fetch.
        seq = session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        return session.scalar(text("SELECT array_agg(nextval(CAST(:s AS regclass))) FROM generate_series(1, :n)"),
                              {"s": seq, "n": n})
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + n))


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(Park.id))) == 0
