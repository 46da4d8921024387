"""Rules that span records, enforced on every flush of every session.

- A lease's period ends after it starts, and leases on one unit must not overlap: checked against
  both the database and the pending changes, using in-memory values, so ending one lease and
  starting the next in one transaction is fine. The same rules, with the same messages, check an
  Excel bulk update row by row before anything is written (``period_problem``, ``overlapping``).
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


ONE_DAY = dt.timedelta(days=1)


def period(start: dt.date, end: dt.date) -> str:
    """A lease's period as people read it: the first and the last day (the stored end is the day after)."""
    return f"{start} 至 {end - ONE_DAY}"


def period_problem(start, end, field: str = "Lease.end_date") -> Problem | None:
    """Why [``start``, ``end``) is not a lease period, or None: two dates, the end after the start."""
    for name, value in (("start_date", start), ("end_date", end)):
        if not isinstance(value, dt.date):
            return Problem(f"Lease.{name}", f"{value!r} 不是日期", "日期，如 2025-01-01")
    if end <= start:
        return Problem(field, f"到期日 {end - ONE_DAY} 早于起租日 {start}", "不早于起租日的到期日（合同最后一日）")
    return None


def overlapping(leases, start: dt.date, end: dt.date, *, besides=None):
    """The first of ``leases`` (on one unit) whose period overlaps [``start``, ``end``), ``besides``
    excepted; None if none does. Anything with start_date and end_date will do."""
    return next((o for o in leases if o is not besides and o.start_date < end and start < o.end_date), None)


def overlap_problem(unit_code: str, start: dt.date, end: dt.date, other: Lease,
                    field: str = "Lease.start_date") -> Problem:
    """The refusal of a period that overlaps another lease of its unit, naming that lease."""
    who = other.enterprise.name if other.enterprise is not None else f"企业 #{other.enterprise_id}"
    ident = f"租约 #{other.id}" if other.id else "本次新增的另一租约"
    return Problem(field, f"单元 {unit_code} 的 {period(start, end)} 与{ident}（{who}，"
                          f"{period(other.start_date, other.end_date)}）时间重叠",
                   "单元空闲的期间（先终止现有租约）")


def check_leases(session: Session) -> None:
    """Raise ValidationError if any pending lease is malformed or overlaps another on its unit."""
    changed = [o for o in list(session.new) + list(session.dirty)
               if isinstance(o, Lease) and (o in session.new or session.is_modified(o))]
    if not changed:
        return
    problems = [p for lease in changed if (p := period_problem(lease.start_date, lease.end_date))]
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
        other = overlapping(by_unit[_lease_key(lease)], lease.start_date, lease.end_date, besides=lease)
        if other is not None:
            unit = lease.unit.code if lease.unit is not None else f"#{lease.unit_id}"
            problems.append(overlap_problem(unit, lease.start_date, lease.end_date, other))
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
