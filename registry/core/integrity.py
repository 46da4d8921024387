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

from sqlalchemy import UniqueConstraint, event, inspect, select
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


def end_after(last_day: dt.date) -> dt.date:
    """The stored end of a period whose last day is ``last_day``: people (contracts, forms, the Excel
    ledger, messages) give the last day, inclusive; periods are stored half-open, [start, end)."""
    return last_day + ONE_DAY


def period(start: dt.date, end: dt.date) -> str:
    """A lease's period as people read it: the first and the last day (the stored end is the day after)."""
    return f"{start} 至 {end - ONE_DAY}"


def period_problem(start, end, field: str = "Lease.end_date", *, first: str = "起租日",
                   last: str = "到期日") -> Problem | None:
    """Why [``start``, ``end``) is not a period of a lease (or of a reservation: ``field`` and the
    names of its ``first`` and ``last`` day), or None: two dates, the end after the start."""
    entity = field.split(".")[0]
    for name, value in (("start_date", start), ("end_date", end)):
        if not isinstance(value, dt.date):
            return Problem(f"{entity}.{name}", f"{value!r} 不是日期", "日期，如 2025-01-01")
    if end <= start:
        return Problem(field, f"{last} {end - ONE_DAY} 早于{first} {start}", f"不早于{first}的{last}（最后一日）")
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


# What a unique key or an exclusion constraint guards, as people name it: the field a refusal is
# shown beside, and its words.
# Worded for both ways it happens: the value was registered before, or by someone else a moment ago.
TAKEN = {("enterprise", ("uscc",)): ("Enterprise.uscc", "统一社会信用代码 {value} 已有登记"),
          ("lease", ("unit_id",)): ("Lease.start_date", "该单元在这一时期已有租约"),
          ("park", ("name",)): ("Park.name", "园区名称 {value} 已有登记"),
          ("building", ("park_id", "code")): ("Building.code", "本园区已有楼栋编号 {value}"),
          ("unit", ("building_id", "code")): ("Unit.code", "本楼栋已有单元编号 {value}"),
          ("floor", ("building_id", "level")): ("Floor.level", "本楼栋已有该楼层"),
          ("plot", ("park_id", "code")): ("Plot.code", "本园区已有宗地编号 {value}"),
          ("plot", ("certificate_no",)): ("Plot.certificate_no", "不动产权证号 {value} 已有登记"),
          ("app_user", ("username",)): ("User.username", "用户名 {value} 已被使用")}


def taken_words(table: str, columns: tuple[str, ...], value="") -> tuple[str, str]:
    """The field and the message for a value of ``table``'s unique key ``columns`` that another
    record has (``value``: the value, where known)."""
    field, message = TAKEN.get((table, columns), (f"{table}.{','.join(columns)}", "该值已有登记"))
    return field, message.format(value=value).replace("  ", " ") + "（可能刚由他人保存）"


def unique_problems(session: Session, obj) -> list[Problem]:
    """A Problem for each unique key of ``obj``'s table whose values another stored record already
    has: a duplicate typed into a form is answered beside its field before anything is written. (A
    duplicate saved by someone else at the same moment is still refused by the database.)"""
    table, mapper = obj.__table__, inspect(obj).mapper
    problems = []
    for key in (k for k in table.constraints if isinstance(k, UniqueConstraint)):
        values = [getattr(obj, mapper.get_property_by_column(c).key) for c in key.columns]
        if any(value is None for value in values):
            continue
        same = [c == value for c, value in zip(key.columns, values)]
        if obj.id is not None:
            same.append(table.c.id != obj.id)
        with session.no_autoflush:
            if session.scalar(select(table.c.id).where(*same).limit(1)) is not None:
                field, message = taken_words(table.name, tuple(c.name for c in key.columns), values[-1])
                problems.append(Problem(field, message.removesuffix("（可能刚由他人保存）"), "尚未使用的值"))
    return problems


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
    from .bounds import check as check_bounds
    check_bounds(session)
    refuse_changing_runs(session)
    check_leases(session)


def install() -> None:
    """Attach the rules to every SQLAlchemy session in the process (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


install()
