"""Numbers as people read them (the ``num`` filter): thousands separators, a whole number without
".0", at most two decimals unless asked for more, never an exponent, and — for a missing value."""
from __future__ import annotations

import math

from flask import Flask


def number(value, decimals: int = 2) -> str:
    """``value`` for a page: 1,858,840 (not 1.85884e+06), 144 (not 144.0), 5.47 (not
    5.467695000000001); '—' when there is none."""
    if value is None or value == "":
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.{decimals}f}".rstrip("0").rstrip(".")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["num"] = number
