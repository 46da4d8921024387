"""What a stored value may be, whichever way it arrives (a form, a spreadsheet, a GIS file, the
command line): a number is finite and within its column's range, an integer fits the column on
both backends, a text fits its declared length. Checked once, before every flush, for every new
or changed row, so SpatiaLite (which would store ``inf`` or 300 characters in a VARCHAR(64)) and
PostgreSQL (which would refuse them with a 500) give the same 400 naming the field.
"""
from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
from sqlalchemy import BigInteger, Date, Float, Integer, String, Text, inspect
from sqlalchemy.orm import Session

from . import limits
from .models import Base
from .params import FIRST_DAY, LAST_DAY
from .validation import Problem, ValidationError

INT32 = 2**31 - 1
INT64 = 2**63 - 1
LARGEST = 1e12  # no area, sum of money or annual quantity the registry keeps comes near this
# Control characters no spreadsheet or XML can hold (tab, line feed and carriage return are text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# The ranges people's data falls in, per column; a callable is a configurable limit. A value
# outside is a typing mistake or an attack, never a real building.
RANGES: dict[tuple[str, str], tuple[float | None, object]] = {
    ("building", "floors_above"): (1, limits.STOREYS),
    ("building", "gfa_m2"): (None, 1e7),
    ("building", "crane_tonnage_t"): (0, 1000),
    ("building", "power_kva"): (0, 1e6),
    ("building", "asking_rent_yuan_m2_month"): (0, 10000),
    ("floor", "level"): (-10, limits.STOREYS),
    ("floor", "storey_height_m"): (0, 100),
    ("floor", "floor_load_kn_m2"): (0, 1000),
    ("unit", "floor_level"): (-10, limits.STOREYS),
    ("unit", "leasable_area_m2"): (None, 1e7),
    ("lease", "rent_yuan_m2_month"): (0, 10000),
    ("lease", "rent_free_months"): (0, 120),
    ("rent_relief", "amount_yuan"): (0, LARGEST),
    ("enterprise", "since_year"): (1900, 2200),
    ("annual_indicator", "year"): (1990, 2200),
    ("park", "planned_area_mu"): (0, 1e7),
    ("park", "built_area_mu"): (0, 1e7),
    ("plot", "certificate_area_m2"): (0, 1e9),
}


def _limit(value):
    return value() if callable(value) else value


def _label(table: str, key: str) -> str:
    from .history import label  # the field's name as forms and the ledger say it
    return label(table, key)


def value_problem(table: str, key: str, column, value) -> str | None:
    """Why ``value`` cannot be stored in ``table``'s column ``column`` (attribute ``key``), in words
    naming the field; None when it can."""
    if value is None or isinstance(value, bool):
        return None
    kind = column.type
    low, high = RANGES.get((table, column.name), (None, None))
    high = _limit(high)
    if isinstance(kind, (Float, Integer)) and isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return f"{_label(table, key)} {value!r} 不是有限的数"
        top = INT64 if isinstance(kind, BigInteger) else INT32 if isinstance(kind, Integer) else LARGEST
        lo = -top if low is None else low
        hi = top if high is None else min(high, top)
        if not lo <= value <= hi:
            return f"{_label(table, key)} {value!r} 超出范围（应为 {lo:g}–{hi:g}）"
    elif isinstance(value, str) and isinstance(kind, (String, Text)):
        longest = kind.length if isinstance(kind, String) and kind.length else limits.TEXT_CHARS()
        if len(value) > longest:
            return f"{_label(table, key)}有 {len(value)} 个字符（应不超过 {longest} 个字符）"
        if _CONTROL.search(value):
            return f"{_label(table, key)}含有控制字符（应为可打印的文字）"
    elif isinstance(value, dt.date) and isinstance(kind, Date):
        if not FIRST_DAY <= value <= LAST_DAY + dt.timedelta(days=1):  # a period's end is the day after its last
            return f"{_label(table, key)} {value} 超出范围（应为 {FIRST_DAY:%Y}–{LAST_DAY:%Y} 年间的日期）"
    return None


def problems_of(obj, keys=None) -> list[Problem]:
    """Why ``obj``'s values (those of attributes ``keys``, default all) cannot be stored."""
    problems = []
    table = obj.__tablename__
    for attr in inspect(type(obj)).column_attrs:
        if keys is not None and attr.key not in keys:
            continue
        problem = value_problem(table, attr.key, attr.columns[0], getattr(obj, attr.key, None))
        if problem:
            problems.append(Problem(f"{type(obj).__name__}.{attr.key}", problem))
    return problems


def column_problems(model, columns: dict[str, list]) -> dict[int, list[str]]:
    """The same check over columns of values about to be written in bulk (an import's new rows,
    which never pass through a flush): row index → what is wrong. Numbers are screened as one
    array and texts by their lengths; only the values refused go through ``value_problem`` for
    its words (100,000 rows cost milliseconds)."""
    out: dict[int, list[str]] = {}
    attrs = {a.key: a for a in inspect(model).column_attrs}
    for key, values in columns.items():
        attr = attrs.get(key)
        if attr is None:
            continue
        column = attr.columns[0]
        for i in _suspects(model.__tablename__, column, values):
            problem = value_problem(model.__tablename__, key, column, values[i])
            if problem:
                out.setdefault(i, []).append(problem)
    return out


def _suspects(table: str, column, values: list):
    """Indexes of ``values`` that may break the column's rules (a superset of those that do)."""
    kind = column.type
    if isinstance(kind, (Float, Integer)) and all(v is None or (type(v) in (int, float)) for v in values):
        numbers = np.array([np.nan if v is None else v for v in values], dtype=float)
        low, high = RANGES.get((table, column.name), (None, None))
        high = _limit(high)
        top = INT64 if isinstance(kind, BigInteger) else INT32 if isinstance(kind, Integer) else LARGEST
        lo = -top if low is None else low
        hi = top if high is None else min(high, top)
        given = ~np.isnan(numbers)
        with np.errstate(invalid="ignore"):
            bad = given & ~((numbers >= lo) & (numbers <= hi))
        return np.flatnonzero(bad | (np.isinf(numbers))).tolist()
    if isinstance(kind, (String, Text)):
        longest = kind.length if isinstance(kind, String) and kind.length else limits.TEXT_CHARS()
        return [i for i, v in enumerate(values) if isinstance(v, str) and (len(v) > longest or _CONTROL.search(v))]
    return range(len(values))


def check(session: Session) -> None:
    """Refuses the flush, naming every field, when a new row, or a changed value of a row, cannot
    be stored (see ``value_problem``): only what changed is judged, so a row stored before a rule
    stays editable."""
    problems = []
    for obj in session.new:
        if isinstance(obj, Base):
            problems += problems_of(obj)
    for obj in session.dirty:
        if isinstance(obj, Base) and session.is_modified(obj):
            state = inspect(obj)
            changed = {a.key for a in state.attrs if a.history.has_changes()}
            problems += problems_of(obj, changed)
    if problems:
        raise ValidationError(problems)
