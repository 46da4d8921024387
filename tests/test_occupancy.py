"""A unit's status on any date comes from its lease intervals [start, end)."""
import datetime as dt

import pytest

from registry.enums import BuildingStatus, UnitStatus
from registry.occupancy import occupancy, unit_status, unit_statuses

from . import factories as f

D = dt.date


@pytest.fixture
def leased_unit(session):
    p = f.park(session)
    b = f.building(session, p, gfa=6000, floors=3, units_per_floor=2)  # six units of 1000 m²
    unit = b.units[0]
    lease = f.lease(session, unit, f.enterprise(session), D(2025, 3, 1), D(2026, 3, 1))
    session.commit()
    return p, b, unit, lease


@pytest.mark.parametrize("day, status", [
    (D(2025, 2, 28), UnitStatus.VACANT),  # the day before the start
    (D(2025, 3, 1), UnitStatus.LEASED),  # the start day is included
    (D(2026, 2, 28), UnitStatus.LEASED),  # the last day of the lease
    (D(2026, 3, 1), UnitStatus.VACANT),  # the end day is not included
])
def test_status_across_lease_boundaries(session, leased_unit, day, status):
    _, _, unit, _ = leased_unit
    assert unit_status(session, unit.id, day) == status


def test_statuses_name_the_occupying_lease(session, leased_unit):
    _, b, unit, lease = leased_unit
    statuses = unit_statuses(session, [u.id for u in b.units], D(2025, 6, 1))
    assert statuses[unit.id] == (UnitStatus.LEASED, lease.id)
    assert sum(1 for s, _ in statuses.values() if s == UnitStatus.VACANT) == 5


def test_occupancy_rates_by_area_and_by_count(session, leased_unit):
    p, b, unit, _ = leased_unit
    # A second tenant takes two more units from 1 June.
    e = f.enterprise(session)
    for u in b.units[1:3]:
        f.lease(session, u, e, D(2025, 6, 1), D(2027, 6, 1))
    session.commit()
    may, june, later = (occupancy(session, d, park_id=p.id) for d in (D(2025, 5, 31), D(2025, 6, 1), D(2026, 3, 1)))
    assert (may.units, may.leased_units, may.leasable_m2, may.leased_m2) == (6, 1, 6000, 1000)
    assert june.leased_units == 3 and june.rate_by_area == pytest.approx(0.5) and june.rate_by_count == 0.5
    assert later.leased_units == 2 and later.vacant_m2 == 4000


def test_buildings_not_yet_completed_add_no_supply(session):
    p = f.park(session)
    f.building(session, p, gfa=6000, completion=D(2025, 1, 1))
    f.building(session, p, gfa=3000, floors=1, status=BuildingStatus.UNDER_CONSTRUCTION, completion=None)
    session.commit()
    assert occupancy(session, D(2024, 12, 31), park_id=p.id).leasable_m2 == 0
    assert occupancy(session, D(2025, 1, 1), park_id=p.id).leasable_m2 == 6000
    assert occupancy(session, D(2025, 1, 1), park_id=p.id).rate_by_area == 0
