"""The park page's figures on a date: stock by type and status, occupancy, 计租率, expiries, tenants."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..core.enums import BuildingStatus, BuildingType, LeaseKind, UnitStatus
from ..core.models import Building, Enterprise, Lease, Park, Unit
from .status import (EXPIRING_DAYS, LET, ON_MARKET, VACANT, Occupancy, building_completed_on, building_status_on,
                     lease_active_on, leased_later, occupancy, unit_status_on)

# The widest window is the one in which a lease counts as 即将到期 (the unit state).
EXPIRY_WINDOWS = (30, 60, EXPIRING_DAYS)


@dataclass(frozen=True)
class StockRow:
    type: BuildingType
    status: BuildingStatus
    count: int
    gfa_m2: float


@dataclass(frozen=True)
class Expiring:
    within_days: int
    units: int
    area_m2: float


@dataclass(frozen=True)
class BuildingLine:
    building: Building
    units: int
    vacant_units: int
    leasable_m2: float
    leased_m2: float

    @property
    def rate(self) -> float | None:
        return self.leased_m2 / self.leasable_m2 if self.leasable_m2 else None


@dataclass(frozen=True)
class ParkKPIs:
    park: Park
    day: dt.date
    stock: list[StockRow]
    occupancy: Occupancy
    expiring: list[Expiring]
    tenants: int
    above_scale_tenants: int
    buildings: list[BuildingLine]


def park_kpis(session: Session, park_id: int, day: dt.date) -> ParkKPIs:
    """All figures of one park's page on ``day``."""
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    status_on_day = building_status_on(day)
    stock = [StockRow(BuildingType(t), BuildingStatus(s), int(n), float(a)) for t, s, n, a in session.execute(
        select(Building.type, status_on_day, func.count(Building.id), func.sum(Building.gfa_m2))
        .where(Building.park_id == park_id).group_by(Building.type, status_on_day)
        .order_by(Building.type, status_on_day))]
    # The leases in force on the day, and whether another lease follows each (a renewal or a new
    # tenant signed): a lease that is followed is not expiring, as in the units' states.
    lets = (select(Lease.enterprise_id, Lease.end_date, Unit.leasable_area_m2, leased_later(day))
            .join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
            .where(Building.park_id == park_id, lease_active_on(day), Lease.kind == LeaseKind.LEASE))
    rows = session.execute(lets).all()
    expiring = []
    for window in EXPIRY_WINDOWS:
        due = [area for _, end, area, followed in rows if not followed and (end - day).days <= window]
        expiring.append(Expiring(window, len(due), float(sum(due))))
    tenant_ids = {eid for eid, *_ in rows}
    above = session.scalar(select(func.count(Enterprise.id)).where(Enterprise.id.in_(tenant_ids), Enterprise.above_scale)) if tenant_ids else 0
    return ParkKPIs(park, day, stock, occupancy(session, day, park_id=park_id), expiring, len(tenant_ids), int(above),
                    building_lines(session, park_id, day))


def building_lines(session: Session, park_id: int, day: dt.date) -> list[BuildingLine]:
    """Each building of the park with its units and occupancy on ``day``: units on the market (in a
    building built by then), vacant (free or held for a prospect), let, as ``status`` decides them.
    The units are counted by building and state, so each unit's state is worked out once."""
    state = unit_status_on(day)
    built = building_completed_on(day)  # units of unfinished buildings are not yet supply
    counts: dict[int, list] = {}
    for bid, value, is_built, n, area in session.execute(
            select(Unit.building_id, state, built, func.count(), func.sum(Unit.leasable_area_m2))
            .join(Building, Building.id == Unit.building_id)
            .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
            .where(Building.park_id == park_id).group_by(Unit.building_id, state, built)):
        c = counts.setdefault(bid, [0, 0, 0.0, 0.0])  # units, vacant units, m² on the market, m² let
        c[0] += n
        status = UnitStatus(value)
        if is_built and status in ON_MARKET:
            c[2] += float(area)
            if status in VACANT:
                c[1] += n
            if status in LET:
                c[3] += float(area)
    buildings = session.scalars(select(Building).where(Building.park_id == park_id).order_by(Building.code))
    return [BuildingLine(b, *counts.get(b.id, (0, 0, 0.0, 0.0))) for b in buildings]
