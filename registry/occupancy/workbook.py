"""Excel bulk update of a park's leases (一房一行), the way most park managers actually work.

1. ``template`` writes an .xlsx with one row per unit, prefilled with the current (or next) lease,
   an 操作 dropdown and a sheet of instructions.
2. ``plan`` reads a filled workbook and returns every change it would make (new, renewed, ended
   leases, new enterprises) and every error with sheet, row, column and reason. It writes nothing.
3. ``apply`` writes a plan without errors in the caller's transaction: all of it or nothing.

Re-uploading a file that was already applied finds nothing to change: a new lease that already
exists, a renewal already made and a termination already recorded are recognised as "unchanged".
"""
from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.sources import parse_date
from ..core import validation as v
from ..core import limits
from ..core.params import FIRST_DAY, LAST_DAY
from ..core.tabular import append, save
from ..core.authz import require_write_park
from ..core.integrity import ONE_DAY, end_after, overlap_problem, overlapping, period_problem
from ..core.models import Building, Enterprise, Lease, Park, Unit, User
from . import leasing
from .status import unit_states

SHEET = "房源租约"
ACTIONS = {"保持": "keep", "新签": "new", "续租": "renew", "退租": "end"}
# (key, header, width, editable)
COLUMNS = [
    ("building", "楼栋编号", 10, False), ("unit", "单元编号", 10, False), ("floor", "楼层", 6, False),
    ("area", "可租面积(㎡)", 12, True), ("status", "当前状态", 12, False), ("action", "操作", 8, True),
    ("uscc", "统一社会信用代码", 22, True), ("name", "企业名称", 30, True), ("start", "起租日", 12, True),
    ("last_day", "到期日", 12, True), ("rent", "租金(元/㎡·月)", 12, True), ("rent_free", "免租期(月)", 10, True),
    ("contract", "合同编号", 16, True), ("end_last_day", "退租日", 12, True),
]

INSTRUCTIONS = [
    "填写说明（每个单元一行，请勿增删“楼栋编号”“单元编号”两列的内容）",
    "操作：保持＝不改动；新签＝签订新租约；续租＝在原租约到期后续签；退租＝提前终止当前租约。",
    "新签：填写统一社会信用代码、企业名称（新企业必填）、起租日、到期日、租金、免租期、合同编号。单元在该期间须空闲。",
    "续租：保留原起租日和统一社会信用代码以指明原租约，把“到期日”改为新的到期日；可改租金。“合同编号”填写新合同的编号；保留原编号不改，表示沿用原合同编号。",
    "退租：保留原起租日和统一社会信用代码，在“退租日”填写实际最后一日；次日起单元空置。",
    "日期格式：2025-01-31（也接受 2025/1/31、2025年1月31日）。到期日、退租日均为最后一日（含当日）。",
    "可租面积：如需更正单元面积，直接修改该列（须大于 0）；其他列不变时“操作”保持即可。",
    "全角数字与字母会自动转换为半角；表尾空行忽略。",
    "上传后先预览全部变更与错误；确认后一次性写入，任何一行出错则全部不写入。重复上传同一文件不会产生重复数据。",
]


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.sheet} 第{self.row}行 [{self.column}]：{self.reason}"


@dataclass
class Change:
    kind: str  # new / renew / end / area
    row: int
    unit: Unit
    enterprise_uscc: str
    enterprise_name: str
    start: dt.date | None = None
    end: dt.date | None = None  # exclusive
    rent: float | None = None
    rent_free_months: int = 0
    contract_no: str | None = None
    lease: Lease | None = None  # the existing lease renewed or ended

    def describe(self) -> str:
        """The change in a line of the preview, naming the unit with its building."""
        where = f"{self.unit.building.code} · {self.unit.code}"
        if self.kind == "area":
            return f"面积 {where}：{self.unit.leasable_area_m2:,.2f} ㎡ → {self.rent:,.2f} ㎡"
        last = self.end - ONE_DAY if self.end else None
        if self.kind == "new":
            return f"新签 {where}：{self.enterprise_name} {self.start} 至 {last}"
        if self.kind == "renew":
            return f"续租 {where}：{self.enterprise_name} 续至 {last}（原租约 #{self.lease.id}）"
        return f"退租 {where}：{self.enterprise_name} 最后一日 {last}（租约 #{self.lease.id}）"


@dataclass
class Plan:
    park: Park
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    new_enterprises: dict[str, str] = field(default_factory=dict)  # uscc → name
    unchanged: int = 0
    rows: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


@dataclass(frozen=True)
class _Planned:
    """A lease as it will be once the file has ended it early."""

    lease: Lease
    end_date: dt.date

    def __getattr__(self, name):
        return getattr(self.lease, name)


@dataclass(frozen=True)
class _Row:
    """A new lease from row ``row`` of the file, before it is written."""

    start_date: dt.date
    end_date: dt.date
    row: int


# --- template ---------------------------------------------------------------------------------

def template(session: Session, park_id: int, day: dt.date) -> bytes:
    """The park's workbook: one row per unit with its current or next lease, ready to edit."""
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    units = session.execute(select(Unit, Building).join(Building, Building.id == Unit.building_id)
                            .where(Building.park_id == park_id).order_by(Building.code, Unit.floor_level, Unit.code)).all()
    states = unit_states(session, day, park_id=park_id)
    upcoming = {}
    for lease in session.scalars(select(Lease).join(Unit, Unit.id == Lease.unit_id)
                                 .join(Building, Building.id == Unit.building_id)
                                 .where(Building.park_id == park_id, Lease.start_date > day)
                                 .order_by(Lease.start_date.desc())):
        upcoming[lease.unit_id] = lease  # the earliest wins (descending order)
    leases = {l.id: l for l in session.scalars(select(Lease).where(
        Lease.id.in_([s.lease_id for s in states.values() if s.lease_id])))}

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    append(ws, [h for _, h, _, _ in COLUMNS])
    for i, (key, _h, width, editable) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        head = ws.cell(1, i)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="DDEBF7" if editable else "EDEDED")
    for unit, b in units:
        s = states[unit.id]
        lease = leases.get(s.lease_id) or upcoming.get(unit.id)
        ent = lease.enterprise if lease else None
        append(ws, [b.code, unit.code, unit.floor_level, unit.leasable_area_m2, s.status.label,
                    "保持", ent.uscc if ent else None, ent.name if ent else None,
                    lease.start_date if lease else None, (lease.end_date - ONE_DAY) if lease else None,
                    lease.rent_yuan_m2_month if lease else None, lease.rent_free_months if lease else None,
                    lease.contract_no if lease else None, None])
    last = ws.max_row
    for col in ("I", "J", "N"):
        for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=ord(col) - 64, max_col=ord(col) - 64):
            cell.number_format = "yyyy-mm-dd"
    dv = DataValidation(type="list", formula1='"' + ",".join(ACTIONS) + '"', allow_blank=True,
                        error="请选择：保持、新签、续租、退租", errorTitle="操作")
    ws.add_data_validation(dv)
    dv.add(f"F2:F{max(last, 2)}")
    ws.freeze_panes = "C2"
    for row in ws.iter_rows(min_row=2, max_row=last):
        for cell, (_, _, _, editable) in zip(row, COLUMNS):
            cell.protection = Protection(locked=not editable)
    info = wb.create_sheet("填写说明")
    append(info, [f"{park.name} 房源租约批量更新模板（导出日 {day}）"])
    for line in INSTRUCTIONS:
        append(info, [line])
    info.column_dimensions["A"].width = 110
    return save(wb)


# --- reading ----------------------------------------------------------------------------------

def _norm(value):
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value).strip()
        return value or None
    return value


# Headers as read back: NFKC turns ㎡ into m2, so compare normalised forms.
HEADERS = {_norm(h): k for k, h, _, _ in COLUMNS}

def _date(value, column: str, errors: list, row: int):
    value = _norm(value)
    try:
        day = parse_date(value)
    except ValueError:
        errors.append(RowError(SHEET, row, column, f"{value!r} 不是有效日期，应为 2025-01-31"))
        return None
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        errors.append(RowError(SHEET, row, column, f"{day} 超出范围，应为 {FIRST_DAY:%Y}–{LAST_DAY:%Y} 年间的日期"))
        return None
    return day


def _number(value, column: str, errors: list, row: int, *, integer: bool = False):
    value = _norm(value)
    if value is None:
        return None
    try:
        n = float(str(value).replace(",", "")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        errors.append(RowError(SHEET, row, column, f"{value!r} 不是数字"))
        return None
    if n < 0 or (integer and n != int(n)):
        errors.append(RowError(SHEET, row, column, f"{value!r} 应为{'非负整数' if integer else '非负数'}"))
        return None
    return int(n) if integer else n


def read_rows(data: bytes) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """The filled rows of the workbook (row number, values by column key) and format errors."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - anything that is not a readable xlsx
        return [], [RowError("-", 0, "-", f"无法读取 Excel 文件（{type(exc).__name__}）：请上传 .xlsx 格式的模板")]
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [(_norm(h) or "") for h in next(rows, ())]
    keys = [HEADERS.get(h) for h in header]
    missing = [h for k, h, _, _ in COLUMNS if k not in keys and k in ("building", "unit", "action")]
    if missing:
        return [], [RowError(ws.title, 1, "、".join(missing), "缺少必需的表头，请使用下载的模板")]
    out = []
    most = limits.SHEET_ROWS()
    for n, values in enumerate(rows, start=2):
        if n - 1 > most:  # counted as read: a sheet's declared size may lie
            wb.close()
            return [], [RowError(ws.title, n, "-", f"工作表超过 {most:,} 行（REGISTRY_MAX_SHEET_ROWS），请分批上传")]
        record = {k: val for k, val in zip(keys, values) if k}
        if all(_norm(x) in (None, "") for x in record.values()):
            continue  # blank rows (trailing ones especially) are ignored
        out.append((n, record))
    wb.close()
    return out, []


# --- planning ---------------------------------------------------------------------------------

def plan(session: Session, park_id: int, data: bytes) -> Plan:
    """Everything the workbook would change in the park, and everything wrong with it."""
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    p = Plan(park)
    rows, p.errors = read_rows(data)
    p.rows = len(rows)
    if p.errors:
        return p
    units = {(b.code, u.code): u for u, b in session.execute(
        select(Unit, Building).join(Building, Building.id == Unit.building_id).where(Building.park_id == park_id))}
    leases_by_unit: dict[int, list[Lease]] = {}
    for lease in session.scalars(select(Lease).where(Lease.unit_id.in_([u.id for u in units.values()]))):
        leases_by_unit.setdefault(lease.unit_id, []).append(lease)
    usccs = set()
    for _, r in rows:
        if _norm(r.get("uscc")):
            usccs.add(v.normalize_code(r["uscc"]))
    known = {e.uscc: e for e in session.scalars(select(Enterprise).where(Enterprise.uscc.in_(usccs)))}
    planned: dict[int, list[_Row]] = {}  # unit id → the new leases of this file, by row
    ended: dict[int, dt.date] = {}  # lease id → the end this file gives it

    def as_planned(leases: list[Lease]) -> list:
        """The unit's leases with the ends this file gives them (a unit ended and re-let in one file
        is free in between)."""
        return [lease if lease.id not in ended else _Planned(lease, ended[lease.id]) for lease in leases]

    # Terminations first, so that a unit ended and re-let in the same file is seen as free.
    rows.sort(key=lambda nr: 0 if ACTIONS.get(str(_norm(nr[1].get("action")) or "")) == "end" else 1)
    for n, r in rows:
        errs: list[RowError] = []
        b_code, u_code = str(_norm(r.get("building")) or ""), str(_norm(r.get("unit")) or "")
        unit = units.get((b_code, u_code))
        if unit is None:
            p.errors.append(RowError(SHEET, n, "单元编号", f"本园区没有楼栋 {b_code!r} 的单元 {u_code!r}"))
            continue
        action = ACTIONS.get(str(_norm(r.get("action")) or "保持"))
        if action is None:
            p.errors.append(RowError(SHEET, n, "操作", f"{r.get('action')!r} 不是可选操作：保持、新签、续租、退租"))
            continue
        # 可租面积: a corrected area updates the unit (whatever the row's 操作).
        area = _number(r.get("area"), "可租面积(㎡)", p.errors, n)
        if _norm(r.get("area")) is not None and area is not None:
            if area <= 0:
                p.errors.append(RowError(SHEET, n, "可租面积(㎡)", f"{r.get('area')!r} 应为大于 0 的面积"))
                continue
            if abs(area - unit.leasable_area_m2) > 0.005:
                p.changes.append(Change("area", n, unit, "", "", rent=area))
        uscc_raw = _norm(r.get("uscc"))
        name = _norm(r.get("name"))
        start = _date(r.get("start"), "起租日", errs, n)
        last_day = _date(r.get("last_day"), "到期日", errs, n)
        rent = _number(r.get("rent"), "租金(元/㎡·月)", errs, n)
        free = _number(r.get("rent_free"), "免租期(月)", errs, n, integer=True) or 0
        contract = _norm(r.get("contract"))
        end_last = _date(r.get("end_last_day"), "退租日", errs, n)
        if action == "keep":
            p.unchanged += 1
            continue
        code = None
        if uscc_raw is None:
            errs.append(RowError(SHEET, n, "统一社会信用代码", "为空"))
        else:
            problem = v.uscc_problem(str(uscc_raw))
            if problem:
                errs.append(RowError(SHEET, n, "统一社会信用代码", problem))
            else:
                code = v.normalize_code(uscc_raw)
        for label, value in (("起租日", start), ("到期日", last_day)):
            if value is None and not any(e.column == label for e in errs):
                errs.append(RowError(SHEET, n, label, "为空"))
        if errs:
            p.errors.extend(errs)
            continue
        ent = known.get(code)
        ent_name = ent.name if ent else name
        if ent is None and action == "new":
            problem = leasing.new_enterprise_problem(code, name)
            if problem:
                p.errors.append(RowError(SHEET, n, "企业名称", problem.message))
                continue
            if code in p.new_enterprises and p.new_enterprises[code] != name:
                p.errors.append(RowError(SHEET, n, "企业名称", f"与本文件中 {code} 的另一名称 {p.new_enterprises[code]!r} 不一致"))
                continue
        elif name and name != ent.name:
            p.warnings.append(RowError(SHEET, n, "企业名称", f"登记名称为 {ent.name!r}，将沿用登记名称"))
        existing = leases_by_unit.get(unit.id, [])
        if action == "new":
            end = end_after(last_day)
            problem = period_problem(start, end)
            if problem:
                p.errors.append(RowError(SHEET, n, "到期日", problem.message))
                continue
            same = [l for l in existing if l.start_date == start and l.end_date == end and l.enterprise.uscc == code]
            if same:
                p.unchanged += 1
                continue
            clash = overlapping(as_planned(existing), start, end)
            if clash is not None:
                p.errors.append(RowError(SHEET, n, "起租日", overlap_problem(unit.code, start, end, clash).message))
                continue
            other = overlapping(planned.get(unit.id, []), start, end)
            if other is not None:
                p.errors.append(RowError(SHEET, n, "起租日", f"与本文件第{other.row}行同一单元的新签租约时间重叠"))
                continue
            planned.setdefault(unit.id, []).append(_Row(start, end, n))
            if ent is None:
                p.new_enterprises[code] = name
            p.changes.append(Change("new", n, unit, code, ent_name, start, end, rent, free, contract))
            continue
        # 续租 and 退租 name an existing lease by unit, tenant and start date.
        lease = next((l for l in existing if l.start_date == start and l.enterprise.uscc == code), None)
        if lease is None:
            p.errors.append(RowError(SHEET, n, "起租日", f"单元 {u_code} 没有 {code} 自 {start} 起的租约，无法{'续租' if action == 'renew' else '退租'}"))
            continue
        if action == "renew":
            new_end = end_after(last_day)
            done = next((l for l in existing if l.start_date == lease.end_date and l.end_date == new_end
                         and l.enterprise_id == lease.enterprise_id), None)
            if done is not None or lease.end_date == new_end:
                p.unchanged += 1
                continue
            problem = leasing.renewal_problem(lease, new_end)
            if problem:
                p.errors.append(RowError(SHEET, n, "到期日", problem.message))
                continue
            clash = overlapping(as_planned([x for x in existing if x is not lease]), lease.end_date, new_end)
            if clash is not None:
                p.errors.append(RowError(SHEET, n, "到期日", overlap_problem(unit.code, lease.end_date, new_end,
                                                                          clash).message))
                continue
            # The template shows the lease's contract number: left as it is, it goes on (said so).
            problem = leasing.renewal_contract_problem(lease, contract, contract == lease.contract_no)
            if problem:
                p.errors.append(RowError(SHEET, n, "合同编号", problem.message))
                continue
            p.changes.append(Change("renew", n, unit, code, lease.enterprise.name, lease.end_date, new_end,
                                    rent if rent is not None else lease.rent_yuan_m2_month, 0, contract, lease))
        else:
            if end_last is None:
                p.errors.append(RowError(SHEET, n, "退租日", "退租需填写退租日（最后一日）"))
                continue
            free_from = end_after(end_last)
            if lease.end_date == free_from:
                p.unchanged += 1
                continue
            problem = leasing.termination_problem(lease, free_from)
            if problem:
                p.errors.append(RowError(SHEET, n, "退租日", problem.message))
                continue
            ended[lease.id] = free_from
            p.changes.append(Change("end", n, unit, code, lease.enterprise.name, lease.start_date, free_from, lease=lease))
    p.changes.sort(key=lambda c: c.row)
    p.errors.sort(key=lambda e: e.row)
    return p


def apply(session: Session, user: User, p: Plan) -> int:
    """Writes every change of an error-free plan through the lease functions (``leasing``: the rules
    and messages of the forms); returns how many. One flush at the end checks every overlap with
    the new values and writes the audit records. The caller commits."""
    require_write_park(user, p.park.id)
    if p.errors:
        raise v.ValidationError([v.Problem(f"{e.sheet}!{e.row}.{e.column}", e.reason) for e in p.errors])
    enterprises = {e.uscc: e for e in session.scalars(
        select(Enterprise).where(Enterprise.uscc.in_({c.enterprise_uscc for c in p.changes})))}
    for code, name in p.new_enterprises.items():
        if code not in enterprises:
            enterprises[code] = Enterprise(uscc=code, name=name)
            session.add(enterprises[code])
    with session.no_autoflush:
        for c in p.changes:
            if c.kind == "new":
                leasing.sign_lease(session, user, [c.unit.id], start=c.start, end=c.end, rent=c.rent,
                                   rent_free_months=c.rent_free_months, contract_no=c.contract_no,
                                   enterprise=enterprises[c.enterprise_uscc], flush=False)
            elif c.kind == "area":
                c.unit.leasable_area_m2 = c.rent
            elif c.kind == "renew":
                leasing.renew_lease(session, user, c.lease.id, new_end=c.end, rent=c.rent, contract_no=c.contract_no,
                                    same_contract=c.contract_no == c.lease.contract_no, flush=False)
            else:
                leasing.terminate_lease(session, user, c.lease.id, free_from=c.end, flush=False)
    session.flush()  # overlap rules and audit records, all in the caller's transaction
    return len(p.changes)
