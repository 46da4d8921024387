"""The figures industry bureaus write in their reports, computed from the registry on a date.

"已建成厂房及配套用房 N 栋 X 万㎡，其中标准化厂房 N 栋 X 万㎡；在建 N 栋 X 万㎡；
 入驻企业 N 家（规上 N 家）；出租率 X%（按面积）"

Definitions (also in docs/data-model.md):
- built: completed on the date (status completed, completion date unknown or on/before it);
- under construction: status under construction, or completed only after the date;
- 入驻企业: enterprises leasing a unit on the date, plus holders of plots with a building built by
  the date and no leasable unit (they work on their own land). A landlord that lets its plot's
  units, such as the park's operator, is not an occupier, nor is the holder of idle land;
- 出租率: leased ÷ leasable m² of units in built buildings (see status.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select, union
from sqlalchemy.orm import Session, selectinload

from geodata.area import M2_PER_WAN_M2
from ..core.enums import BuildingStatus, BuildingType
from ..core.models import Building, Enterprise, Lease, Park, Plot, Unit
from .status import (Occupancy, building_completed_on, building_status_on, lease_active_on, occupancy,
                     occupancy_by_park)
from ..core import clock


@dataclass(frozen=True)
class Summary:
    day: dt.date
    park_id: int | None
    park_name: str | None
    park_level: str | None  # Chinese label, e.g. 国家级
    jurisdiction: str | None
    built_count: int
    built_gfa_m2: float
    standard_count: int
    standard_gfa_m2: float
    construction_count: int
    construction_gfa_m2: float
    enterprises: int
    above_scale_enterprises: int
    occupancy: Occupancy

    def statement(self) -> str:
        """The sentence a bureau report would contain."""
        rate = self.occupancy.rate_by_area
        rate_text = "—" if rate is None else f"{rate * 100:.1f}%"
        prefix = f"{self.park_name}：" if self.park_name else ""
        return (f"{prefix}已建成厂房及配套用房 {self.built_count} 栋 {wan(self.built_gfa_m2)} 万㎡，"
                f"其中标准化厂房 {self.standard_count} 栋 {wan(self.standard_gfa_m2)} 万㎡；"
                f"在建 {self.construction_count} 栋 {wan(self.construction_gfa_m2)} 万㎡；"
                f"入驻企业 {self.enterprises} 家（规上 {self.above_scale_enterprises} 家）；"
                f"出租率 {rate_text}（按面积）")

    def as_dict(self) -> dict:
        o = self.occupancy
        return {
            "date": self.day.isoformat(), "park_id": self.park_id, "park": self.park_name,
            "level": self.park_level, "jurisdiction": self.jurisdiction,
            "built": {"count": self.built_count, "gfa_m2": round(self.built_gfa_m2, 2)},
            "standard_factories": {"count": self.standard_count, "gfa_m2": round(self.standard_gfa_m2, 2)},
            "under_construction": {"count": self.construction_count, "gfa_m2": round(self.construction_gfa_m2, 2)},
            "enterprises": self.enterprises, "above_scale_enterprises": self.above_scale_enterprises,
            "units": o.units, "leased_units": o.leased_units,
            "leasable_m2": round(o.leasable_m2, 2), "leased_m2": round(o.leased_m2, 2),
            "vacant_m2": round(o.vacant_m2, 2), "signed_m2": round(o.signed_m2, 2),
            "occupancy_rate_by_area": None if o.rate_by_area is None else round(o.rate_by_area, 4),
            "statement": self.statement(),
        }


def wan(m2: float) -> str:
    """m² as 万㎡ with two decimals, the bureaus' unit."""
    return f"{m2 / M2_PER_WAN_M2:.2f}"


def occupant_ids(day: dt.date, park_id: int | None):
    """SQL selecting (park_id, eid): the enterprises occupying space in each park (or one) on ``day``."""
    lessees = (select(Building.park_id.label("park_id"), Lease.enterprise_id.label("eid"))
               .join(Unit, Unit.id == Lease.unit_id).join(Building, Building.id == Unit.building_id)
               .where(lease_active_on(day)))
    plot_has_units = exists(select(Unit.id).join(Building, Building.id == Unit.building_id)
                            .where(Building.plot_id == Plot.id))
    plot_is_built = exists(select(Building.id).where(Building.plot_id == Plot.id, building_completed_on(day)))
    holders = (select(Plot.park_id.label("park_id"), Plot.holder_id.label("eid"))
               .where(Plot.holder_id.is_not(None), plot_is_built, ~plot_has_units))
    if park_id is not None:
        lessees = lessees.where(Building.park_id == park_id)
        holders = holders.where(Plot.park_id == park_id)
    return union(lessees, holders).subquery()


def _building_figures(day: dt.date):
    """SQL: count and GFA of built buildings, of built standard factories, and under construction."""
    built = building_completed_on(day)
    in_construction = building_status_on(day) == BuildingStatus.UNDER_CONSTRUCTION
    std = and_(built, Building.type == BuildingType.STANDARD_FACTORY)

    def count_sum(cond):
        return (func.coalesce(func.sum(case((cond, 1), else_=0)), 0),
                func.coalesce(func.sum(case((cond, Building.gfa_m2), else_=0.0)), 0.0))

    return select(*count_sum(built), *count_sum(std), *count_sum(in_construction))


def _enterprise_counts():
    """SQL: enterprises, and of them 规上."""
    return func.count(Enterprise.id), func.coalesce(func.sum(case((Enterprise.above_scale, 1), else_=0)), 0)


def summarize(session: Session, day: dt.date | None = None, park_id: int | None = None) -> Summary:
    """The summary of one park, or of all parks together, on ``day`` (default today)."""
    day = day or clock.today()
    q = _building_figures(day)
    if park_id is not None:
        q = q.where(Building.park_id == park_id)
    b_n, b_m2, s_n, s_m2, c_n, c_m2 = session.execute(q).one()

    occ = occupant_ids(day, park_id)
    # Over several parks an enterprise counts once, however many parks it occupies.
    e_n, e_above = session.execute(select(*_enterprise_counts()).where(Enterprise.id.in_(select(occ.c.eid)))).one()

    park = session.get(Park, park_id) if park_id is not None else None
    return Summary(day, park_id, park and park.name, park and park.level.label,
                   park and park.jurisdiction.name, int(b_n), float(b_m2), int(s_n), float(s_m2), int(c_n), float(c_m2),
                   int(e_n), int(e_above), occupancy(session, day, park_id=park_id))


def summarize_parks(session: Session, day: dt.date | None = None) -> list[Summary]:
    """One summary per park, in name order: the same figures as ``summarize`` park by park, in
    three grouped queries instead of three per park (a province's home page)."""
    day = day or clock.today()
    buildings = {row[-1]: row[:-1] for row in session.execute(
        _building_figures(day).add_columns(Building.park_id).group_by(Building.park_id))}
    occ = occupant_ids(day, None)
    firms = {pid: (n, above) for pid, n, above in session.execute(
        select(occ.c.park_id, *_enterprise_counts()).join(Enterprise, Enterprise.id == occ.c.eid)
        .group_by(occ.c.park_id))}
    rates = occupancy_by_park(session, day)
    out = []
    for park in session.scalars(select(Park).options(selectinload(Park.jurisdiction)).order_by(Park.name)):
        b_n, b_m2, s_n, s_m2, c_n, c_m2 = buildings.get(park.id, (0, 0.0, 0, 0.0, 0, 0.0))
        e_n, e_above = firms.get(park.id, (0, 0))
        out.append(Summary(day, park.id, park.name, park.level.label, park.jurisdiction.name, int(b_n), float(b_m2),
                           int(s_n), float(s_m2), int(c_n), float(c_m2), int(e_n), int(e_above),
                           rates.get(park.id) or Occupancy.total(day, [])))
    return out


def overview(session: Session, day: dt.date | None = None) -> tuple[list[Summary], Summary]:
    """Every park's summary and the total over all parks (the home page). Buildings and units
    belong to one park each, so their totals are the parks' sums; enterprises are counted once
    however many parks they occupy, so they take one query of their own."""
    day = day or clock.today()
    parks = summarize_parks(session, day)
    occ = occupant_ids(day, None)
    e_n, e_above = session.execute(select(*_enterprise_counts()).where(Enterprise.id.in_(select(occ.c.eid)))).one()

    def total(attr):
        return sum(getattr(p, attr) for p in parks)

    return parks, Summary(day, None, None, None, None, total("built_count"), float(total("built_gfa_m2")),
                          total("standard_count"), float(total("standard_gfa_m2")), total("construction_count"),
                          float(total("construction_gfa_m2")), int(e_n), int(e_above),
                          Occupancy.total(day, [p.occupancy for p in parks]))
