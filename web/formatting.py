"""How pages show quantities: numbers as people read them (the ``num`` filter: thousands
separators, a whole number without ".0", at most two decimals unless asked for more, never an
exponent, — for a missing value), and how many rows a preview lists."""
from __future__ import annotations

import math

from flask import Flask

from registry.core import limits


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
    # How many rows a preview page lists (REGISTRY_MAX_PREVIEW_ROWS): a 100,000-row file is
    # summarised, not drawn row by row.
    app.jinja_env.globals["preview_rows"] = limits.PREVIEW_ROWS
