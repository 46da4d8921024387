"""Reports of a park: the page, and downloads as .xlsx and CSV."""
from __future__ import annotations


from flask import Blueprint, g, render_template, request

from registry.core import authz
from registry.occupancy import reports

from . import downloads, forms
from .auth import login_required
from .db import get_session

bp = Blueprint("reports", __name__, url_prefix="/parks/<int:park_id>/reports")

KINDS = {"rent-roll": reports.rent_roll, "expiry": reports.expiry_schedule, "vacancy": reports.vacancy,
         "followup": lambda db, park_id, day: reports.expiry_followup(db, park_id, day, request.args)}
# Reports of a park's tenants and leases, for its own readers; the vacancy report is public-level.
PRIVATE = {"rent-roll", "expiry", "followup"}


def _render(kind: str, park_id: int):
    if kind in PRIVATE:
        authz.require_private(g.user, park_id)
    fmt = downloads.page_format()
    day = forms.as_of()
    table = KINDS[kind](get_session(), park_id, day)
    if fmt == "html":
        return render_template("report.html", table=table, kind=kind, park_id=park_id, day=day,
                               args=request.args.to_dict())
    return downloads.table(table, fmt)


@bp.get("/rent-roll")
@login_required
def rent_roll(park_id):
    return _render("rent-roll", park_id)


@bp.get("/expiry")
@login_required
def expiry(park_id):
    return _render("expiry", park_id)


@bp.get("/followup")
@login_required
def followup(park_id):
    return _render("followup", park_id)


@bp.get("/vacancy")
@login_required
def vacancy(park_id):
    return _render("vacancy", park_id)
