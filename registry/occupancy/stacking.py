"""The stacking plan (房态图) of a building on a date: floors as rows, units as blocks sized by area;
and one unit's record. Tenants, lease terms, rents and prospects are shown only to the park's own
readers (``registry.core.authz.Audience``); everyone else sees the states."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..core.authz import EVERYTHING, Audience
from ..core.models import Building, Unit
from .status import UnitState, unit_states


@dataclass(frozen=True)
class Block:
    unit: Unit
    state: UnitState
    width_pct: float  # share of its floor's row, proportional to area


@dataclass(frozen=True)
class FloorRow:
    level: int
    storey_height_m: float | None
    floor_load_t_m2: float | None
    area_m2: float
    blocks: list[Block]


@dataclass(frozen=True)
class StackingPlan:
    building: Building
    day: dt.date
    rows: list[FloorRow]  # top floor first, as drawn
    private: bool = True  # tenants and lease terms shown

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            for b in row.blocks:
                out[b.state.status.value] = out.get(b.state.status.value, 0) + 1
        return out


def stacking_plan(session: Session, building_id: int, day: dt.date, audience: Audience = EVERYTHING) -> StackingPlan:
    """Every unit of the building with its state on ``day``, grouped by floor."""
    building = session.scalar(select(Building).options(selectinload(Building.floors), selectinload(Building.park))
                              .where(Building.id == building_id))
    if building is None:
        raise LookupError(f"no building #{building_id}")
    units = session.scalars(select(Unit).where(Unit.building_id == building_id)
                            .order_by(Unit.floor_level.desc(), Unit.code)).all()
    states = unit_states(session, day, building_id=building_id)
    private = audience.private(building.park_id)
    if not private:
        states = {i: s.public() for i, s in states.items()}
    floors = {f.level: f for f in building.floors}
    rows: list[FloorRow] = []
    for level in sorted({u.floor_level for u in units} | set(floors), reverse=True):
        on_floor = [u for u in units if u.floor_level == level]
        total = sum(u.leasable_area_m2 for u in on_floor)
        fl = floors.get(level)
        rows.append(FloorRow(level, fl.storey_height_m if fl else None, fl.floor_load_t_m2 if fl else None, total,
                             [Block(u, states[u.id], 100.0 * u.leasable_area_m2 / total) for u in on_floor]))
    return StackingPlan(building, day, rows, private)


@dataclass(frozen=True)
class UnitRecord:
    unit: Unit
    state: UnitState
    leases: list  # every lease of the unit, oldest first, with reliefs loaded (the park's readers)
    reservations: list
    private: bool = True


def unit_record(session: Session, unit_id: int, day: dt.date, audience: Audience = EVERYTHING) -> UnitRecord:
    """A unit with its state on ``day`` and, for the park's own readers, its full lease and
    reservation history."""
    from ..core.models import Lease, Reservation
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise LookupError(f"no unit #{unit_id}")
    if not audience.private(unit.building.park_id):
        return UnitRecord(unit, unit_states(session, day, [unit_id])[unit_id].public(), [], [], False)
    leases = session.scalars(select(Lease).options(selectinload(Lease.reliefs), selectinload(Lease.enterprise))
                             .where(Lease.unit_id == unit_id).order_by(Lease.start_date)).all()
    reservations = session.scalars(select(Reservation).where(Reservation.unit_id == unit_id)
                                   .order_by(Reservation.start_date)).all()
    return UnitRecord(unit, unit_states(session, day, [unit_id])[unit_id], list(leases), list(reservations))


def unit_id_of_reservation(session: Session, reservation_id: int) -> int:
    """The unit a reservation holds (LookupError if there is no such reservation)."""
    from ..core.models import Reservation
    unit_id = session.scalar(select(Reservation.unit_id).where(Reservation.id == reservation_id))
    if unit_id is None:
        raise LookupError(f"no reservation #{reservation_id}")
    return unit_id


def unit_id_of_lease(session: Session, lease_id: int) -> int:
    """The unit a lease is of (LookupError if there is no such lease)."""
    from ..core.models import Lease
    unit_id = session.scalar(select(Lease.unit_id).where(Lease.id == lease_id))
    if unit_id is None:
        raise LookupError(f"no lease #{lease_id}")
    return unit_id
