"""Pages. Each view reads the request, calls one registry function, and renders the result."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request

from registry.occupancy import summary

from .db import get_session
from registry.core import clock

bp = Blueprint("main", __name__)


def _as_of() -> dt.date:
    value = request.args.get("as_of")
    if not value:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"as_of={value!r} is not a date (YYYY-MM-DD)")


@bp.get("/")
def index():
    day = _as_of()
    parks, total = summary.overview(get_session(), day)
    return render_template("index.html", parks=parks, total=total, day=day, wan=summary.wan)
