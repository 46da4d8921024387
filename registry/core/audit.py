"""The audit trail: every insert, update and delete of a registry record leaves an AuditRecord in the
same transaction, naming the record (its table and id), who (``session.info["actor"]``), when, and
the values before and after; and a record's history read back from it.

Two paths write records, both through this module's definitions (``stamp``, ``columns``, ``as_json``):
changes made through the ORM are recorded row by row as the flush writes them; rows written in bulk
(dataset loads, GIS imports) are recorded by ``registry.storage.bulk.audit_inserted``, one record per
row, built by the database from the rows as stored. Evaluation results belong to their run: the run
is recorded, its results are immutable parts of it.
"""
from __future__ import annotations

import datetime as dt
import enum

import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import Table, event, inspect, select
from sqlalchemy.orm import Session

from . import clock
from .models import AuditRecord, Base, EvaluationResult, LoginThrottle, record_id

INSERT, UPDATE, DELETE = "insert", "update", "delete"

# Never copy secrets into the audit trail.
REDACTED = {"app_user": {"password_hash"}}
# Written in bulk as parts of a recorded whole (an evaluation run), never changed afterwards.
NOT_AUDITED = {AuditRecord.__tablename__, EvaluationResult.__tablename__, LoginThrottle.__tablename__}


def stamp(session: Session) -> dict:
    """Who and when, for every record written in this session now."""
    return {"at": clock.now(), "actor": session.info.get("actor", "system")}


def columns(table: Table) -> list[str]:
    """The columns of ``table`` the trail records (secrets left out), in table order."""
    hidden = REDACTED.get(table.name, set())
    return [c.name for c in table.columns if c.name not in hidden]


def as_json(value):
    """A column value as the trail stores it: geometry as WKT, enums by value, dates in ISO form."""
    if isinstance(value, WKBElement):
        return shapely.to_wkt(to_shape(value), rounding_precision=9)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _attributes(obj) -> list[str]:
    hidden = REDACTED.get(obj.__tablename__, set())
    return [a.key for a in inspect(obj).mapper.column_attrs if a.key not in hidden]


def snapshot(obj) -> dict:
    """The record's column values as the audit trail stores them (secrets left out)."""
    state = inspect(obj)
    return {k: as_json(state.dict.get(k)) for k in _attributes(obj)}


def identity(obj) -> str:
    """The record's id as the trail names it: its primary key, several columns joined by commas.
    Read from the row itself, so a record just inserted in this flush is named too."""
    state = inspect(obj)
    values = state.mapper.primary_key_from_instance(obj)
    return ",".join("" if v is None else str(getattr(v, "value", v)) for v in values)


def _audited(obj) -> bool:
    return isinstance(obj, Base) and obj.__tablename__ not in NOT_AUDITED


def _changes(obj) -> tuple[dict, dict]:
    """The values an update changed, before and after (inside the flush, before history is reset)."""
    state = inspect(obj)
    before, after = {}, {}
    for key in _attributes(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            before[key] = as_json(hist.deleted[0]) if hist.deleted else None
            after[key] = as_json(hist.added[0]) if hist.added else None
    if after and "version" in state.dict and "version" not in after:
        # The mapper bumps the version counter by one inside the flush, outside attribute history.
        after["version"] = state.dict["version"]
        before["version"] = state.dict["version"] - 1
    return before, after


def _pending(obj) -> list[dict] | None:
    session = inspect(obj).session
    return None if session is None else session.info.setdefault("_audit_pending", [])


def _record(action: str, obj, before, after) -> None:
    pending = _pending(obj)
    if pending is not None:
        pending.append({**stamp(inspect(obj).session), "action": action, "entity": obj.__tablename__,
                        "entity_id": identity(obj), "before": before, "after": after, "note": None})


# Mapper events see every row the flush writes, cascades and orphans included, with its id given.
def _after_insert(_mapper, _connection, obj):
    if _audited(obj):
        _record(INSERT, obj, None, snapshot(obj))


def _after_update(_mapper, _connection, obj):
    if _audited(obj):
        before, after = _changes(obj)
        if after:
            _record(UPDATE, obj, before, after)


def _after_delete(_mapper, _connection, obj):
    if _audited(obj):
        _record(DELETE, obj, snapshot(obj), None)


def write(session: Session, records: list[dict]) -> None:
    """Adds ``records`` (dicts of AuditRecord's columns) to the session's transaction."""
    if records:
        session.connection().execute(AuditRecord.__table__.insert(), records)


def _after_flush(session, _flush_context):
    # The flush's records are written together, in the flush's transaction.
    write(session, session.info.pop("_audit_pending", []))


def _forget(session, *_args):
    # A flush that failed, or a transaction rolled back, leaves no records behind to be written
    # with the next flush as if its rows had been saved.
    session.info.pop("_audit_pending", None)


def install() -> None:
    """Record every flush of every SQLAlchemy session in the process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Base, "after_insert", _after_insert, propagate=True)
        event.listen(Base, "after_update", _after_update, propagate=True)
        event.listen(Base, "after_delete", _after_delete, propagate=True)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_flush", _forget)
        event.listen(Session, "after_soft_rollback", _forget)


# Tables whose history users may look up, by their name in the audit trail.
AUDITED = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers
           if m.class_.__tablename__ not in NOT_AUDITED}


def record_history(session: Session, entity: str, ident: str) -> list[AuditRecord]:
    """Every audit record of ``entity`` #``ident``, oldest first: its creation, each change, its end."""
    if entity not in AUDITED:
        raise LookupError(f"no such kind of record: {entity!r}")
    return list(session.scalars(select(AuditRecord).where(AuditRecord.entity == entity,
                                                           AuditRecord.entity_id == str(ident))
                                .order_by(AuditRecord.at, AuditRecord.id)))


# How a record leads to its park: the column naming its parent, and the parent's kind.
_PARENT = {"plot": ("park_id", "park"), "building": ("park_id", "park"), "plot_obligation": ("plot_id", "plot"),
           "floor": ("building_id", "building"), "unit": ("building_id", "building"),
           "lease": ("unit_id", "unit"), "reservation": ("unit_id", "unit"), "rent_relief": ("lease_id", "lease")}


def record_park(session: Session, entity: str, ident) -> int | None:
    """The park a record belongs to, for deciding who may read its history; None for a record of
    no single park (an enterprise, a user, an evaluation). A deleted record is followed through its
    last audited values."""
    while entity != "park":
        if entity not in _PARENT:
            return None
        column, parent = _PARENT[entity]
        table = AUDITED[entity].__table__
        value = session.scalar(select(table.c[column]).where(table.c.id == record_id(ident))) if record_id(ident) else None
        if value is None:
            last = session.scalars(select(AuditRecord).where(AuditRecord.entity == entity,
                                                             AuditRecord.entity_id == str(ident))
                                   .order_by(AuditRecord.id.desc())).first()
            value = ((last.after or last.before or {}).get(column)) if last is not None else None
        if value is None:
            return None
        entity, ident = parent, value
    return record_id(ident)


install()
