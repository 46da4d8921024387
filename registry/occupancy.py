"""Occupancy derived from lease intervals: a unit's status on a date, and vacancy figures.

Nothing here is stored. A lease occupies its unit on day d when start_date ≤ d < end_date, so a
lease ending on 2025-06-30 (end_date 2025-07-01) leaves the unit vacant on 1 July, and a new lease
may start that same day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from .enums import BuildingStatus, UnitStatus
from .models import Building, Lease, Unit


def lease_active_on(day: dt.date):
    """SQL condition: the lease covers ``day``."""
    return and_(Lease.start_date <= day, Lease.end_date > day)


def building_completed_on(day: dt.date):
    """SQL condition: the building stood completed on ``day`` (its space counts as supply)."""
    return and_(Building.status == BuildingStatus.COMPLETED,
                or_(Building.completion_date.is_(None), Building.completion_date <= day))


def unit_status(session: Session, unit_id: int, day: dt.date) -> UnitStatus:
    """The status of one unit on ``day``."""
    return unit_statuses(session, [unit_id], day)[unit_id][0]


def unit_statuses(session: Session, unit_ids: list[int], day: dt.date) -> dict[int, tuple[UnitStatus, int | None]]:
    """For each unit: its status on ``day`` and the id of the lease that occupies it, if any."""
    rows = session.execute(
        select(Unit.id, Lease.id)
        .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
        .where(Unit.id.in_(unit_ids))
    ).all()
    return {uid: (UnitStatus.LEASED if lid else UnitStatus.VACANT, lid) for uid, lid in rows}


@dataclass(frozen=True)
class Occupancy:
    """Leasable supply and its occupancy on one date, over units in completed buildings."""

    day: dt.date
    units: int
    leased_units: int
    leasable_m2: float
    leased_m2: float

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


def occupancy(session: Session, day: dt.date, *, park_id: int | None = None,
              building_id: int | None = None) -> Occupancy:
    """Occupancy on ``day`` of a park, a building, or everything."""
    leased = (select(Lease.unit_id).where(lease_active_on(day)).distinct().subquery())
    is_leased = Unit.id.in_(select(leased.c.unit_id))
    q = (select(func.count(Unit.id),
                func.coalesce(func.sum(case((is_leased, 1), else_=0)), 0),
                func.coalesce(func.sum(Unit.leasable_area_m2), 0.0),
                func.coalesce(func.sum(case((is_leased, Unit.leasable_area_m2), else_=0.0)), 0.0))
         .join(Building, Building.id == Unit.building_id)
         .where(building_completed_on(day)))
    if park_id is not None:
        q = q.where(Building.park_id == park_id)
    if building_id is not None:
        q = q.where(Building.id == building_id)
    units, leased_units, leasable, leased_m2 = session.execute(q).one()
    return Occupancy(day, int(units), int(leased_units), float(leasable), float(leased_m2))
