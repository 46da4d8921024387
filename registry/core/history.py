"""The audit trail as people read it: one record's history, and a park's 操作记录.

Each entry says when, who (the person's name, not the login), what was done (新建, 修改, 删除) to which
record, named as people name it (a unit by its building and code, a lease by its unit and tenant),
and, for each field, its Chinese label with the value before and after: enums by their labels, yes/no,
and the end of a period as its last day (periods are stored half-open, people read the last day).
The version counter and other bookkeeping are left out.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import Enum as EnumType

from . import clock
from .audit import AUDITED, DELETE, INSERT, UPDATE, record_history
from .integrity import ONE_DAY
from .models import (MAX_ID, AuditRecord, Building, Enterprise, Floor, Lease, Park, Plot, PlotObligation, RentRelief,
                     Reservation, Unit, User)
from .params import Param, parse_all
from .tabular import Column, Table

ACTIONS = {INSERT: "新建", UPDATE: "修改", DELETE: "删除", "bulk_insert": "批量新建"}
KINDS = {"park": "园区", "plot": "地块", "plot_obligation": "履约指标", "building": "楼栋", "floor": "楼层",
         "unit": "单元", "lease": "租约", "reservation": "预留", "rent_relief": "租金减免", "enterprise": "企业",
         "enterprise_tag": "企业资质", "annual_indicator": "年度指标", "app_user": "用户", "jurisdiction": "行政区划",
         "import_profile": "导入方案", "evaluation_run": "亩均评价批次", "user_park_scope": "用户园区"}
# Field labels: the column's name as the forms and the ledger say it (per kind where it differs).
LABELS = {
    "name": "名称", "code": "编号", "park_id": "园区", "plot_id": "宗地", "building_id": "楼栋", "unit_id": "单元",
    "enterprise_id": "企业", "lease_id": "租约", "holder_id": "权利人", "floor_level": "楼层", "level": "楼层",
    "start_date": "起始日", "end_date": "截止日（最后一日）", "note": "备注", "status": "状态", "type": "类型",
    "uscc": "统一社会信用代码", "industry_code": "行业代码", "above_scale": "规上企业", "production_start": "投产日期",
    "contact_name": "联系人", "contact_phone": "联系电话", "operator": "运营公司", "level_park": "园区级别",
    "jurisdiction_code": "行政区划", "planned_area_mu": "规划面积（亩）", "built_area_mu": "建成区面积（亩）",
    "hide_rents": "对外隐藏租金", "boundary": "园区范围", "geom": "图形", "footprint": "基底轮廓",
    "certificate_no": "不动产权证号", "certificate_area_m2": "证载面积（㎡）", "computed_area_m2": "图形面积（㎡）",
    "land_use": "土地用途", "rights_type": "权利类型", "supply_date": "供地日期", "supply_price_wan": "出让价款（万元）",
    "construction_mode": "建设模式", "floors_above": "地上层数", "gfa_m2": "建筑面积（㎡）",
    "footprint_area_m2": "基底面积（㎡）", "structure": "结构", "crane_tonnage_t": "行车吨位（t）",
    "power_kva": "供电容量（kVA）", "completion_date": "竣工日期", "last_verified": "最近核实",
    "asking_rent_yuan_m2_month": "招租价（元/㎡·月）", "industries_allowed": "允许行业", "industries_excluded": "禁止行业",
    "photo": "照片", "storey_height_m": "层高（m）", "floor_load_kn_m2": "楼面荷载（kN/㎡）",
    "leasable_area_m2": "可租面积（㎡）", "leasable": "可出租", "contract_no": "合同编号",
    "rent_yuan_m2_month": "租金（元/㎡·月）", "rent_free_months": "免租期（月）", "kind": "类型",
    "end_reason": "终止原因", "end_note": "终止说明", "prospect": "意向客户", "outcome": "预留结果",
    "reason": "事由", "amount_yuan": "金额（元）", "username": "用户名", "display_name": "姓名", "role": "角色",
    "active": "启用", "session_generation": "会话代次（退出登录时增加）",
    # Form and URL parameters that are no column's.
    "as_of": "截至日期", "rent": "租金（元/㎡·月）", "amount": "金额（元）", "year": "年度", "park": "园区",
    "last_day": "最后一日", "until": "预留至", "q": "查找内容", "since": "起始日期", "current_password": "当前密码",
    "confirm": "再次输入的新密码", "password": "密码", "min_area": "可租面积下限（㎡）", "max_area": "可租面积上限（㎡）",
}
PER_KIND = {("lease", "start_date"): "起租日", ("lease", "end_date"): "到期日", ("reservation", "end_date"): "预留至",
            ("reservation", "start_date"): "预留开始日", ("rent_relief", "start_date"): "减免开始日",
            ("rent_relief", "end_date"): "减免结束日", ("park", "level"): "园区级别", ("unit", "code"): "单元编号",
            ("building", "code"): "楼栋编号", ("plot", "code"): "宗地编号", ("enterprise", "name"): "企业名称"}
# Periods stored half-open: their end is shown as the last day.
PERIOD_ENDS = {("lease", "end_date"), ("reservation", "end_date"), ("rent_relief", "end_date")}
HIDDEN = {"version", "id"}


def local_time(at: dt.datetime) -> dt.datetime:
    """A stored moment in the registry's time zone, without the zone (as a page or a sheet shows it).
    SpatiaLite gives back the UTC time without its zone; PostgreSQL with it."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(clock.zone()).replace(tzinfo=None)


def _day_starts(day: dt.date) -> dt.datetime:
    """The moment ``day`` begins in the registry's time zone, in UTC (as both backends compare it)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=clock.zone()).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:  # 一条操作记录
    at: dt.datetime  # in the registry's time zone
    person: str  # the person's name (their login when they have none)
    action: str  # 新建 / 修改 / 删除
    kind: str  # 租约, 单元 …
    entity: str
    entity_id: str | None
    record: str  # the record as people name it
    changes: list[Change] = field(default_factory=list)
    note: str | None = None


def _shown(entity: str, key: str, value) -> str:
    if value is None or value == "":
        return ""
    table = AUDITED[entity].__table__ if entity in AUDITED else None
    column = table.c.get(key) if table is not None else None
    if column is not None and isinstance(column.type, EnumType) and column.type.enum_class is not None:
        try:
            member = column.type.enum_class(value)
            return getattr(member, "label", member.value if isinstance(member, Enum) else str(member))
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if (entity, key) in PERIOD_ENDS:
        try:
            return (dt.date.fromisoformat(str(value)) - ONE_DAY).isoformat()
        except ValueError:
            return str(value)
    if isinstance(value, str) and value.startswith(("MULTIPOLYGON", "POLYGON", "POINT", "SRID=")):
        return "（图形）"
    if isinstance(value, (list, dict)):
        return "、".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(value)


def label(entity: str, key: str) -> str:
    """A field's Chinese label."""
    return PER_KIND.get((entity, key)) or LABELS.get(key, key)


def _changes(r: AuditRecord) -> list[Change]:
    before, after = r.before or {}, r.after or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if k not in HIDDEN]
    out = []
    for k in keys:
        old, new = _shown(r.entity, k, before.get(k)), _shown(r.entity, k, after.get(k))
        if r.action == UPDATE and old == new:
            continue
        out.append(Change(label(r.entity, k), old, new))
    return out


def _names(session: Session, records: list[AuditRecord]) -> dict[tuple[str, str], str]:
    """How people name each record the entries speak of, looked up once per kind."""
    ids: dict[str, set[int]] = {}
    for r in records:
        if r.entity_id and r.entity_id.isdecimal():
            ids.setdefault(r.entity, set()).add(int(r.entity_id))
    out: dict[tuple[str, str], str] = {}

    def put(kind, rows):
        for ident, text in rows:
            out[(kind, str(ident))] = text

    if "park" in ids:
        put("park", session.execute(select(Park.id, Park.name).where(Park.id.in_(ids["park"]))))
    if "plot" in ids:
        put("plot", session.execute(select(Plot.id, Plot.code).where(Plot.id.in_(ids["plot"]))))
    if "building" in ids:
        put("building", session.execute(select(Building.id, Building.code).where(Building.id.in_(ids["building"]))))
    if "unit" in ids:
        put("unit", ((i, f"{b} · {u}") for i, b, u in session.execute(
            select(Unit.id, Building.code, Unit.code).join(Building).where(Unit.id.in_(ids["unit"])))))
    if "lease" in ids:
        put("lease", ((i, f"{b} · {u} · {e}") for i, b, u, e in session.execute(
            select(Lease.id, Building.code, Unit.code, Enterprise.name).join(Unit, Unit.id == Lease.unit_id)
            .join(Building, Building.id == Unit.building_id).join(Enterprise, Enterprise.id == Lease.enterprise_id)
            .where(Lease.id.in_(ids["lease"])))))
    if "reservation" in ids:
        put("reservation", ((i, f"{b} · {u} · {p}") for i, b, u, p in session.execute(
            select(Reservation.id, Building.code, Unit.code, Reservation.prospect).join(Unit, Unit.id == Reservation.unit_id)
            .join(Building, Building.id == Unit.building_id).where(Reservation.id.in_(ids["reservation"])))))
    if "enterprise" in ids:
        put("enterprise", session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids["enterprise"]))))
    if "app_user" in ids:
        put("app_user", session.execute(select(User.id, User.username).where(User.id.in_(ids["app_user"]))))
    return out


def _people(session: Session, records: list[AuditRecord]) -> dict[str, str]:
    logins = {r.actor for r in records}
    return {u: (d or u) for u, d in session.execute(select(User.username, User.display_name)
                                                    .where(User.username.in_(logins)))} if logins else {}


def entries(session: Session, records: list[AuditRecord]) -> list[Entry]:
    """The records as people read them (see the module's description)."""
    names, people = _names(session, records), _people(session, records)
    out = []
    for r in records:
        fallback = (r.after or r.before or {}).get("code") or (r.after or r.before or {}).get("name") or f"#{r.entity_id}"
        out.append(Entry(local_time(r.at), people.get(r.actor, r.actor), ACTIONS.get(r.action, r.action), KINDS.get(r.entity, r.entity),
                         r.entity, r.entity_id, names.get((r.entity, str(r.entity_id)), str(fallback)), _changes(r), r.note))
    return out


def record_entries(session: Session, entity: str, ident) -> tuple[str, list[Entry]]:
    """One record's name and history, oldest first: its creation, each change, its end."""
    found = entries(session, record_history(session, entity, ident))
    name = found[-1].record if found else f"{KINDS.get(entity, entity)} #{ident}"
    return name, found


@dataclass(frozen=True)
class ActivityFilter:  # 操作记录的筛选
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    person: str | None = None  # a login
    building_id: int | None = None
    kind: str | None = None  # an entity name, e.g. "lease"


def _in_park(park_id: int, building_id: int | None) -> dict:
    """For each kind of record that belongs to a park, the SELECT of the ids (as text) of the park's
    records of that kind (of one building's, when given). Records deleted since are left to their
    own history: the park's log is read from the records as they stand."""
    in_buildings = select(Building.id).where(Building.park_id == park_id)
    if building_id is not None:
        in_buildings = in_buildings.where(Building.id == building_id)
    units = select(Unit.id).where(Unit.building_id.in_(in_buildings))
    leases = select(Lease.id).where(Lease.unit_id.in_(units))
    out = {
        "building": in_buildings, "unit": units, "lease": leases,
        "floor": select(Floor.id).where(Floor.building_id.in_(in_buildings)),
        "reservation": select(Reservation.id).where(Reservation.unit_id.in_(units)),
        "rent_relief": select(RentRelief.id).where(RentRelief.lease_id.in_(leases)),
        "enterprise": select(Lease.enterprise_id).where(Lease.id.in_(leases)),
    }
    if building_id is None:
        plots = select(Plot.id).where(Plot.park_id == park_id)
        out.update({"park": select(Park.id).where(Park.id == park_id), "plot": plots,
                    "plot_obligation": select(PlotObligation.id).where(PlotObligation.plot_id.in_(plots))})
    return {kind: select(cast(q.subquery().c[0], String)) for kind, q in out.items()}


LIMIT = 1000
# The log's filters, read like every other parameter (registry.core.params).
PARK_KINDS = ("park", "plot", "plot_obligation", "building", "floor", "unit", "lease", "reservation", "rent_relief",
              "enterprise")
ACTIVITY_PARAMS = (Param("since", "date", "from this day", "起始日期"), Param("until", "date", "to this day (inclusive)", "截止日期"),
                   Param("person", "text", "who (login)", "操作人"),
                   Param("building", "integer", "records of this building only (id)", "楼栋", minimum=1, maximum=MAX_ID),
                   Param("kind", "choice", "records of this kind", "类别", choices=PARK_KINDS))


def parse_filter(params) -> ActivityFilter:
    """The filter of a park's log from the page's query (every bad value named at once)."""
    out = parse_all(ACTIVITY_PARAMS, params, prefix="query.")
    return ActivityFilter(out.get("since"), out.get("until"), out.get("person"), out.get("building"), out.get("kind"))


def park_activity(session: Session, park_id: int, f: ActivityFilter, *, limit: int = LIMIT) -> tuple[list[Entry], bool]:
    """The park's 操作记录, newest first, filtered; and whether there were more than ``limit``."""
    kinds = _in_park(park_id, f.building_id)
    if f.kind:
        kinds = {k: q for k, q in kinds.items() if k == f.kind}
    conds = [or_(*(and_(AuditRecord.entity == k, AuditRecord.entity_id.in_(q)) for k, q in kinds.items()))] if kinds \
        else [AuditRecord.id.is_(None)]
    # The bounds in UTC: SpatiaLite compares the stored UTC wall time, PostgreSQL the moment.
    if f.since:
        conds.append(AuditRecord.at >= _day_starts(f.since))
    if f.until:
        conds.append(AuditRecord.at < _day_starts(f.until + ONE_DAY))
    if f.person:
        conds.append(AuditRecord.actor == f.person)
    rows = list(session.scalars(select(AuditRecord).where(*conds)
                                .order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit + 1)))
    return entries(session, rows[:limit]), len(rows) > limit


def people_of(session: Session, park_id: int) -> list[tuple[str, str]]:
    """Who may appear in a park's log, as (login, name): everyone with an account."""
    return [(u, d or u) for u, d in session.execute(select(User.username, User.display_name).order_by(User.username))]


def activity_table(park_name: str, found: list[Entry]) -> Table:
    """The log as a spreadsheet: one row per changed field."""
    cols = [Column("at", "时间", "yyyy-mm-dd hh:mm:ss", 20), Column("person", "操作人", width=12),
            Column("action", "操作", width=8), Column("kind", "类别", width=10), Column("record", "对象", width=30),
            Column("field", "字段", width=16), Column("before", "修改前", width=24), Column("after", "修改后", width=24)]
    rows = []
    for e in found:
        for c in e.changes or [Change("", "", "")]:
            rows.append({"at": e.at, "person": e.person, "action": e.action, "kind": e.kind, "record": e.record,
                         "field": c.label, "before": c.before, "after": c.after})
    return Table(f"{park_name} 操作记录", cols, rows)
