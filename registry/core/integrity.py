"""Rules that span records, enforced on every flush of every session.

- Leases on one unit must not overlap: checked against both the database and the pending changes,
  using in-memory values, so ending one lease and starting the next in one transaction is fine.
- Stored evaluation runs and their results are immutable.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .models import EvaluationResult, EvaluationRun, Lease
from .validation import Problem, ValidationError


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


def refuse_changing_runs(session: Session) -> None:
    """Stored evaluation runs are published facts: they are never changed or deleted."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (EvaluationRun, EvaluationResult)) and (obj in session.deleted or session.is_modified(obj)):
            raise ValidationError(Problem(obj.__tablename__, "a stored evaluation run cannot be changed or deleted",
                                          "a new run (record manual 调档 in its inputs)"))


def _before_flush(session, _flush_context, _instances):
    refuse_changing_runs(session)
    check_leases(session)


def install() -> None:
    """Attach the rules to every SQLAlchemy session in the process (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


install()
