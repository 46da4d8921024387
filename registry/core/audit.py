"""The audit trail: every insert, update and delete of a registry record leaves an AuditRecord in the
same transaction, with who (``session.info["actor"]``), when, what, and the values before and after;
and a record's history read back from it.
"""
from __future__ import annotations

import datetime as dt
import enum

import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from . import clock
from .models import AuditRecord, Base, User

# Never copy secrets into the audit trail.
_REDACT = {User: {"password_hash"}}


def _json_value(value):
    if isinstance(value, WKBElement):
        return shapely.to_wkt(to_shape(value), rounding_precision=9)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _columns(obj) -> list[str]:
    hidden = _REDACT.get(type(obj), set())
    return [a.key for a in inspect(obj).mapper.column_attrs if a.key not in hidden]


def snapshot(obj) -> dict:
    """The record's column values as the audit trail stores them (secrets left out)."""
    state = inspect(obj)
    return {k: _json_value(state.dict.get(k)) for k in _columns(obj)}


def _identity(obj) -> str:
    ident = inspect(obj).identity
    return ",".join(str(i) for i in ident) if ident else ""


def _audit_rows(session: Session) -> list[dict]:
    now = clock.now()
    actor = session.info.get("actor", "system")
    rows = []

    def row(action, obj, before, after):
        rows.append({"at": now, "actor": actor, "action": action, "entity": obj.__tablename__,
                     "entity_id": _identity(obj), "before": before, "after": after, "note": None})

    for obj in session.new:
        if isinstance(obj, Base) and not isinstance(obj, AuditRecord):
            row("insert", obj, None, snapshot(obj))
    for obj in session.dirty:
        if not isinstance(obj, Base) or isinstance(obj, AuditRecord) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        before, after = {}, {}
        for key in _columns(obj):
            hist = state.attrs[key].history
            if hist.has_changes():
                before[key] = _json_value(hist.deleted[0]) if hist.deleted else None
                after[key] = _json_value(hist.added[0]) if hist.added else None
        if after:
            if "version" in state.dict and "version" not in after:
                # The mapper bumps the version counter by one inside the flush, outside attribute history.
                after["version"] = state.dict["version"]
                before["version"] = state.dict["version"] - 1
            row("update", obj, before, after)
    for obj in session.deleted:
        if isinstance(obj, Base) and not isinstance(obj, AuditRecord):
            row("delete", obj, snapshot(obj), None)
    return rows


def _after_flush(session, _flush_context):
    rows = _audit_rows(session)
    if rows:
        session.connection().execute(AuditRecord.__table__.insert(), rows)


def install() -> None:
    """Record every flush of every SQLAlchemy session in the process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# Tables whose history users may look up, by their name in the audit trail.
AUDITED = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers if m.class_ is not AuditRecord}


def record_history(session: Session, entity: str, ident: str) -> list[AuditRecord]:
    """Every audit record of ``entity`` #``ident``, oldest first."""
    if entity not in AUDITED:
        raise LookupError(f"no such kind of record: {entity!r}")
    return list(session.scalars(select(AuditRecord).where(AuditRecord.entity == entity,
                                                           AuditRecord.entity_id == str(ident))
                                .order_by(AuditRecord.at, AuditRecord.id)))


install()
