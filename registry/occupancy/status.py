"""Unit states on a date, and when space is available: the one rule every surface uses.

Nothing here is stored: states, availability and occupancy are derived from lease and reservation
intervals and from the buildings' status. A lease occupies its unit on day d when
start_date ≤ d < end_date (end_date is the first day after the contract's last day), so a lease
ending on 30 June (end_date 1 July) leaves the unit free on 1 July, and a new lease may start that
same day.

A unit's state on day d, in this order of precedence (``UnitStatus``, ``status_case``):
- 不可租 not leasable: ``Unit.leasable`` false (plant rooms and the like);
- 自用 self-use: a self-use occupancy covers d;
- 即将到期 expiring: a lease covers d, ends within ``EXPIRING_DAYS``, and no lease follows it;
- 在租 leased: a lease covers d;
- 已签约待入驻 signed: no lease covers d, but one is signed to start later;
- 已预留 reserved: a reservation for a named prospect covers d;
- 空置 vacant.

A building's space is *built* on d (stock and supply: the park's figures, the bureau summary, the
vacancy report) when the building is completed and its completion date, if known, is on or before
d; it is *ready* by d (what can be offered: the map and its API, the OGC vacancies, the brochure,
the land calculator's alternative) when it is built on d, or under construction with its scheduled
completion on or before d.

A unit is *available* by d when its building is ready by d and its state on d is vacant: leasable,
not held for a prospect, and free from d on, not merely on d (a unit signed for later is let). It
is available from the latest of today, its building's completion, and the end of its last lease.

Supply counts leasable units of built buildings, less units in self-use (not on the market).
出租率 is leased ÷ supply; 计租率 (billable) counts only leases past their rent-free months.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, extract, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..core.enums import BuildingStatus, LeaseKind, UnitStatus
from ..core.models import Building, Enterprise, Lease, Reservation, Unit

EXPIRING_DAYS = 90


# --- the rule, as SQL -------------------------------------------------------------------------

def lease_active_on(day: dt.date, lease=Lease):
    """SQL condition: the lease covers ``day``."""
    return and_(lease.start_date <= day, lease.end_date > day)


def building_completed_on(day: dt.date):
    """SQL condition: the building stood completed on ``day`` (its space counts as stock and supply)."""
    return and_(Building.status == BuildingStatus.COMPLETED,
                or_(Building.completion_date.is_(None), Building.completion_date <= day))


def building_ready_by(day: dt.date):
    """SQL condition: the building's space can be moved into by ``day``: built by then, or under
    construction and scheduled to be completed by then."""
    return or_(building_completed_on(day),
               and_(Building.status == BuildingStatus.UNDER_CONSTRUCTION, Building.completion_date <= day))


def building_status_on(day: dt.date):
    """SQL: the building's status as it stood on ``day`` (a building completed later was still
    under construction then)."""
    return case((and_(Building.status == BuildingStatus.COMPLETED, ~building_completed_on(day)),
                 BuildingStatus.UNDER_CONSTRUCTION.value), else_=Building.status)


def rent_free_over(day: dt.date):
    """SQL condition: the lease's rent-free months have passed by ``day`` (whole months since start)."""
    months = ((day.year - extract("year", Lease.start_date)) * 12 + (day.month - extract("month", Lease.start_date))
              - case((extract("day", Lease.start_date) > day.day, 1), else_=0))
    return months >= Lease.rent_free_months


def leased_later(day: dt.date, unit=Unit):
    """SQL condition: a lease of the unit starts after ``day`` (signed for later, or a renewal)."""
    later = aliased(Lease)
    return exists().where(later.unit_id == unit.id, later.start_date > day)


def held_on(day: dt.date, unit=Unit):
    """SQL condition: a reservation holds the unit on ``day``."""
    return unit.id.in_(select(Reservation.unit_id).where(Reservation.start_date <= day, Reservation.end_date > day))


def held_until(day: dt.date, unit=Unit):
    """SQL value: the day the unit's reservations still running after ``day`` end (None: none is)."""
    return (select(func.max(Reservation.end_date)).where(Reservation.unit_id == unit.id, Reservation.end_date > day)
            .correlate(unit).scalar_subquery())


def later_of(first, second):
    """SQL: the later of two dates, either of which may be None (then the other)."""
    return case((first.is_(None), second), (second.is_(None), first), (first > second, first), else_=second)


def last_lease_end(unit=Unit):
    """The lookup of the end of the unit's last lease (the latest starting): the day it is free for
    good. Leases on one unit never overlap, so it is one ordered probe of the B-tree on
    (unit_id, start_date, end_date), answered from the index alone."""
    return (select(Lease.end_date).where(Lease.unit_id == unit.id).order_by(Lease.start_date.desc()).limit(1)
            .correlate(unit))


def free_from(day: dt.date, last_end=None):
    """SQL condition: the unit is free from ``day`` on: no lease covers it then or starts later, that
    is, its last lease (``last_end``: a column from the ``last_lease_end`` lookup) ended by then."""
    if last_end is None:
        last_end = last_lease_end().scalar_subquery()
    return or_(last_end.is_(None), last_end <= day)


def available_unit(day: dt.date, last_end=None):
    """SQL condition: the unit is vacant on ``day`` for good: leasable, free from ``day`` on, not
    held for a prospect. With ``building_ready_by(day)``, what "available by ``day``" means (it is
    ``status_case(day)`` being vacant, written for a WHERE over units)."""
    return and_(Unit.leasable, free_from(day, last_end), ~held_on(day))


def status_case(day: dt.date, *, leasable, covering_end, covering_kind, later, held):
    """SQL: the unit's state on ``day`` (a ``UnitStatus`` value), from its leasable flag, the end and
    kind of the lease covering ``day`` (NULL if none), whether a lease starts after ``day``, and
    whether a reservation holds it on ``day``. The one statement of the precedence above."""
    soon = day + dt.timedelta(days=EXPIRING_DAYS)
    covered = covering_end.is_not(None)
    # ``later`` is asked once (a database plans each mention of a subquery on its own): a later
    # lease makes a covered unit leased (renewed, not expiring) and an uncovered one signed.
    return case(
        (~leasable, literal(UnitStatus.NOT_LEASABLE.value)),
        (and_(covered, covering_kind == LeaseKind.SELF_USE), literal(UnitStatus.SELF_USE.value)),
        (and_(covered, covering_end > soon), literal(UnitStatus.LEASED.value)),
        (later, case((covered, literal(UnitStatus.LEASED.value)), else_=literal(UnitStatus.SIGNED.value))),
        (covered, literal(UnitStatus.EXPIRING.value)),
        (held, literal(UnitStatus.RESERVED.value)),
        else_=literal(UnitStatus.VACANT.value))


ON_MARKET = (UnitStatus.VACANT, UnitStatus.RESERVED, UnitStatus.SIGNED, UnitStatus.LEASED, UnitStatus.EXPIRING)
LET = (UnitStatus.LEASED, UnitStatus.EXPIRING)
VACANT = (UnitStatus.VACANT, UnitStatus.RESERVED)  # what the vacancy figures count: free, if held
OFFERED = (UnitStatus.VACANT, UnitStatus.EXPIRING, UnitStatus.RESERVED)  # shown to investors


# --- the rule, in Python -----------------------------------------------------------------------

def completed_on(building_status: BuildingStatus, completion: dt.date | None, day: dt.date) -> bool:
    """The building stood completed on ``day`` (``building_completed_on``, for one building)."""
    return building_status == BuildingStatus.COMPLETED and (completion is None or completion <= day)


def ready_date(building_status: BuildingStatus, completion: dt.date | None, today: dt.date) -> dt.date | None:
    """The first day from ``today`` on that the building's space can be moved into (None: not
    known, a building only planned or under construction without a date)."""
    if building_status == BuildingStatus.COMPLETED:
        return max(today, completion) if completion else today
    if building_status == BuildingStatus.UNDER_CONSTRUCTION and completion is not None:
        return max(today, completion)
    return None


def available_from(today: dt.date, ready: dt.date | None, last_end: dt.date | None) -> dt.date | None:
    """The first day a unit (or the earliest of a building's units) can be had: the latest of today,
    its building's ready date and the end of its last lease; None if its building has none."""
    if ready is None:
        return None
    return max(today, ready, last_end or today)


@dataclass(frozen=True)
class UnitState:
    """What one unit is on a date. ``lease_*`` and ``tenant`` describe the lease covering the date,
    or, for a unit signed for later, the next lease; ``prospect`` the reservation holding it."""

    unit_id: int
    status: UnitStatus
    lease_id: int | None = None
    enterprise_id: int | None = None
    tenant: str | None = None
    rent_yuan_m2_month: float | None = None
    lease_start: dt.date | None = None
    lease_end: dt.date | None = None  # exclusive
    days_left: int | None = None  # until the covering lease ends
    prospect: str | None = None
    reserved_until: dt.date | None = None  # exclusive
    last_end: dt.date | None = None  # the end of the unit's last lease (exclusive), whenever that is

    @property
    def last_day(self) -> dt.date | None:
        """The lease's last day (what contracts print), one day before the exclusive end."""
        return None if self.lease_end is None else self.lease_end - dt.timedelta(days=1)

    @property
    def let(self) -> bool:
        return self.status in LET

    def public(self) -> UnitState:
        """The state as a reader who does not see the park's private data sees it: no tenant, lease
        terms, rent or prospect; still when it can be had (as the investors' map says)."""
        return dataclasses.replace(self, lease_id=None, enterprise_id=None, tenant=None, rent_yuan_m2_month=None,
                                   lease_start=None, lease_end=None, days_left=None, prospect=None)

    def available_from(self, today: dt.date, ready: dt.date | None) -> dt.date | None:
        """When the unit can be had by a new tenant, its building being ready on ``ready``: after its
        last lease and any reservation; None for space not on the market."""
        if self.status in (UnitStatus.NOT_LEASABLE, UnitStatus.SELF_USE):
            return None
        free = max((d for d in (self.last_end, self.reserved_until) if d is not None), default=None)
        return available_from(today, ready, free)


def unit_states(session: Session, day: dt.date, unit_ids: list[int] | None = None, *,
                building_id: int | None = None, park_id: int | None = None) -> dict[int, UnitState]:
    """The state of each selected unit on ``day`` (by ids, a building, or a park)."""
    reserved = (select(Reservation.unit_id, func.max(Reservation.prospect).label("prospect"),
                       func.max(Reservation.end_date).label("until"))
                .where(Reservation.start_date <= day, Reservation.end_date > day)
                .group_by(Reservation.unit_id).subquery("held"))
    later = leased_later(day)
    status = status_case(day, leasable=Unit.leasable, covering_end=Lease.end_date, covering_kind=Lease.kind,
                         later=later, held=reserved.c.unit_id.is_not(None))
    q = (select(Unit.id, status, Lease.id, Lease.enterprise_id, Enterprise.name, Lease.rent_yuan_m2_month,
                Lease.start_date, Lease.end_date, reserved.c.prospect, reserved.c.until,
                last_lease_end().scalar_subquery())
         .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
         .outerjoin(Enterprise, Enterprise.id == Lease.enterprise_id)
         .outerjoin(reserved, reserved.c.unit_id == Unit.id))
    if unit_ids is not None:
        q = q.where(Unit.id.in_(unit_ids))
    if building_id is not None:
        q = q.where(Unit.building_id == building_id)
    if park_id is not None:
        q = q.join(Building, Building.id == Unit.building_id).where(Building.park_id == park_id)
    states, signed = {}, []
    for uid, value, lid, eid, tenant, rent, start, end, prospect, until, last_end in session.execute(q):
        s = UnitStatus(value)
        if s in (UnitStatus.SELF_USE, UnitStatus.EXPIRING, UnitStatus.LEASED):
            states[uid] = UnitState(uid, s, lid, eid, tenant, rent, start, end, (end - day).days, last_end=last_end)
        elif s == UnitStatus.RESERVED:
            states[uid] = UnitState(uid, s, prospect=prospect, reserved_until=until, last_end=last_end)
        else:
            states[uid] = UnitState(uid, s, last_end=last_end)
            if s == UnitStatus.SIGNED:
                signed.append(uid)
    for lease, tenant in _next_leases(session, day, signed):
        states[lease.unit_id] = UnitState(lease.unit_id, UnitStatus.SIGNED, lease.id, lease.enterprise_id, tenant,
                                          lease.rent_yuan_m2_month, lease.start_date, lease.end_date,
                                          last_end=states[lease.unit_id].last_end)
    return states


def _next_leases(session: Session, day: dt.date, unit_ids: list[int]):
    """The first lease starting after ``day`` of each of ``unit_ids``, with its tenant's name."""
    for start in range(0, len(unit_ids), 10000):
        ids = unit_ids[start:start + 10000]
        first = (select(Lease.unit_id, func.min(Lease.start_date).label("start"))
                 .where(Lease.unit_id.in_(ids), Lease.start_date > day).group_by(Lease.unit_id).subquery())
        yield from session.execute(select(Lease, Enterprise.name).join(Enterprise, Enterprise.id == Lease.enterprise_id)
                                   .join(first, and_(first.c.unit_id == Lease.unit_id,
                                                     first.c.start == Lease.start_date))).all()


def unit_status(session: Session, unit_id: int, day: dt.date) -> UnitStatus:
    """The status of one unit on ``day``."""
    return unit_states(session, day, [unit_id])[unit_id].status


# --- occupancy figures -------------------------------------------------------------------------

@dataclass(frozen=True)
class Occupancy:
    """Leasable supply and its occupancy on one date, over units in built buildings."""

    day: dt.date
    units: int  # leasable units on the market (not self-use)
    leased_units: int
    leasable_m2: float
    leased_m2: float
    billable_m2: float  # leased and past the rent-free months
    self_use_m2: float
    signed_units: int = 0  # not let on the day, but signed to start later
    signed_m2: float = 0.0

    @property
    def vacant_units(self) -> int:
        return self.units - self.leased_units - self.signed_units

    @property
    def vacant_m2(self) -> float:
        return self.leasable_m2 - self.leased_m2 - self.signed_m2

    @property
    def rate_by_area(self) -> float | None:
        """出租率 (按面积): leased m² ÷ leasable m², or None when there is nothing to let."""
        return self.leased_m2 / self.leasable_m2 if self.leasable_m2 else None

    @property
    def rate_by_count(self) -> float | None:
        return self.leased_units / self.units if self.units else None

    @property
    def billable_rate(self) -> float | None:
        """计租率: billable m² ÷ leasable m²."""
        return self.billable_m2 / self.leasable_m2 if self.leasable_m2 else None

    @staticmethod
    def total(day: dt.date, parts) -> Occupancy:
        """The occupancy of several parks (or buildings) together."""
        parts = list(parts)
        return Occupancy(day, *(sum(getattr(p, f) for p in parts) for f in (
            "units", "leased_units", "leasable_m2", "leased_m2", "billable_m2", "self_use_m2", "signed_units",
            "signed_m2")))


def occupancy(session: Session, day: dt.date, *, park_id: int | None = None,
              building_id: int | None = None) -> Occupancy:
    """Occupancy on ``day`` of a park, a building, or everything."""
    where = ([Building.park_id == park_id] if park_id is not None else []) + (
        [Building.id == building_id] if building_id is not None else [])
    return Occupancy.total(day, _occupancy_by(session, day, where).values())


def occupancy_by_park(session: Session, day: dt.date) -> dict[int, Occupancy]:
    """Occupancy on ``day`` of every park with built buildings, in one pass over the units."""
    return _occupancy_by(session, day, [])


def _occupancy_by(session: Session, day: dt.date, where: list) -> dict[int, Occupancy]:
    """Occupancy per park over the supply (leasable units of buildings built on ``day``) that
    ``where`` selects. The units are counted by park and state, so each unit's state is worked out
    once (as a grouping key), however many totals are made of it."""
    state = unit_status_on(day)
    billable = and_(Lease.id.is_not(None), rent_free_over(day))
    rows = session.execute(
        select(Building.park_id, state, func.count(), func.sum(Unit.leasable_area_m2),
               func.sum(case((billable, Unit.leasable_area_m2), else_=0.0)))
        .select_from(Unit).join(Building, Building.id == Unit.building_id)
        .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
        .where(building_completed_on(day), Unit.leasable, *where).group_by(Building.park_id, state))
    parts: dict[int, dict] = {}
    for park_id, value, n, area, billed in rows:
        totals = parts.setdefault(park_id, dict.fromkeys(
            ("units", "leased_units", "leasable_m2", "leased_m2", "billable_m2", "self_use_m2", "signed_units",
             "signed_m2"), 0))
        status, area = UnitStatus(value), float(area or 0)
        if status in ON_MARKET:
            totals["units"] += n
            totals["leasable_m2"] += area
        if status in LET:
            totals["leased_units"] += n
            totals["leased_m2"] += area
            totals["billable_m2"] += float(billed or 0)
        if status == UnitStatus.SELF_USE:
            totals["self_use_m2"] += area
        if status == UnitStatus.SIGNED:
            totals["signed_units"] += n
            totals["signed_m2"] += area
    return {pid: Occupancy(day, **{k: (float(v) if k.endswith("_m2") else int(v)) for k, v in t.items()})
            for pid, t in parts.items()}


def unit_status_on(day: dt.date):
    """SQL: each unit's state on ``day`` for a query over units joined (outer) to the lease that
    covers ``day`` (``lease_active_on``)."""
    return status_case(day, leasable=Unit.leasable, covering_end=Lease.end_date, covering_kind=Lease.kind,
                       later=leased_later(day), held=held_on(day))
