"""The park page's figures on a date: stock by type and status, occupancy, 计租率, expiries, tenants."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..core.enums import BuildingStatus, BuildingType, LeaseKind
from ..core.models import Building, Enterprise, Lease, Park, Unit
from .status import (LET, ON_MARKET, VACANT, Occupancy, building_completed_on, building_status_on,
                     lease_active_on, leased_later, occupancy, unit_status_on, values_of)

EXPIRY_WINDOWS = (30, 60, 90)


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
    """Each building of the park with its units and occupancy on ``day`` (one grouped query): units
    on the market, vacant (free or held for a prospect), let, as ``status`` decides them."""
    built = building_completed_on(day)  # units of unfinished buildings are not yet supply
    state = unit_status_on(day)
    on_market = and_(built, Unit.id.is_not(None), state.in_(values_of(ON_MARKET)))
    vacant = and_(on_market, state.in_(values_of(VACANT)))
    let = and_(on_market, state.in_(values_of(LET)))
    q = (select(Building, func.count(Unit.id),
                func.coalesce(func.sum(case((vacant, 1), else_=0)), 0),
                func.coalesce(func.sum(case((on_market, Unit.leasable_area_m2), else_=0.0)), 0.0),
                func.coalesce(func.sum(case((let, Unit.leasable_area_m2), else_=0.0)), 0.0))
         .outerjoin(Unit, Unit.building_id == Building.id)
         .outerjoin(Lease, and_(Lease.unit_id == Unit.id, lease_active_on(day)))
         .where(Building.park_id == park_id).group_by(Building.id).order_by(Building.code))
    return [BuildingLine(b, int(n), int(vac), float(area), float(leased)) for b, n, vac, area, leased in session.execute(q)]
