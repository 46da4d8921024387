"""Rules that span records, enforced on every flush of every session, and the audit trail.

- Leases on one unit must not overlap: checked against both the database and the pending changes,
  using in-memory values, so ending one lease and starting the next in one transaction is fine.
- Stored evaluation runs and their results are immutable.
- Every insert, update and delete of a registry record writes an AuditRecord in the same
  transaction, with who (``session.info["actor"]``), when, what, and the values before and after.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict

import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from .models import AuditRecord, Base, EvaluationResult, EvaluationRun, Lease, User
from .validation import Problem, ValidationError
from . import clock

# Never copy secrets into the audit trail.
_REDACT = {User: {"password_hash"}}


def _unit_id(lease: Lease) -> int | None:
    # A lease given its unit through the relationship has no unit_id until the flush.
    if lease.unit_id is not None:
        return lease.unit_id
    return lease.unit.id if lease.unit is not None else None


def _lease_key(lease: Lease):
    uid = _unit_id(lease)
    return uid if uid is not None else ("pending-unit", id(lease.unit))


def _fmt(lease: Lease) -> str:
    who = lease.enterprise.name if lease.enterprise is not None else f"enterprise #{lease.enterprise_id}"
    ident = f"lease #{lease.id}" if lease.id else "a new lease"
    return f"{ident} of {who} [{lease.start_date}, {lease.end_date})"


def check_leases(session: Session) -> None:
    """Raise ValidationError if any pending lease is malformed or overlaps another on its unit."""
    changed = [o for o in list(session.new) + list(session.dirty)
               if isinstance(o, Lease) and (o in session.new or session.is_modified(o))]
    if not changed:
        return
    problems: list[Problem] = []
    for lease in changed:
        for field in ("start_date", "end_date"):
            if not isinstance(getattr(lease, field), dt.date):
                problems.append(Problem(f"Lease.{field}", f"{getattr(lease, field)!r} is not a date",
                                        "a date such as 2025-01-01"))
        if not problems and lease.end_date <= lease.start_date:
            problems.append(Problem("Lease.end_date", f"{lease.end_date} is not after the start {lease.start_date}",
                                    "an end date after the start (the end day itself is not included)"))
    if problems:
        raise ValidationError(problems)

    with session.no_autoflush:
        unit_ids = {_unit_id(lease) for lease in changed} - {None}
        stored = session.scalars(select(Lease).where(Lease.unit_id.in_(unit_ids))).all() if unit_ids else []
    by_unit: dict[object, set[Lease]] = defaultdict(set)
    for lease in [*stored, *changed]:
        if lease not in session.deleted:
            by_unit[_lease_key(lease)].add(lease)
    for lease in changed:
        for other in by_unit[_lease_key(lease)]:
            if other is lease:
                continue
            if other.start_date < lease.end_date and lease.start_date < other.end_date:
                unit = lease.unit.code if lease.unit is not None else f"#{lease.unit_id}"
                problems.append(Problem(
                    "Lease.start_date",
                    f"[{lease.start_date}, {lease.end_date}) on unit {unit} overlaps {_fmt(other)}",
                    "a period when the unit is free (end an existing lease first)"))
                break
    if problems:
        raise ValidationError(problems)


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


def _snapshot(obj) -> dict:
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
            row("insert", obj, None, _snapshot(obj))
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
            row("delete", obj, _snapshot(obj), None)
    return rows


def refuse_changing_runs(session: Session) -> None:
    """Stored evaluation runs are published facts: they are never changed or deleted."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (EvaluationRun, EvaluationResult)) and (obj in session.deleted or session.is_modified(obj)):
            raise ValidationError(Problem(obj.__tablename__, "a stored evaluation run cannot be changed or deleted",
                                          "a new run (record manual 调档 in its inputs)"))


def _before_flush(session, _flush_context, _instances):
    refuse_changing_runs(session)
    check_leases(session)


def _after_flush(session, _flush_context):
    rows = _audit_rows(session)
    if rows:
        session.connection().execute(AuditRecord.__table__.insert(), rows)


def install() -> None:
    """Attach the rules to every SQLAlchemy session in the process (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)


install()
