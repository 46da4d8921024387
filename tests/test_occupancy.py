"""A unit's status on any date comes from its lease intervals [start, end)."""
import datetime as dt

import pytest

from registry.core.enums import BuildingStatus, UnitStatus
from registry.occupancy.status import occupancy, unit_states, unit_status

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
    (D(2025, 2, 28), UnitStatus.SIGNED),  # the day before the start: signed, not offered to anyone else
    (D(2025, 3, 1), UnitStatus.LEASED),  # the start day is included
    (D(2026, 2, 28), UnitStatus.EXPIRING),  # the last day of the lease (one day left)
    (D(2026, 3, 1), UnitStatus.VACANT),  # the end day is not included
])
def test_status_across_lease_boundaries(session, leased_unit, day, status):
    _, _, unit, _ = leased_unit
    assert unit_status(session, unit.id, day) == status


@pytest.mark.parametrize("day, status", [
    (D(2025, 12, 1), UnitStatus.EXPIRING),  # 90 days before the unit is free
    (D(2025, 11, 30), UnitStatus.LEASED),  # 91 days before
])
def test_a_lease_within_90_days_of_its_end_is_expiring(session, leased_unit, day, status):
    _, _, unit, _ = leased_unit
    assert unit_status(session, unit.id, day) == status


def test_states_name_the_occupying_lease_and_tenant(session, leased_unit):
    _, b, unit, lease = leased_unit
    states = unit_states(session, D(2025, 6, 1), [u.id for u in b.units])
    s = states[unit.id]
    assert (s.status, s.lease_id, s.rent_yuan_m2_month, s.lease_end, s.last_day) == (
        UnitStatus.LEASED, lease.id, 10.0, D(2026, 3, 1), D(2026, 2, 28))
    assert s.tenant == lease.enterprise.name and s.days_left == 273
    assert sum(1 for x in states.values() if x.status == UnitStatus.VACANT) == 5


def test_reserved_self_use_and_not_leasable_units(session, leased_unit):
    from registry.core.enums import LeaseKind
    from registry.core.models import Lease, Reservation
    _, b, _, _ = leased_unit
    reserved, own, plant = b.units[1], b.units[2], b.units[3]
    session.add(Reservation(unit=reserved, prospect="意向客户张先生", start_date=D(2025, 5, 1), end_date=D(2025, 7, 1)))
    session.add(Lease(unit=own, enterprise=f.enterprise(session), start_date=D(2025, 1, 1), end_date=D(2030, 1, 1),
                      kind=LeaseKind.SELF_USE))
    plant.leasable = False
    session.commit()
    states = unit_states(session, D(2025, 6, 1), building_id=b.id)
    assert states[reserved.id].status == UnitStatus.RESERVED and states[reserved.id].prospect == "意向客户张先生"
    assert states[own.id].status == UnitStatus.SELF_USE
    assert states[plant.id].status == UnitStatus.NOT_LEASABLE
    assert unit_status(session, reserved.id, D(2025, 7, 1)) == UnitStatus.VACANT  # the hold has lapsed
    occ = occupancy(session, D(2025, 6, 1), building_id=b.id)
    # Supply: six units of 1000 m² less the plant room and the self-used unit.
    assert (occ.units, occ.leasable_m2, occ.self_use_m2) == (4, 4000, 1000)


def test_billable_area_excludes_rent_free_months(session):
    p = f.park(session)
    b = f.building(session, p)
    le = f.lease(session, b.units[0], f.enterprise(session), D(2025, 1, 15), D(2028, 1, 15))
    le.rent_free_months = 3
    session.commit()
    assert occupancy(session, D(2025, 4, 14), building_id=b.id).billable_m2 == 0  # still rent-free
    assert occupancy(session, D(2025, 4, 15), building_id=b.id).billable_m2 == 1000
    assert occupancy(session, D(2025, 4, 15), building_id=b.id).billable_rate == pytest.approx(1 / 6)


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
