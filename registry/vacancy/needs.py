"""What a project needs of factory space, and which buildings and storeys meet it: one check for the
investor map's filters and the land calculator's standard-factory alternative.

Limits are inclusive (a floor rated exactly 2 t/m² serves a project needing 2 t/m²). Storey needs
(ground floor, floor load, clear height) are met unit by unit, by the storey the unit is on; the
building's own figures (crane, power) apply to all its units. A crane need of 0 t means "some crane".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, true

from ..core.models import KN_PER_T, Building, Floor, Unit

# Floor loads are stored in kN/m² and asked for in t/m²: a stored 2 t/m² (19.6133 kN/m²) must meet
# a need of 2 t/m² whatever the rounding of the conversion.
_LOAD_TOLERANCE_KN = 1e-9


def move_in_day(asked: dt.date | None, today: dt.date) -> dt.date:
    """The day space is wanted by: the date asked for, or today. Space free by a date already
    past is space free now (a link or a saved search from last month still answers)."""
    return today if asked is None or asked < today else asked


@dataclass(frozen=True)
class SpaceNeeds:  # 用房需求
    available_by: dt.date  # moved in by this day
    ground_floor: bool = False  # 仅首层
    min_load_t_m2: float | None = None  # 楼面荷载
    min_height_m: float | None = None  # 层高
    crane_t: float | None = None  # 行车: None not needed, 0 any crane, else at least this many tonnes
    min_power_kva: float | None = None  # 用电容量
    min_area_m2: float | None = None  # of the available space, in one building
    max_area_m2: float | None = None

    @property
    def storeys(self) -> bool:
        """Whether the check needs each unit's storey (``Floor``) joined."""
        return bool(self.min_load_t_m2 or self.min_height_m)

    @property
    def about_space(self) -> bool:
        """Whether anything is asked of the space itself (not only of the building)."""
        return bool(self.min_area_m2 or self.max_area_m2 or self.ground_floor or self.storeys)


def storey_fits(needs: SpaceNeeds):
    """SQL condition on a unit (and its ``Floor``, joined when ``needs.storeys``): its storey meets
    the needs."""
    fits = true()
    if needs.ground_floor:
        fits = and_(fits, Unit.floor_level == 1)
    if needs.min_load_t_m2:
        fits = and_(fits, Floor.floor_load_kn_m2 >= needs.min_load_t_m2 * KN_PER_T - _LOAD_TOLERANCE_KN)
    if needs.min_height_m:
        fits = and_(fits, Floor.storey_height_m >= needs.min_height_m)
    return fits


def with_storeys(stmt, needs: SpaceNeeds):
    """``stmt`` (over units) with each unit's storey joined, where the needs look at storeys."""
    if needs.storeys:
        return stmt.outerjoin(Floor, and_(Floor.building_id == Unit.building_id, Floor.level == Unit.floor_level))
    return stmt


def building_fits(needs: SpaceNeeds) -> list:
    """SQL conditions on the building: its crane and its power supply meet the needs."""
    out = []
    if needs.crane_t is not None:
        out.append(and_(Building.crane_tonnage_t > 0, Building.crane_tonnage_t >= needs.crane_t))
    if needs.min_power_kva:
        out.append(Building.power_kva >= needs.min_power_kva)
    return out
