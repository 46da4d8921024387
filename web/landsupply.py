"""供地测算 pages: the calculator form with its results, the printable result sheet, and a park's
land balance (page with map, .xlsx/CSV)."""
from __future__ import annotations


from flask import Blueprint, abort, g, render_template, request

from geodata.area import m2_to_mu
from registry.landsupply import balance, service
from registry.core.validation import ValidationError

from . import downloads, forms
from .auth import login_required
from .db import get_session
from registry.core import authz, clock

bp = Blueprint("landsupply", __name__)


@bp.app_template_filter("mu")
def _mu(m2: float) -> float:
    return m2_to_mu(m2)


def _calculate(template: str):
    db = get_session()
    args = {k: v for k, v in request.args.items() if v != ""}
    result, problems = None, []
    if "industry_code" in args:
        try:
            result = service.calculate(db, service.parse(args), clock.today(), authz.audience(g.user))
        except ValidationError as exc:
            problems = exc.problems
    status = 400 if problems else 200
    return render_template(template, params=service.PARAMS, args=args, result=result, problems=problems,
                           today=clock.today(), **service.form_choices(db)), status


@bp.get("/landcalc")
@login_required
def calculator():
    return _calculate("landcalc.html")


@bp.get("/landcalc/sheet")
@login_required
def sheet():
    return _calculate("landcalc_sheet.html")


@bp.get("/parks/<int:park_id>/land")
@login_required
def land(park_id):
    fmt = downloads.page_format()
    db = get_session()
    day = forms.as_of()
    try:
        data = balance.land_balance(db, park_id, day, authz.audience(g.user))
    except LookupError:
        abort(404)
    if fmt == "html":
        return render_template("land_balance.html", b=data, geojson=balance.balance_geojson(db, data), day=day)
    return downloads.table(balance.balance_table(data), fmt)
