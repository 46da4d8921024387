"""A park's data-quality checks: what a manager should fix before figures are published."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core.enums import BuildingStatus, BuildingType
from ..core.models import Building, Enterprise, Lease, Unit
from ..occupancy.status import lease_active_on
from ..core.validation import uscc_problem

AREA_TOLERANCE = 0.02  # unit areas may differ from the registered GFA by 2% (rounding, 公摊 splits)
VERIFY_DAYS = 90
LETTABLE_TYPES = (BuildingType.STANDARD_FACTORY, BuildingType.SUPPORTING, BuildingType.RND, BuildingType.WAREHOUSE)


@dataclass(frozen=True)
class AreaMismatch:
    building: Building
    units_m2: float

    @property
    def difference(self) -> float:
        return (self.units_m2 - self.building.gfa_m2) / self.building.gfa_m2


@dataclass(frozen=True)
class QualityReport:
    day: dt.date
    area_mismatches: list[AreaMismatch]
    invalid_tenant_codes: list[tuple[Lease, str]]  # the lease and why its tenant's code is invalid
    unverified: list[Building]  # completed, not verified within VERIFY_DAYS
    without_units: list[Building]  # completed, of a lettable type, with no leasable area recorded

    @property
    def issues(self) -> int:
        return sum(len(x) for x in (self.area_mismatches, self.invalid_tenant_codes, self.unverified, self.without_units))


def park_quality(session: Session, park_id: int, day: dt.date) -> QualityReport:
    """The four checks for one park on ``day``."""
    sums = dict(session.execute(select(Unit.building_id, func.sum(Unit.leasable_area_m2))
                                .join(Building, Building.id == Unit.building_id)
                                .where(Building.park_id == park_id).group_by(Unit.building_id)).all())
    buildings = session.scalars(select(Building).where(Building.park_id == park_id).order_by(Building.code)).all()
    mismatches = [AreaMismatch(b, float(sums[b.id])) for b in buildings
                  if b.id in sums and abs(sums[b.id] - b.gfa_m2) > AREA_TOLERANCE * b.gfa_m2]
    completed = [b for b in buildings if b.status == BuildingStatus.COMPLETED]
    stale = day - dt.timedelta(days=VERIFY_DAYS)
    unverified = [b for b in completed if b.last_verified is None or b.last_verified < stale]
    without_units = [b for b in completed if b.type in LETTABLE_TYPES and b.id not in sums]
    leases = session.execute(select(Lease, Enterprise.uscc).join(Enterprise, Enterprise.id == Lease.enterprise_id)
                             .join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
                             .where(Building.park_id == park_id, lease_active_on(day))).all()
    invalid = [(lease, problem) for lease, code in leases if (problem := uscc_problem(code))]
    return QualityReport(day, mismatches, invalid, unverified, without_units)
