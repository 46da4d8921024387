"""Occupancy reports of a park: the rent roll (一房一行), the expiry follow-up list (到期跟进), the
lease-expiry schedule, and vacancy.

Each returns a ``Table``: Chinese column headers, a number format per column, and plain rows, so the
same data renders as a page, an .xlsx and a CSV (see core/tabular.py).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.enums import LeaseKind
from ..core.models import Building, Enterprise, Lease, Park, Unit
from ..core.params import Param, parse_all
from ..core.tabular import Column, Table
from .status import ON_MARKET, VACANT, building_completed_on, unit_states


def urgency(days_left: int | None) -> str | None:
    """Rent-roll colour by days until the unit is free: ≤30 red, ≤60 amber, ≤90 yellow."""
    if days_left is None:
        return None
    return "red" if days_left <= 30 else "amber" if days_left <= 60 else "yellow" if days_left <= 90 else None


def _park(session: Session, park_id: int) -> Park:
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    return park


def rent_roll(session: Session, park_id: int, day: dt.date) -> Table:
    """Every unit of the park's buildings with tenant, area, rent, lease end and days left."""
    park = _park(session, park_id)
    units = session.execute(select(Unit, Building).join(Building, Building.id == Unit.building_id)
                            .where(Building.park_id == park_id)
                            .order_by(Building.code, Unit.floor_level, Unit.code)).all()
    states = unit_states(session, day, park_id=park_id)
    usccs = dict(session.execute(select(Enterprise.id, Enterprise.uscc)
                                 .where(Enterprise.id.in_({s.enterprise_id for s in states.values() if s.enterprise_id}))).all())
    rows = []
    for unit, b in units:
        s = states[unit.id]
        monthly = (s.rent_yuan_m2_month * unit.leasable_area_m2) if s.rent_yuan_m2_month is not None else None
        rows.append({
            "building": b.code, "building_name": b.name or "", "floor": unit.floor_level, "unit": unit.code,
            "area": unit.leasable_area_m2, "status": s.status.label, "tenant": s.tenant or s.prospect or "",
            "uscc": usccs.get(s.enterprise_id, ""), "rent": s.rent_yuan_m2_month, "monthly_rent": monthly,
            "start": s.lease_start, "last_day": s.last_day, "days_left": s.days_left,
            "urgency": urgency(s.days_left) if s.let else None,
            "unit_id": unit.id})
    cols = [Column("building", "楼栋编号", width=10), Column("building_name", "楼栋名称", width=16),
            Column("floor", "楼层", "0", 6), Column("unit", "单元", width=10), Column("area", "面积(㎡)", "#,##0.00"),
            Column("status", "状态", width=12), Column("tenant", "租户/意向客户", width=30),
            Column("uscc", "统一社会信用代码", width=22), Column("rent", "租金(元/㎡·月)", "0.00"),
            Column("monthly_rent", "月租金(元)", "#,##0.00", 14), Column("start", "起租日", "yyyy-mm-dd"),
            Column("last_day", "到期日", "yyyy-mm-dd"), Column("days_left", "剩余天数", "0", 10)]
    return Table(f"{park.name} 租赁台账（{day}）", cols, rows, urgency_key="days_left",
                 notes=["到期日为合同最后一日；剩余天数至单元空出之日。≤30天红色，≤60天橙色，≤90天黄色。"])


# How the follow-up list may be ordered, and how far ahead it looks.
FOLLOWUP_SORTS = {"days_left": "剩余天数", "tenant": "租户", "building": "楼栋", "area": "面积", "rent": "租金"}
FOLLOWUP_PARAMS = (Param("within", "integer", "leases ending within this many days (default 90)", "到期天数",
                         minimum=1, maximum=3650),
                   Param("sort", "choice", "order: " + ", ".join(FOLLOWUP_SORTS), "排序", choices=tuple(FOLLOWUP_SORTS)))
RENEWAL = {"none": "未续签", "renewed": "已续租", "relet": "已签新租户"}


def _successors(session: Session, park_id: int, day: dt.date) -> dict[int, list[Lease]]:
    """The leases of the park's units that start after ``day``, by unit, earliest first."""
    out: dict[int, list[Lease]] = defaultdict(list)
    for lease in session.scalars(select(Lease).join(Unit, Unit.id == Lease.unit_id)
                                 .join(Building, Building.id == Unit.building_id)
                                 .where(Building.park_id == park_id, Lease.start_date > day).order_by(Lease.start_date)):
        out[lease.unit_id].append(lease)
    return out


def expiry_followup(session: Session, park_id: int, day: dt.date, options: Mapping[str, str] | None = None) -> Table:
    """The leases ending within ``within`` days of ``day`` (default 90), one row per tenant and unit:
    whom to call (contact, phone), the area and rent at stake, the last day, the days left, and
    whether it is settled (renewed, or the unit re-let) — the park's 到期跟进 list. ``sort`` orders
    it (days left first by default)."""
    park = _park(session, park_id)
    o = parse_all(FOLLOWUP_PARAMS, options or {}, prefix="query.")
    within, order = o.get("within", 90), o.get("sort", "days_left")
    horizon = day + dt.timedelta(days=within)
    rows_q = session.execute(
        select(Lease, Unit, Building, Enterprise).join(Unit, Unit.id == Lease.unit_id)
        .join(Building, Building.id == Unit.building_id).join(Enterprise, Enterprise.id == Lease.enterprise_id)
        .where(Building.park_id == park_id, Lease.kind == LeaseKind.LEASE, Lease.start_date <= day,
               Lease.end_date > day, Lease.end_date <= horizon + dt.timedelta(days=1))).all()
    later = _successors(session, park_id, day)
    rows = []
    for lease, unit, b, ent in rows_q:
        nxt = next((n for n in later.get(unit.id, []) if n.start_date >= lease.end_date), None)
        settled = "none" if nxt is None else "renewed" if nxt.enterprise_id == lease.enterprise_id else "relet"
        days_left = (lease.end_date - day).days
        rows.append({"building": b.code, "unit": unit.code, "tenant": ent.name, "uscc": ent.uscc,
                     "contact": ent.contact_name or "", "phone": ent.contact_phone or "", "area": unit.leasable_area_m2,
                     "rent": lease.rent_yuan_m2_month, "last_day": lease.end_date - dt.timedelta(days=1),
                     "days_left": days_left, "renewal": RENEWAL[settled],
                     "urgency": urgency(days_left) if settled == "none" else None, "unit_id": unit.id})
    key = {"days_left": lambda r: (r["days_left"], r["building"], r["unit"]),
           "tenant": lambda r: (r["tenant"], r["days_left"]), "building": lambda r: (r["building"], r["unit"]),
           "area": lambda r: (-r["area"], r["days_left"]), "rent": lambda r: (-(r["rent"] or 0), r["days_left"])}[order]
    rows.sort(key=key)
    cols = [Column("building", "楼栋", width=10), Column("unit", "单元", width=10), Column("tenant", "租户", width=30),
            Column("uscc", "统一社会信用代码", width=22), Column("contact", "联系人", width=10),
            Column("phone", "联系电话", width=14), Column("area", "面积(㎡)", "#,##0.00"),
            Column("rent", "租金(元/㎡·月)", "0.00"), Column("last_day", "到期日", "yyyy-mm-dd"),
            Column("days_left", "剩余天数", "0", 10), Column("renewal", "续签情况", width=12)]
    return Table(f"{park.name} 到期跟进（{day} 起 {within} 天内到期）", cols, rows, urgency_key="days_left",
                 notes=["到期日为合同最后一日。未续签的租约按剩余天数着色：≤30天红色，≤60天橙色，≤90天黄色。",
                        "续签情况：已续租＝同一租户已签下一期；已签新租户＝单元已另签；未续签＝尚无后续租约。"],
                 sort_keys=tuple(FOLLOWUP_SORTS), sorted_by=order)


def expiry_schedule(session: Session, park_id: int, day: dt.date) -> Table:
    """Leases in force or signed for later that no later lease of their unit follows (a renewed or
    re-let unit is not expiring), by the month and the year they end, with area and its share of
    the building."""
    park = _park(session, park_id)
    later = _successors(session, park_id, day)
    rows_q = [(lease, unit, b) for lease, unit, b in session.execute(
        select(Lease, Unit, Building).join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
        .where(Building.park_id == park_id, Lease.end_date > day, Lease.kind == LeaseKind.LEASE)).all()
        if not any(n.start_date >= lease.end_date for n in later.get(unit.id, []))]
    building_area = defaultdict(float)
    for u, b in session.execute(select(Unit, Building).join(Building, Building.id == Unit.building_id)
                                .where(Building.park_id == park_id, Unit.leasable)).all():
        building_area[b.id] += u.leasable_area_m2
    groups: dict[tuple, dict] = {}
    for lease, unit, b in rows_q:
        last = lease.end_date - dt.timedelta(days=1)
        key = (last.year, last.month, b.code)
        g = groups.setdefault(key, {"year": last.year, "month": f"{last.year}-{last.month:02d}", "building": b.code,
                                    "leases": 0, "area": 0.0, "building_area": building_area[b.id]})
        g["leases"] += 1
        g["area"] += unit.leasable_area_m2
    rows = []
    for key in sorted(groups):
        g = groups[key]
        g["share"] = g["area"] / g["building_area"] if g["building_area"] else None
        rows.append(g)
    year_totals = defaultdict(float)
    for g in rows:
        year_totals[g["year"]] += g["area"]
    for g in rows:
        g["year_area"] = year_totals[g["year"]]
    cols = [Column("year", "到期年份", "0", 10), Column("month", "到期月份", width=10), Column("building", "楼栋", width=10),
            Column("leases", "租约数", "0", 8), Column("area", "到期面积(㎡)", "#,##0.00", 14),
            Column("share", "占本楼可租面积", "0.0%", 14), Column("year_area", "当年到期合计(㎡)", "#,##0.00", 16)]
    return Table(f"{park.name} 租约到期计划（{day} 起）", cols, rows)


def vacancy(session: Session, park_id: int, day: dt.date) -> Table:
    """Vacant area and units per building of the park, on ``day``, with the park's total."""
    park = _park(session, park_id)
    states = unit_states(session, day, park_id=park_id)
    units = session.execute(select(Unit, Building).join(Building, Building.id == Unit.building_id)
                            .where(Building.park_id == park_id, building_completed_on(day))
                            .order_by(Building.code)).all()
    per: dict[int, dict] = {}
    for u, b in units:
        s = states[u.id].status
        if s not in ON_MARKET:
            continue
        r = per.setdefault(b.id, {"building": b.code, "name": b.name or "", "type": b.type.label,
                                  "units": 0, "vacant_units": 0, "area": 0.0, "vacant_area": 0.0})
        r["units"] += 1
        r["area"] += u.leasable_area_m2
        if s in VACANT:
            r["vacant_units"] += 1
            r["vacant_area"] += u.leasable_area_m2
    rows = list(per.values())
    total = {"building": "合计", "name": "", "type": "", "units": sum(r["units"] for r in rows),
             "vacant_units": sum(r["vacant_units"] for r in rows), "area": sum(r["area"] for r in rows),
             "vacant_area": sum(r["vacant_area"] for r in rows)}
    for r in rows + [total]:
        r["vacancy_rate"] = r["vacant_area"] / r["area"] if r["area"] else None
    cols = [Column("building", "楼栋", width=10), Column("name", "名称", width=16), Column("type", "类型", width=10),
            Column("units", "单元数", "0", 8), Column("vacant_units", "空置单元", "0", 8),
            Column("area", "可租面积(㎡)", "#,##0.00", 14), Column("vacant_area", "空置面积(㎡)", "#,##0.00", 14),
            Column("vacancy_rate", "空置率", "0.0%", 10)]
    return Table(f"{park.name} 空置统计（{day}）", cols, rows + [total],
                 notes=["预留单元计入空置，已签约待入驻的单元不计入；自用与不可租单元不计入可租面积。"])
