"""Park management pages: park KPIs, stacking plans, unit histories and lease actions.

Each view reads the request, calls one registry function, and renders; every write is checked by the
registry for the user's park scope and for stale edits, and committed whole or not at all.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from registry.core import authz, clock
from registry.core.enums import EndReason, LeaseKind, ReservationOutcome, UnitStatus
from registry.core.params import Param
from registry.occupancy import finder, kpi, leasing, stacking

from . import forms
from .auth import login_required
from .db import get_session
from .i18n import gettext as _
from .refusals import form_page

bp = Blueprint("manage", __name__)


def _act(action, message, back: str):
    """Runs a registry write, commits it, and redirects back. A refusal (invalid input, a newer save,
    a lost race) is raised to the one answer of web/refusals.py: nothing is written, and the page
    of the form comes back with what was typed."""
    db = get_session()
    result = action(db)
    db.commit()
    flash(message(result) if callable(message) else message)
    return redirect(back)


@bp.get("/parks/<int:park_id>")
@login_required
def park(park_id):
    k = kpi.park_kpis(get_session(), park_id, forms.as_of())
    return render_template("park.html", k=k, can_write=authz.can_write_park(g.user, park_id),
                           private=authz.audience(g.user).private(park_id))


def building_page(building_id):
    plan = stacking.stacking_plan(get_session(), building_id, forms.as_of(), authz.audience(g.user))
    can_write = authz.can_write_park(g.user, plan.building.park_id)
    reservation = request.args.get("reservation")  # 转为签约: the form starts from the reservation
    prefill = leasing.conversion(get_session(), reservation) if reservation and can_write else {}
    return render_template("building.html", plan=plan, statuses=list(UnitStatus), can_write=can_write, prefill=prefill)


def _unit_page(unit_id):
    rec = stacking.unit_record(get_session(), unit_id, forms.as_of(), authz.audience(g.user))
    return render_template("unit.html", rec=rec, today=clock.today(), end_reasons=list(EndReason),
                           can_write=authz.can_write_park(g.user, rec.unit.building.park_id))


def _lease_unit_page(lease_id):
    return _unit_page(stacking.unit_id_of_lease(get_session(), lease_id))


@bp.get("/search")
@login_required
def search():
    text = finder.query_text(request.args.get("q"))
    park = forms.integer("park", default=None)
    hits = finder.find(get_session(), text, authz.audience(g.user), clock.today(), park)
    return render_template("search.html", q=text, park=park, hits=hits, limit=finder.LIMIT)


@bp.get("/buildings/<int:building_id>")
@login_required
def building(building_id):
    return building_page(building_id)


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id):
    return _unit_page(unit_id)


# The signing form's fields.
SIGN_FIELDS = (Param("uscc", "text", "", "统一社会信用代码", required=True), Param("name", "text", "", "企业名称"),
               Param("start_date", "date", "", "起租日", required=True),
               Param("end_date", "last_day", "", "到期日", required=True),
               Param("rent", "number", "", "租金（元/㎡·月）", minimum=0),
               Param("rent_free_months", "integer", "", "免租期（月）", minimum=0), Param("contract_no", "text", "", "合同编号"),
               Param("kind", "choice", "", "类型", choices=tuple(k.value for k in LeaseKind)),
               Param("reservation_id", "integer", "", "转为签约的预留", minimum=1),
               Param("contact_name", "text", "", "联系人"), Param("contact_phone", "text", "", "联系电话"))
# The early end's fields.
END_FIELDS = (Param("last_day", "last_day", "", "退租日", required=True),
              Param("reason", "choice", "", "终止原因", required=True, choices=tuple(r.value for r in EndReason)),
              Param("note", "text", "", "说明"))


@bp.post("/buildings/<int:building_id>/leases")
@login_required
@form_page(building_page, "sign", **{"Lease.enterprise_uscc": "uscc", "Enterprise.name": "name",
                                     "Lease.rent_yuan_m2_month": "rent"})
def sign(building_id):
    f = forms.read(*SIGN_FIELDS)
    return _act(lambda db: leasing.sign_lease(
        db, g.user, forms.ids("unit_id"), uscc=f["uscc"], name=f.get("name"), start=f["start_date"],
        end=f["end_date"], rent=f.get("rent"), rent_free_months=f.get("rent_free_months", 0),
        contract_no=f.get("contract_no"), kind=LeaseKind.from_any(f.get("kind", "lease")),
        reservation_id=f.get("reservation_id"), today=clock.today(),
        contact_name=f.get("contact_name"), contact_phone=f.get("contact_phone")),
        lambda leases: _("已签约 {n} 个单元").format(n=len(leases)), url_for(".building", building_id=building_id))


@bp.post("/leases/<int:lease_id>/renew")
@login_required
@form_page(_lease_unit_page, "renew-{lease_id}", **{"Lease.rent_yuan_m2_month": "rent"})
def renew(lease_id):
    return _act(lambda db: leasing.renew_lease(db, g.user, lease_id, new_end=forms.last_day("end_date"),
                                               rent=forms.number("rent"), contract_no=forms.text("contract_no"),
                                               same_contract=bool(request.form.get("same_contract")),
                                               seen_version=request.form.get("version")),
                _("已续租"), forms.back(url_for("main.index")))


@bp.post("/leases/<int:lease_id>/terminate")
@login_required
@form_page(_lease_unit_page, "terminate-{lease_id}", **{"Lease.end_date": "last_day", "Lease.end_note": "note"})
def terminate(lease_id):
    """An early end in two steps: the form is checked and what it will do is shown (nothing written);
    the confirmation does it."""
    f = forms.read(*END_FIELDS)
    args = {"free_from": f["last_day"], "reason": EndReason.from_any(f["reason"]), "note": f.get("note"),
            "seen_version": request.form.get("version")}
    if not request.form.get("confirm"):
        db = get_session()
        page = render_template("terminate_confirm.html", t=leasing.termination(db, g.user, lease_id, **args),
                               form=request.form)
        db.rollback()
        return page
    return _act(lambda db: leasing.terminate_lease(db, g.user, lease_id, **args),
                _("已提前终止"), forms.back(url_for("main.index")))


def _reservation_unit_page(reservation_id):
    return _unit_page(stacking.unit_id_of_reservation(get_session(), reservation_id))


@bp.post("/reservations/<int:reservation_id>/cancel")
@login_required
@form_page(_reservation_unit_page, "cancel-{reservation_id}")
def cancel_reservation(reservation_id):
    return _act(lambda db: leasing.close_reservation(db, g.user, reservation_id, ReservationOutcome.CANCELLED,
                                                     clock.today(), seen_version=request.form.get("version")),
                _("已取消预留"), forms.back(url_for("main.index")))


@bp.post("/leases/<int:lease_id>/relief")
@login_required
@form_page(_lease_unit_page, "relief-{lease_id}", **{"RentRelief.amount_yuan": "amount"})
def relief(lease_id):
    return _act(lambda db: leasing.record_relief(db, g.user, lease_id, reason=forms.text("reason", required=True),
                                                 amount_yuan=forms.number("amount", required=True),
                                                 start=forms.date("start_date"), end=forms.last_day("end_date")),
                _("已登记租金减免"), forms.back(url_for("main.index")))


@bp.post("/units/<int:unit_id>/reserve")
@login_required
@form_page(_unit_page, "reserve", **{"Reservation.end_date": "until"})
def reserve(unit_id):
    return _act(lambda db: leasing.reserve_unit(db, g.user, unit_id, prospect=forms.text("prospect", required=True),
                                                until=forms.last_day("until"),
                                                start=forms.date("start_date", default=clock.today()),
                                                note=forms.text("note")),
                _("已预留"), url_for(".unit", unit_id=unit_id))


@bp.post("/buildings/<int:building_id>/verify")
@login_required
@form_page(building_page, "verify")
def verify(building_id):
    return _act(lambda db: leasing.verify_building(db, g.user, building_id, clock.today()),
                _("已标记为今日核实"), url_for(".building", building_id=building_id))
