"""亩均评价 pages: runs (list, create), the ranking with filters, one enterprise's explanation and
history, the park ranking, charts (SVG/PNG) and exports (.xlsx/CSV)."""
from __future__ import annotations


from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from registry.assets import parks as park_list
from registry.core import authz
from registry.core.words import N_
from registry.evaluation import charts, publish, rulesets, runs

from . import downloads, forms
from .auth import login_required
from .refusals import form_page
from .db import get_session

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")
PAGE = 100


@bp.before_request
@login_required
def _readers_only():
    authz.require_read_evaluation(g.user)


@bp.app_context_processor
def _roles():
    return {"can_read_evaluation": lambda: authz.can_read_evaluation(g.get("user")),
            "evaluation_county_wide": lambda: authz.audience(g.get("user")).evaluation_parks is None,
            "can_run_evaluation": lambda: authz.can_run_evaluation(g.get("user"))}


def _parks():
    """The parks whose enterprises' results the reader may see (None: all)."""
    return runs.visible_parks(get_session(), authz.audience(g.user))


def _county_wide():
    # The county-wide files and charts are the bureau's publication tools.
    if _parks() is not None:
        raise authz.Forbidden(N_("全县评价结果的导出和图表仅对经信部门和管理员开放；招商人员可查看本园区企业的结果"))


def _run(run_id: int):
    try:
        return runs.get_run(get_session(), run_id)
    except LookupError:
        abort(404)


def _index_page():
    db = get_session()
    return render_template("evaluation_runs.html", runs=runs.runs_list(db), presets=rulesets.preset_choices(),
                           parks=park_list.park_choices(db))


@bp.get("")
def index():
    return _index_page()


@bp.post("")
@form_page(_index_page, "new-run")
def create():
    authz.require_run_evaluation(g.user)
    upload = request.files.get("ruleset_file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload and upload.filename else None
    year = forms.integer("year", default=None)
    park = forms.integer("park", default=None)
    db = get_session()
    run = runs.create_run(db, ruleset=request.form.get("ruleset"), ruleset_text=text, year=year, park_id=park,
                          actor=g.user.username)
    db.commit()
    return redirect(url_for(".ranking", run_id=run.id))


@bp.get("/<int:run_id>")
def ranking(run_id):
    db = get_session()
    run = _run(run_id)
    f = {k: request.args.get(k, "").strip() for k in ("pool", "park", "jurisdiction", "industry", "klass", "q")}
    rows = runs.ranking(db, run, pool=f["pool"] or None, park=f["park"] or None,
                        jurisdiction=f["jurisdiction"] or None, industry=f["industry"] or None,
                        klass=f["klass"] or None, text=f["q"] or None, parks=_parks())
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    pages = max(1, -(-len(rows) // PAGE))
    classes = runs.class_names(run.ruleset)
    pools = [p["name"] for p in run.ruleset.get("pools", [])]
    return render_template(
        "evaluation_run.html", run=run, rows=rows[(page - 1) * PAGE: page * PAGE], matched=len(rows), page=page,
        pages=pages, filters=f, classes=classes, summary=runs.class_summary(db, run), pools=pools,
        parks=runs.result_parks(db, run, _parks()),
        jurisdictions=park_list.jurisdiction_choices(db))


@bp.get("/<int:run_id>/enterprise/<uscc>")
def enterprise(run_id, uscc):
    db = get_session()
    run = _run(run_id)
    try:
        result = runs.get_result(db, run, uscc, _parks())
    except LookupError:
        abort(404)
    return render_template("evaluation_enterprise.html", run=run, r=result,
                           history=runs.enterprise_history(db, uscc))


@bp.get("/<int:run_id>/parks")
def parks(run_id):
    db = get_session()
    run = _run(run_id)
    return render_template("evaluation_parks.html", run=run, table=publish.park_table(db, run))


@bp.get("/<int:run_id>/chart/<kind>.<fmt>")
def chart(run_id, kind, fmt):
    run = _run(run_id)
    if kind == "trend" and request.args.get("uscc"):  # one enterprise's years: for its readers
        try:
            runs.get_result(get_session(), run, request.args["uscc"], _parks())
        except LookupError:
            abort(404)
    else:
        _county_wide()
    try:
        data = charts.chart(get_session(), run, kind, fmt, uscc=request.args.get("uscc") or None,
                            metric=request.args.get("metric", "tax_per_mu"))
    except ValueError as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    return downloads.download(data, f"{kind}.{fmt}", inline=not request.args.get("download"))


@bp.get("/<int:run_id>/export/<what>.<fmt>")
def export(run_id, what, fmt):
    _county_wide()
    db = get_session()
    run = _run(run_id)
    if what == "workbook" and fmt == "xlsx":
        return downloads.download(publish.workbook(db, run),
                                  f"{run.ruleset.get('name', run.ruleset_id)} {run.year} 评价结果.xlsx")
    if fmt not in downloads.TABLE_FORMATS:
        abort(404)
    try:
        table = publish.table(db, run, what)
    except LookupError:
        abort(404)
    return downloads.table(table, fmt)
