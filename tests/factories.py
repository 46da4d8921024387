"""Small builders for records in tests, through the ORM (so every rule applies)."""
from __future__ import annotations

import datetime as dt
import itertools

from shapely.geometry import box

from registry.core.enums import BuildingStatus, BuildingType, ParkLevel, PlotStatus, RightsType
from registry.core.models import Building, Enterprise, Floor, Jurisdiction, Lease, Park, Plot, Unit
from registry.core.validation import make_uscc

_seq = itertools.count(1)
LON, LAT = 108.955, 32.662  # 安康高新区


def square(dx: float = 0.0, dy: float = 0.0, size: float = 0.001):
    return box(LON + dx, LAT + dy, LON + dx + size, LAT + dy + size)


def park(session, name="测试园区", **kw) -> Park:
    if session.get(Jurisdiction, "610902") is None:
        session.add(Jurisdiction(code="610902", name="汉滨区"))
    p = Park(name=name, level=kw.pop("level", ParkLevel.COUNTY), jurisdiction_code="610902",
             boundary=kw.pop("boundary", square(size=0.02)), **kw)
    session.add(p)
    session.flush()
    return p


def enterprise(session, name=None, above_scale=False, industry="3311") -> Enterprise:
    n = next(_seq)
    e = Enterprise(uscc=make_uscc("610902", f"{n:08d}"), name=name or f"测试企业{n}有限公司",
                   industry_code=industry, above_scale=above_scale)
    session.add(e)
    session.flush()
    return e


def plot(session, park_: Park, holder=None, dx=0.0, **kw) -> Plot:
    n = next(_seq)
    p = Plot(park=park_, code=f"P{n}", geom=square(dx, 0, 0.002), holder=holder,
             rights_type=RightsType.TRANSFER, status=kw.pop("status", PlotStatus.SUPPLIED), **kw)
    session.add(p)
    session.flush()
    return p


def building(session, park_: Park, plot_=None, gfa=6000.0, floors=3, type_=BuildingType.STANDARD_FACTORY,
             status=BuildingStatus.COMPLETED, completion=dt.date(2020, 1, 1), units_per_floor=2, dx=0.0) -> Building:
    n = next(_seq)
    b = Building(park=park_, plot=plot_, code=f"B{n}", footprint=square(dx, 0, 0.0005), type=type_, status=status,
                 floors_above=floors, gfa_m2=gfa, completion_date=completion)
    b.floors = [Floor(level=i, storey_height_m=6.0 if i == 1 else 4.5, floor_load_kn_m2=20.0 if i == 1 else 8.0)
                for i in range(1, floors + 1)]
    session.add(b)
    session.flush()
    for level in range(1, floors + 1):
        for j in range(1, units_per_floor + 1):
            session.add(Unit(building=b, floor_level=level, code=f"{level}-{j:02d}",
                             leasable_area_m2=gfa / floors / units_per_floor))
    session.flush()
    return b


def lease(session, unit: Unit, ent: Enterprise, start: dt.date, end: dt.date, rent=10.0) -> Lease:
    le = Lease(unit=unit, enterprise=ent, start_date=start, end_date=end, rent_yuan_m2_month=rent)
    session.add(le)
    session.flush()
    return le
