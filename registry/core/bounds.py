"""What a stored value may be, whichever way it arrives (a form, a spreadsheet, a GIS file, the
command line): a number is finite and within its column's range, an integer fits the column on
both backends, a text fits its declared length. Checked once, before every flush, for every new
or changed row, so SpatiaLite (which would store ``inf`` or 300 characters in a VARCHAR(64)) and
PostgreSQL (which would refuse them with a 500) give the same 400 naming the field.
"""
from __future__ import annotations

import math

from sqlalchemy import BigInteger, Float, Integer, String, Text, inspect
from sqlalchemy.orm import Session

from . import limits
from .models import Base
from .validation import Problem, ValidationError

INT32 = 2**31 - 1
INT64 = 2**63 - 1
LARGEST = 1e12  # no area, sum of money or annual quantity the registry keeps comes near this

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


def problems_of(obj) -> list[Problem]:
    """Why ``obj``'s values cannot be stored (empty when they can)."""
    problems = []
    table = obj.__tablename__
    mapper = inspect(type(obj))
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        value = getattr(obj, attr.key, None)
        if value is None or isinstance(value, bool):
            continue
        field = f"{type(obj).__name__}.{attr.key}"
        kind = column.type
        low, high = RANGES.get((table, column.name), (None, None))
        high = _limit(high)
        if isinstance(kind, (Float, Integer)) and isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(Problem(field, f"{_label(table, attr.key)} {value!r} 不是有限的数", "一个数字"))
                continue
            top = INT64 if isinstance(kind, BigInteger) else INT32 if isinstance(kind, Integer) else LARGEST
            lo = -top if low is None else low
            hi = top if high is None else min(high, top)
            if not lo <= value <= hi:
                problems.append(Problem(field, f"{_label(table, attr.key)} {value!r} 超出范围", f"{lo:g}–{hi:g}"))
        elif isinstance(value, str) and isinstance(kind, (String, Text)):
            longest = kind.length if isinstance(kind, String) and kind.length else limits.TEXT_CHARS()
            if len(value) > longest:
                problems.append(Problem(field, f"{_label(table, attr.key)}有 {len(value)} 个字符",
                                        f"不超过 {longest} 个字符"))
    return problems


def check(session: Session) -> None:
    """Refuses the flush, naming every field, when a new or changed row holds a value that cannot
    be stored (see ``problems_of``)."""
    problems = []
    for obj in list(session.new) + [o for o in session.dirty if session.is_modified(o)]:
        if isinstance(obj, Base):
            problems += problems_of(obj)
    if problems:
        raise ValidationError(problems)
