"""Lease actions of park management: sign, renew, terminate early, reserve, rent relief, verify.

Every function checks, on the server, that the user may write to the park concerned, refuses stale
edits (``seen_version``), validates its input with field-named messages, and leaves the commit to the
caller, so that a request is all or nothing. History is never deleted: terminating moves the end date,
renewing adds a lease after the old one. Forms, the Excel bulk update (``workbook``) and any other
caller go through these functions: the same rules (``*_problem``, and the period and overlap rules of
``registry.core.integrity``), the same messages.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import validation as v
from ..core.authz import require_write_park
from ..core.conflicts import check_version, move_version_on
from ..core.enums import EndReason, LeaseKind, ReservationOutcome
from ..core.integrity import ONE_DAY, overlap_problem, overlapping, period, period_problem
from ..core.models import get_by_id, Building, Enterprise, Lease, RentRelief, Reservation, Unit, User


def _get(session: Session, model, ident, field: str):
    obj = get_by_id(session, model, ident)
    if obj is None:
        raise v.ValidationError(v.Problem(field, f"no {model.__tablename__} #{ident}", "an existing record"))
    return obj


def _park_of_unit(unit: Unit) -> int:
    return unit.building.park_id


def new_enterprise_problem(code: str, name: str | None) -> v.Problem | None:
    """Why an enterprise not yet registered cannot be created from what was given, or None."""
    if not name or not str(name).strip():
        return v.Problem("Enterprise.name", f"新企业 {code} 需填写企业名称", "登记名称，如 某某科技有限公司")
    return None


def find_or_create_enterprise(session: Session, uscc: str, name: str | None = None,
                              industry_code: str | None = None, above_scale: bool | None = None,
                              contact_name: str | None = None, contact_phone: str | None = None) -> Enterprise:
    """The enterprise with this 统一社会信用代码, created if new (then its name is required). A contact
    given is recorded on it (the latest one the park was told of)."""
    code = v.check_uscc(uscc, "Lease.enterprise_uscc")
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    if ent is None:
        problem = new_enterprise_problem(code, name)
        if problem:
            raise v.ValidationError(problem)
        ent = Enterprise(uscc=code, name=name.strip(), industry_code=industry_code or None,
                         above_scale=bool(above_scale))
        session.add(ent)
    # Over-long contacts are refused with every other over-long text when the session flushes
    # (registry.core.bounds).
    if (contact_name or "").strip():
        ent.contact_name = contact_name.strip()
    if (contact_phone or "").strip():
        ent.contact_phone = contact_phone.strip()
    return ent


def renewal_problem(lease: Lease, new_end: dt.date) -> v.Problem | None:
    """Why ``lease`` cannot be renewed to end on ``new_end`` (exclusive), or None: a renewal runs on
    from the old end to a later one."""
    if new_end <= lease.end_date:
        return v.Problem("Lease.end_date", f"续租到期日 {new_end - ONE_DAY} 不晚于原到期日 {lease.end_date - ONE_DAY}",
                         "晚于原到期日的日期")
    return None


def renewal_contract_problem(lease: Lease, contract_no: str | None, same_contract: bool) -> v.Problem | None:
    """Why a renewal of ``lease`` cannot be signed under ``contract_no``, or None: a renewal is a new
    contract, so it names its number, or says explicitly that the old number goes on (a lease that
    never had a number needs neither)."""
    if (contract_no or "").strip() or same_contract or not lease.contract_no:
        return None
    return v.Problem("Lease.contract_no", f"续租未填写合同编号（原合同编号 {lease.contract_no}）",
                     "新合同的编号，或选择沿用原合同编号")


def termination_problem(lease: Lease, free_from: dt.date) -> v.Problem | None:
    """Why ``lease`` cannot end early with the unit free from ``free_from``, or None: the new last
    day falls inside the lease, before its agreed end."""
    if not lease.start_date < free_from < lease.end_date:
        last = free_from - ONE_DAY
        return v.Problem("Lease.end_date", f"退租日 {last} 不在租约期内（{period(lease.start_date, lease.end_date)}）",
                         f"{lease.start_date} 至 {lease.end_date - 2 * ONE_DAY} 之间的日期")
    return None


def sign_lease(session: Session, user: User, unit_ids: list[int], *, uscc: str | None = None, name: str | None = None,
               start: dt.date, end: dt.date, rent: float | None, rent_free_months: int = 0,
               contract_no: str | None = None, kind: LeaseKind = LeaseKind.LEASE,
               industry_code: str | None = None, above_scale: bool | None = None,
               enterprise: Enterprise | None = None, reservation_id: int | None = None, today: dt.date | None = None,
               contact_name: str | None = None, contact_phone: str | None = None, flush: bool = True) -> list[Lease]:
    """New leases [start, end) of one enterprise (``enterprise``, or found or created by ``uscc``) on
    one or several units. A unit held for a prospect in that period is refused, unless this signing
    is that reservation's (``reservation_id``): it is then closed as converted from ``today``.
    ``flush`` False leaves the overlap check and the audit to the caller's next flush (a bulk update
    flushes once)."""
    problems: list[v.Problem] = []  # every refusal at once, so one corrected form will do
    if not unit_ids:
        problems.append(v.Problem("Lease.unit_id", "未选择单元", "一个或多个单元"))
    units = [_get(session, Unit, uid, "Lease.unit_id") for uid in unit_ids]
    for u in units:
        require_write_park(user, _park_of_unit(u))
        if not u.leasable:
            problems.append(v.Problem("Lease.unit_id", f"单元 {u.code} 已标为不可租", "可出租的单元"))
    if problem := period_problem(start, end):
        problems.append(problem)
    else:
        for u in units:
            held = overlapping([r for r in u.reservations if r.outcome is None and r.id != reservation_id], start, end)
            if held is not None:
                problems.append(v.Problem("Lease.unit_id", f"单元 {u.code} 在 {period(held.start_date, held.end_date)}"
                                          f" 预留给{held.prospect}", "先取消该预留，或从预留转为签约"))
    ent = enterprise
    if ent is None:
        try:
            ent = find_or_create_enterprise(session, uscc, name, industry_code, above_scale, contact_name, contact_phone)
        except v.ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise v.ValidationError(problems)
    leases = [Lease(unit=u, enterprise=ent, start_date=start, end_date=end, rent_yuan_m2_month=rent,
                    rent_free_months=rent_free_months, contract_no=contract_no or None, kind=kind) for u in units]
    session.add_all(leases)
    if reservation_id is not None:
        r = _get(session, Reservation, reservation_id, "Reservation.id")
        if r.unit_id not in {u.id for u in units}:
            raise v.ValidationError(v.Problem("Reservation.id", "该预留不属于所选单元", "所签单元的预留"))
        if r.outcome is None and r.end_date > (today or start):  # a lapsed one holds nothing to close
            close_reservation(session, user, r.id, ReservationOutcome.CONVERTED, today or start, flush=False)
    if flush:
        session.flush()  # overlap check and audit, inside the caller's transaction
    return leases


def _lease_to_change(session: Session, user: User, lease_id: int, seen_version, rule, day: dt.date) -> Lease:
    """The lease a renewal or early end changes: the user may write to its park, it is still at the
    version they saw, and ``rule`` (``renewal_problem``, ``termination_problem``) allows ``day``."""
    lease = _get(session, Lease, lease_id, "Lease.id")
    require_write_park(user, _park_of_unit(lease.unit))
    check_version(lease, seen_version)
    problem = rule(lease, day)
    if problem:
        raise v.ValidationError(problem)
    return lease


def renew_lease(session: Session, user: User, lease_id: int, *, new_end: dt.date, rent: float | None = None,
                contract_no: str | None = None, same_contract: bool = False, seen_version=None,
                flush: bool = True) -> Lease:
    """A renewal: a new lease of the same unit and tenant from the old end to ``new_end``, under a new
    contract number or, said explicitly (``same_contract``), the old one."""
    old = _lease_to_change(session, user, lease_id, seen_version, renewal_problem, new_end)
    problem = renewal_contract_problem(old, contract_no, same_contract)
    if problem:
        raise v.ValidationError(problem)
    # The renewed lease's version moves on: an early end or another renewal made on what the user
    # saw before this one is then refused as a conflict, not applied beside it.
    move_version_on(session, old, seen_version)
    new = Lease(unit=old.unit, enterprise=old.enterprise, start_date=old.end_date, end_date=new_end,
                rent_yuan_m2_month=old.rent_yuan_m2_month if rent is None else rent, rent_free_months=0,
                contract_no=(contract_no or "").strip() or (old.contract_no if same_contract else None), kind=old.kind)
    session.add(new)
    if flush:
        session.flush()
    return new


@dataclass(frozen=True)
class Termination:  # 提前终止: what an early end will do, shown to be confirmed before it is done
    lease: Lease
    free_from: dt.date  # the unit is free from this day
    reason: EndReason | None
    note: str | None

    @property
    def last_day(self) -> dt.date:
        """The move-out day: the lease's new last day."""
        return self.free_from - ONE_DAY

    @property
    def days_cut(self) -> int:
        """How many days earlier than agreed the lease ends."""
        return (self.lease.end_date - self.free_from).days


def termination(session: Session, user: User, lease_id: int, *, free_from: dt.date, reason: EndReason | None = None,
                note: str | None = None, seen_version=None) -> Termination:
    """The early end of a lease, checked but not done: the user may write to the park, the lease is
    at the version they saw, the move-out day falls inside it, and a reason of 其他 is explained."""
    lease = _lease_to_change(session, user, lease_id, seen_version, termination_problem, free_from)
    note = (note or "").strip() or None
    if reason == EndReason.OTHER and note is None:
        raise v.ValidationError(v.Problem("Lease.end_note", "选择“其他”时须说明原因", "提前终止的原因"))
    return Termination(lease, free_from, reason, note)


def terminate_lease(session: Session, user: User, lease_id: int, *, free_from: dt.date, reason: EndReason | None = None,
                    note: str | None = None, seen_version=None, flush: bool = True) -> Lease:
    """Ends a lease early (``termination``): the unit is free from ``free_from``; the reason is kept
    with the lease. Nothing is deleted."""
    t = termination(session, user, lease_id, free_from=free_from, reason=reason, note=note, seen_version=seen_version)
    lease = t.lease
    lease.end_date, lease.end_reason, lease.end_note = free_from, t.reason, t.note
    if flush:
        session.flush()
    return lease


def reserve_unit(session: Session, user: User, unit_id: int, *, prospect: str, until: dt.date,
                 start: dt.date, note: str | None = None) -> Reservation:
    """Holds a unit for a named prospect from ``start`` until the day before ``until``."""
    unit = _get(session, Unit, unit_id, "Reservation.unit_id")
    require_write_park(user, _park_of_unit(unit))
    problem = period_problem(start, until, "Reservation.end_date", first="预留开始日", last="预留截止日")
    if problem:
        raise v.ValidationError(problem)
    clash = overlapping(unit.leases, start, until)
    if clash is not None:
        raise v.ValidationError(overlap_problem(unit.code, start, until, clash, "Reservation.start_date"))
    held = overlapping(unit.reservations, start, until)
    if held is not None:
        raise v.ValidationError(v.Problem("Reservation.start_date", f"单元 {unit.code} 在 {period(start, until)} 期间已预留给"
                                          f"{held.prospect}（{period(held.start_date, held.end_date)}）",
                                          "未预留的期间（先取消原预留）"))
    r = Reservation(unit=unit, prospect=prospect, start_date=start, end_date=until, note=note or None)
    session.add(r)
    session.flush()
    return r


def conversion(session: Session, reservation_id) -> dict:
    """What the signing form starts from when a reservation is turned into a lease: its unit, the
    prospect's name, its first day (or today's form default), and the reservation to close."""
    r = _get(session, Reservation, reservation_id, "Reservation.id")
    return {"unit_id": str(r.unit_id), "name": r.prospect, "start_date": r.start_date.isoformat(),
            "reservation_id": str(r.id)}


def close_reservation(session: Session, user: User, reservation_id: int, outcome: ReservationOutcome,
                      today: dt.date, *, seen_version=None, flush: bool = True) -> Reservation:
    """Ends a reservation that is still open, from ``today``: cancelled, or converted (the prospect
    signed). Its record stays, with its outcome; it holds the unit no longer (one that had not begun
    never held it)."""
    r = _get(session, Reservation, reservation_id, "Reservation.id")
    require_write_park(user, _park_of_unit(r.unit))
    check_version(r, seen_version)
    if r.outcome is not None:
        raise v.ValidationError(v.Problem("Reservation.outcome", f"该预留{r.outcome.label}", "仍有效的预留"))
    if r.end_date <= today:
        raise v.ValidationError(v.Problem("Reservation.end_date", f"该预留已于 {r.end_date - ONE_DAY} 到期",
                                          "仍有效的预留"))
    r.end_date, r.outcome = max(today, r.start_date), outcome
    if flush:
        session.flush()
    return r


def record_relief(session: Session, user: User, lease_id: int, *, reason: str, amount_yuan: float,
                  start: dt.date, end: dt.date) -> RentRelief:
    """Rent relief (e.g. 疫情减免) of an amount over a period of the lease."""
    lease = _get(session, Lease, lease_id, "RentRelief.lease_id")
    require_write_park(user, _park_of_unit(lease.unit))
    amount = v.check_positive(amount_yuan, "RentRelief.amount_yuan", "元", allow_zero=True, allow_none=False)
    if not reason or not reason.strip():
        raise v.ValidationError(v.Problem("RentRelief.reason", "未填写", "减免事由，如 疫情减免"))
    problem = period_problem(start, end, "RentRelief.end_date", first="减免开始日", last="减免结束日")
    if problem:
        raise v.ValidationError(problem)
    if start < lease.start_date or end > lease.end_date:
        raise v.ValidationError(v.Problem("RentRelief.start_date", f"减免期 {period(start, end)} 不在租约期内"
                                          f"（{period(lease.start_date, lease.end_date)}）", "租约期内的期间"))
    relief = RentRelief(lease=lease, reason=reason.strip(), amount_yuan=amount, start_date=start, end_date=end)
    session.add(relief)
    session.flush()
    return relief


def verify_building(session: Session, user: User, building_id: int, day: dt.date) -> Building:
    """Marks the building's data as checked on site on ``day`` (最近核实)."""
    b = _get(session, Building, building_id, "Building.id")
    require_write_park(user, b.park_id)
    b.last_verified = day
    session.flush()
    return b
