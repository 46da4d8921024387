"""Occupancy derived from lease and reservation intervals: unit status on a date, and vacancy figures.

Nothing here is stored. A lease occupies its unit on day d when start_date ≤ d < end_date, so a
lease ending on 30 June (end_date 1 July) leaves the unit free on 1 July, and a new lease may start
that same day. On a date, a unit is, in this order of precedence:

- not leasable (plant rooms and the like, ``Unit.leasable`` false);
- self-use, under a self-use occupancy;
- expiring, under a lease whose end falls within ``EXPIRING_DAYS``;
- leased;
- reserved for a named prospect;
- vacant.

Supply counts leasable units of buildings completed on the date, less units in self-use (they are not
on the market). 出租率 is leased ÷ supply; 计租率 (billable) counts only leases past their rent-free
months.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from ..core.enums import BuildingStatus, LeaseKind, UnitStatus
from ..core.models import Building, Enterprise, Lease, Reservation, Unit

EXPIRING_DAYS = 90


def lease_active_on(day: dt.date):
    """SQL condition: the lease covers ``day``."""
    return and_(Lease.start_date <= day, Lease.end_date > day)


def building_completed_on(day: dt.date):
    """SQL condition: the building stood completed on ``day`` (its space counts as supply)."""
    return and_(Building.status == BuildingStatus.COMPLETED,
                or_(Building.completion_date.is_(None), Building.completion_date <= day))


def rent_free_over(day: dt.date):
    """SQL condition: the lease's rent-free months have passed by ``day`` (whole months since start)."""
    months = ((day.year - extract("year", Lease.start_date)) * 12 + (day.month - extract("month", Lease.start_date))
              - case((extract("day", Lease.start_date) > day.day, 1), else_=0))
    return months >= Lease.rent_free_months


@dataclass(frozen=True)
class UnitState:
    """What one unit is on a date, with the occupying lease or reservation if any."""

    unit_id: int
    status: UnitStatus
    lease_id: int | None = None
    enterprise_id: int | None = None
    tenant: str | None = None
    rent_yuan_m2_month: float | None = None
    lease_start: dt.date | None = None
    lease_end: dt.date | None = None  # exclusive
    days_left: int | None = None  # until the unit is free
    prospect: str | None = None
    reserved_until: dt.date | None = None  # exclusive

    @property
    def last_day(self) -> dt.date | None:
        """The lease's last day (what contracts print), one day before the exclusive end."""
        return None if self.lease_end is None else self.lease_end - dt.timedelta(days=1)


def unit_states(session: Session, day: dt.date, unit_ids: list[int] | None = None, *,
                building_id: int | None = None, park_id: int | None = None) -> dict[int, UnitState]:
    """The state of each selected unit on ``day`` (by ids, a building, or a park)."""
    q = (select(Unit.id, Unit.leasable, Lease.id, Lease.kind, Lease.enterprise_id, Enterprise.name,
                Lease.rent_yuan_m2_month, Lease.start_date, Lease.end_date)
         .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
         .outerjoin(Enterprise, Enterprise.id == Lease.enterprise_id))
    r = (select(Reservation.unit_id, Reservation.prospect, Reservation.end_date)
         .where(Reservation.start_date <= day, Reservation.end_date > day))
    if unit_ids is not None:
        q = q.where(Unit.id.in_(unit_ids))
        r = r.where(Reservation.unit_id.in_(unit_ids))
    if building_id is not None:
        q = q.where(Unit.building_id == building_id)
        r = r.join(Unit, Unit.id == Reservation.unit_id).where(Unit.building_id == building_id)
    if park_id is not None:
        q = q.join(Building, Building.id == Unit.building_id).where(Building.park_id == park_id)
        r = (r.join(Unit, Unit.id == Reservation.unit_id).join(Building, Building.id == Unit.building_id)
             .where(Building.park_id == park_id))
    reserved = {uid: (prospect, until) for uid, prospect, until in session.execute(r)}
    states = {}
    for uid, leasable, lid, kind, eid, tenant, rent, start, end in session.execute(q):
        if not leasable:
            states[uid] = UnitState(uid, UnitStatus.NOT_LEASABLE)
        elif lid is not None:
            days_left = (end - day).days
            status = (UnitStatus.SELF_USE if kind == LeaseKind.SELF_USE
                      else UnitStatus.EXPIRING if days_left <= EXPIRING_DAYS else UnitStatus.LEASED)
            states[uid] = UnitState(uid, status, lid, eid, tenant, rent, start, end, days_left)
        elif uid in reserved:
            prospect, until = reserved[uid]
            states[uid] = UnitState(uid, UnitStatus.RESERVED, prospect=prospect, reserved_until=until)
        else:
            states[uid] = UnitState(uid, UnitStatus.VACANT)
    return states


def unit_status(session: Session, unit_id: int, day: dt.date) -> UnitStatus:
    """The status of one unit on ``day``."""
    return unit_states(session, day, [unit_id])[unit_id].status


@dataclass(frozen=True)
class Occupancy:
    """Leasable supply and its occupancy on one date, over units in completed buildings."""

    day: dt.date
    units: int  # leasable units on the market (not self-use)
    leased_units: int
    leasable_m2: float
    leased_m2: float
    billable_m2: float  # leased and past the rent-free months
    self_use_m2: float

    @property
    def vacant_units(self) -> int:
        return self.units - self.leased_units

    @property
    def vacant_m2(self) -> float:
        return self.leasable_m2 - self.leased_m2

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


def occupancy(session: Session, day: dt.date, *, park_id: int | None = None,
              building_id: int | None = None) -> Occupancy:
    """Occupancy on ``day`` of a park, a building, or everything."""
    q = _occupancy_query(day)
    if park_id is not None:
        q = q.where(Building.park_id == park_id)
    if building_id is not None:
        q = q.where(Building.id == building_id)
    return _as_occupancy(day, session.execute(q).one())


def occupancy_by_park(session: Session, day: dt.date) -> dict[int, Occupancy]:
    """Occupancy on ``day`` of every park with completed buildings, in one pass over the units."""
    q = _occupancy_query(day).add_columns(Building.park_id).group_by(Building.park_id)
    return {row[-1]: _as_occupancy(day, row[:-1]) for row in session.execute(q)}


def _as_occupancy(day: dt.date, row) -> Occupancy:
    units, leased_units, leasable, leased, billable, self_use = row
    return Occupancy(day, int(units), int(leased_units), float(leasable), float(leased), float(billable),
                     float(self_use))


def _occupancy_query(day: dt.date):
    active = and_(Lease.unit_id == Unit.id, lease_active_on(day))
    is_lease = Lease.kind == LeaseKind.LEASE
    is_self = Lease.kind == LeaseKind.SELF_USE
    area = Unit.leasable_area_m2

    def total(cond, value=area):
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    return (select(total(Lease.id.is_(None) | is_lease, 1), total(is_lease, 1),
                   total(Lease.id.is_(None) | is_lease), total(is_lease), total(and_(is_lease, rent_free_over(day))),
                   total(is_self))
            .select_from(Unit)
            .join(Building, Building.id == Unit.building_id)
            .outerjoin(Lease, active)
            .where(building_completed_on(day), Unit.leasable))
