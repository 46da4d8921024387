"""Create and edit parks, plots, buildings and units; geometry is drawn on an offline map."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, g, redirect, render_template, request, url_for

from registry.assets import editing as assets
from registry.core.enums import (BuildingStatus, BuildingType, ConstructionMode, LandUse, ParkLevel, PlotStatus,
                                 RightsType, Structure)
from registry.core.validation import Problem, ValidationError, normalize_code

from .auth import login_required
from .refusals import form_page, form_state
from .db import get_session

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text / number / date / select / checkbox / geometry
    choices: tuple = ()
    help: str = ""


def _choices(enum, blank=False):
    return ((("", "—"),) if blank else ()) + tuple((m.value, m.label) for m in enum)


FIELDS = {
    "park": [Field("name", "园区名称"), Field("level", "级别", "select", _choices(ParkLevel)),
             Field("jurisdiction_code", "行政区划代码", help="6 位 GB/T 2260，如 610921"),
             Field("jurisdiction_name", "行政区划名称", help="区划未登记时必填"),
             Field("operator", "运营公司"), Field("planned_area_mu", "规划面积（亩）", "number"),
             Field("built_area_mu", "建成区面积（亩）", "number"), Field("contact_name", "联系人"),
             Field("contact_phone", "联系电话"), Field("boundary", "园区范围", "geometry")],
    "plot": [Field("code", "宗地编号"), Field("land_use", "土地用途", "select", _choices(LandUse)),
             Field("rights_type", "权利类型", "select", _choices(RightsType, True)),
             Field("holder_uscc", "权利人统一社会信用代码"), Field("certificate_no", "不动产权证号"),
             Field("certificate_area_m2", "证载面积（㎡）", "number"), Field("supply_date", "供地日期", "date"),
             Field("supply_price_wan", "出让价款（万元）", "number"),
             Field("status", "地块状态", "select", _choices(PlotStatus)), Field("geom", "地块范围", "geometry")],
    "building": [Field("code", "楼栋编号"), Field("name", "名称"), Field("plot_id", "所在地块", "select"),
                 Field("type", "类型", "select", _choices(BuildingType)),
                 Field("status", "建设状态", "select", _choices(BuildingStatus)),
                 Field("construction_mode", "建设模式", "select", _choices(ConstructionMode, True)),
                 Field("floors_above", "地上层数", "number"), Field("gfa_m2", "建筑面积（㎡）", "number"),
                 Field("storey_heights", "层高（米，逐层）", help="自一层起，逗号分隔；一个值表示各层相同"),
                 Field("floor_loads_t", "楼面荷载（吨/㎡，逐层）", help="自一层起，逗号分隔"),
                 Field("structure", "结构", "select", _choices(Structure, True)),
                 Field("crane_tonnage_t", "行车吨位（吨）", "number"), Field("power_kva", "供电容量（kVA）", "number"),
                 Field("completion_date", "竣工日期", "date"), Field("footprint", "建筑轮廓", "geometry")],
    "unit": [Field("floor_level", "楼层", "number"), Field("code", "单元编号"),
             Field("leasable_area_m2", "可租面积（㎡）", "number"), Field("leasable", "可出租", "checkbox")],
}
TITLES = {"park": "园区", "plot": "地块", "building": "楼栋", "unit": "单元"}
SAVERS = {"park": assets.save_park, "plot": assets.save_plot, "building": assets.save_building, "unit": assets.save_unit}


def _submitted(kind: str) -> dict:
    """The form's fields as the saver takes them; an unreadable date is refused, naming the field."""
    data, problems = {}, []
    for f in FIELDS[kind]:
        raw = request.form.get(f.name)
        if f.kind == "checkbox":
            data[f.name] = raw is not None
            continue
        raw = (raw or "").strip()
        if f.kind == "date" and raw:
            try:
                data[f.name] = dt.date.fromisoformat(normalize_code(raw).replace("/", "-"))
            except ValueError:
                problems.append(Problem(f"表单.{f.name}", f"{raw!r} 不是日期", "YYYY-MM-DD"))
            continue
        data[f.name] = raw or None
    if problems:
        raise ValidationError(problems)
    return data


def _page(kind: str, ident: int | None, parent: int | None):
    """The form of ``kind``: the record's values, or what the user typed if it was refused."""
    ctx = assets.form_context(get_session(), g.user, kind, ident, parent)
    fs = form_state(kind)
    values = fs.values if fs.name else ctx.values
    return render_template("asset_form.html", ctx=ctx, kind=kind, title=TITLES[kind], fields=FIELDS[kind],
                           values=values, fs=fs)


def _form(kind: str, ident: int | None, parent: int | None):
    if request.method == "GET":
        return _page(kind, ident, parent)
    db = get_session()
    assets.form_context(db, g.user, kind, ident, parent)  # the record exists and is theirs to save, before its fields
    args = (ident,) if kind == "park" else (parent, ident)
    obj = SAVERS[kind](db, g.user, *args, _submitted(kind), seen_version=request.form.get("version"))
    db.commit()
    return redirect(_after(kind, obj))


def _after(kind, obj):
    if kind == "park":
        return url_for("manage.park", park_id=obj.id)
    if kind == "plot":
        return url_for("manage.park", park_id=obj.park_id)
    if kind == "building":
        return url_for("manage.building", building_id=obj.id)
    return url_for("manage.unit", unit_id=obj.id)


@bp.route("/parks/new", methods=["GET", "POST"])
@login_required
@form_page(lambda: _page("park", None, None), "park")
def new_park():
    return _form("park", None, None)


@bp.route("/parks/<int:park_id>/edit", methods=["GET", "POST"])
@login_required
@form_page(lambda park_id: _page("park", park_id, None), "park")
def edit_park(park_id):
    return _form("park", park_id, None)


@bp.route("/parks/<int:park_id>/plots/new", methods=["GET", "POST"])
@login_required
@form_page(lambda park_id: _page("plot", None, park_id), "plot")
def new_plot(park_id):
    return _form("plot", None, park_id)


@bp.route("/plots/<int:plot_id>/edit", methods=["GET", "POST"])
@login_required
@form_page(lambda plot_id: _page("plot", plot_id, None), "plot")
def edit_plot(plot_id):
    return _form("plot", plot_id, None)


@bp.route("/parks/<int:park_id>/buildings/new", methods=["GET", "POST"])
@login_required
@form_page(lambda park_id: _page("building", None, park_id), "building")
def new_building(park_id):
    return _form("building", None, park_id)


@bp.route("/buildings/<int:building_id>/edit", methods=["GET", "POST"])
@login_required
@form_page(lambda building_id: _page("building", building_id, None), "building")
def edit_building(building_id):
    return _form("building", building_id, None)


@bp.route("/buildings/<int:building_id>/units/new", methods=["GET", "POST"])
@login_required
@form_page(lambda building_id: _page("unit", None, building_id), "unit")
def new_unit(building_id):
    return _form("unit", None, building_id)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
@form_page(lambda unit_id: _page("unit", unit_id, None), "unit")
def edit_unit(unit_id):
    return _form("unit", unit_id, None)
