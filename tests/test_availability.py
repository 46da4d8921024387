"""One availability rule: on any date, every surface that speaks of a unit says the same of it.

The demo parks, plus what the demo lacks (renewals, leases signed for later, reservations, self-use,
a plant room, a building finished late), are walked over several dates. For each unit the state is
worked out here from its raw intervals, by the rule as docs/data-model.md states it, and compared
with the stacking plan, the unit page, the rent roll, the vacancy report, the park's figures, the
bureau summary, the map API, the building card, the OGC vacancies, the units export, the land
calculator's alternative and the Excel template.
"""
from __future__ import annotations

import collections
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from registry.core import clock
from registry.core.enums import BuildingStatus, BuildingType, LeaseKind, UnitStatus
from registry.core.models import Building, Lease, Reservation, Unit
from registry.gis import exporter
from registry.landsupply import calc, service as landcalc
from registry.occupancy import kpi, reports, stacking, status, summary, workbook
from registry.sample import demo
from registry.storage import bulk
from registry.core.authz import EVERYTHING, PUBLIC
from registry.vacancy import cards

from . import factories as f
from .conftest import TODAY

DAY = dt.timedelta(days=1)
DATES = [TODAY - 400 * DAY, TODAY, TODAY + 45 * DAY, TODAY + 200 * DAY]


@pytest.fixture
def estate(session):
    """The demo parks with every kind of state the rule knows about, written through the ORM."""
    bulk.load(session, demo.demo_dataset(TODAY))
    session.commit()
    leases = session.scalars(select(Lease).order_by(Lease.id)).all()
    by_unit = collections.defaultdict(list)
    for lease in leases:
        by_unit[lease.unit_id].append(lease)
    units = session.scalars(select(Unit).join(Building).where(Building.status == BuildingStatus.COMPLETED)
                            .order_by(Unit.id)).all()
    current = [le for le in leases if le.start_date <= TODAY < le.end_date]
    ending = [le for le in current if le.end_date <= TODAY + 90 * DAY]
    firm = f.enterprise(session, "续租测试有限公司")
    for lease in ending[:6]:  # renewed: no longer expiring
        session.add(Lease(unit_id=lease.unit_id, enterprise_id=lease.enterprise_id, start_date=lease.end_date,
                          end_date=lease.end_date + 730 * DAY, rent_yuan_m2_month=lease.rent_yuan_m2_month))
    for lease in ending[6:9]:  # a new tenant from a month after the current one leaves
        start = lease.end_date + 30 * DAY
        session.add(Lease(unit_id=lease.unit_id, enterprise=firm, start_date=start, end_date=start + 365 * DAY))
    free = [u for u in units if not any(le.end_date > TODAY for le in by_unit[u.id])]
    for u in free[:5]:  # signed today, moving in later
        session.add(Lease(unit=u, enterprise=firm, start_date=TODAY + 20 * DAY, end_date=TODAY + 400 * DAY))
    for u in free[5:9]:  # held for prospects
        session.add(Reservation(unit=u, prospect="意向客户", start_date=TODAY - 10 * DAY, end_date=TODAY + 60 * DAY))
    for u in free[9:11]:  # the operator's own use
        session.add(Lease(unit=u, enterprise=firm, start_date=TODAY - 100 * DAY, end_date=TODAY + 1000 * DAY,
                          kind=LeaseKind.SELF_USE))
    free[11].leasable = False  # a plant room
    late = session.scalars(select(Building).where(Building.status == BuildingStatus.UNDER_CONSTRUCTION,
                                                  Building.type == BuildingType.STANDARD_FACTORY)
                           .order_by(Building.id)).first()
    late.completion_date = TODAY + 100 * DAY
    session.commit()
    return session


def expected_states(session, day: dt.date) -> dict[int, UnitStatus]:
    """Each unit's state on ``day``, from its raw intervals, by the documented precedence."""
    leases = collections.defaultdict(list)
    for le in session.scalars(select(Lease)):
        leases[le.unit_id].append(le)
    held = {r.unit_id for r in session.scalars(select(Reservation)) if r.start_date <= day < r.end_date}
    out = {}
    for u in session.scalars(select(Unit)):
        covering = [le for le in leases[u.id] if le.start_date <= day < le.end_date]
        later = any(le.start_date > day for le in leases[u.id])
        if not u.leasable:
            out[u.id] = UnitStatus.NOT_LEASABLE
        elif covering and covering[0].kind == LeaseKind.SELF_USE:
            out[u.id] = UnitStatus.SELF_USE
        elif covering and (covering[0].end_date - day).days <= status.EXPIRING_DAYS and not later:
            out[u.id] = UnitStatus.EXPIRING
        elif covering:
            out[u.id] = UnitStatus.LEASED
        elif later:
            out[u.id] = UnitStatus.SIGNED
        elif u.id in held:
            out[u.id] = UnitStatus.RESERVED
        else:
            out[u.id] = UnitStatus.VACANT
    return out


def built(b: Building, day: dt.date) -> bool:
    return b.status == BuildingStatus.COMPLETED and (b.completion_date is None or b.completion_date <= day)


def ready(b: Building, day: dt.date) -> bool:
    return built(b, day) or (b.status == BuildingStatus.UNDER_CONSTRUCTION and b.completion_date is not None
                             and b.completion_date <= day)


@pytest.mark.slow
@pytest.mark.parametrize("day", DATES, ids=["a year ago", "today", "in 45 days", "in 200 days"])
def test_every_surface_agrees_unit_by_unit(app, estate, day):
    session = estate
    want = expected_states(session, day)
    assert set(want.values()) >= {UnitStatus.VACANT, UnitStatus.LEASED} and len(want) > 1800
    units = {u.id: u for u in session.scalars(select(Unit))}
    buildings = {b.id: b for b in session.scalars(select(Building))}
    area = {i: u.leasable_area_m2 for i, u in units.items()}
    of = collections.defaultdict(list)  # building id → unit ids
    for u in units.values():
        of[u.building_id].append(u.id)
    available = {i for i, s in want.items() if s == UnitStatus.VACANT and ready(buildings[units[i].building_id], day)}
    if day == TODAY:
        assert set(want.values()) == set(UnitStatus), "the estate shows every state"

    # The registry's own answer, the stacking plans and the unit pages.
    assert {i: s.status for i, s in status.unit_states(session, day).items()} == want
    for b in buildings.values():
        plan = stacking.stacking_plan(session, b.id, day)
        assert {blk.unit.id: blk.state.status for row in plan.rows for blk in row.blocks} == \
            {i: want[i] for i in of[b.id]}
    for i in sorted(want, key=lambda i: (want[i].value, i))[::60]:
        assert stacking.unit_record(session, i, day).state.status == want[i]

    for park_id in {b.park_id for b in buildings.values()}:
        in_park = [i for i in want if buildings[units[i].building_id].park_id == park_id]
        # The rent roll, unit by unit.
        roll = reports.rent_roll(session, park_id, day)
        assert {r["unit_id"]: r["status"] for r in roll.rows} == {i: want[i].label for i in in_park}
        # The vacancy report and the park page, building by building: vacant = free or held.
        line_of = {line.building.id: line for line in kpi.park_kpis(session, park_id, day).buildings}
        report = {r["building"]: r for r in reports.vacancy(session, park_id, day).rows}
        for bid, line in line_of.items():
            b = buildings[bid]
            market = [i for i in of[bid] if built(b, day) and want[i] in status.ON_MARKET]
            vacant = [i for i in market if want[i] in status.VACANT]
            let = [i for i in market if want[i] in status.LET]
            assert line.vacant_units == len(vacant), b.code
            assert line.leased_m2 == pytest.approx(sum(area[i] for i in let)), b.code
            assert line.leasable_m2 == pytest.approx(sum(area[i] for i in market)), b.code
            if market:
                assert report[b.code]["vacant_units"] == len(vacant) and report[b.code]["units"] == len(market)
        # The park's figures and the bureau summary.
        figures = kpi.park_kpis(session, park_id, day)
        market = [i for i in in_park if built(buildings[units[i].building_id], day) and want[i] in status.ON_MARKET]
        occ = figures.occupancy
        assert occ.leased_m2 == pytest.approx(sum(area[i] for i in market if want[i] in status.LET))
        assert occ.signed_m2 == pytest.approx(sum(area[i] for i in market if want[i] == UnitStatus.SIGNED))
        assert occ.vacant_units == sum(1 for i in market if want[i] in status.VACANT)
        assert summary.summarize(session, day, park_id).occupancy == occ
        due = [i for i in in_park if want[i] == UnitStatus.EXPIRING and built(buildings[units[i].building_id], day)]
        assert figures.expiring[-1].units == len(due)
        # The Excel template's 当前状态 column.
        ws = load_workbook(io.BytesIO(workbook.template(session, park_id, day)))[workbook.SHEET]
        code = {(buildings[units[i].building_id].code, units[i].code): i for i in in_park}
        assert {code[(r[0], r[1])]: r[4] for r in ws.iter_rows(min_row=2, values_only=True)} == \
            {i: want[i].label for i in in_park}

    # Investors: the map API (its "today" is the registry's clock), the building cards, the OGC
    # vacancies, and the land calculator's alternative.
    # Asked for space by a later date, the map counts what is vacant then, and says from when each
    # building's earliest such unit can be had: after its last lease, any reservation, and the
    # building's completion.
    later = day + 90 * DAY
    want_later = expected_states(session, later)
    available_later = {i for i, s in want_later.items()
                       if s == UnitStatus.VACANT and ready(buildings[units[i].building_id], later)}
    ends = collections.defaultdict(list)  # unit id → the ends of its leases and of its reservations still running
    for le in session.scalars(select(Lease)):
        ends[le.unit_id].append(le.end_date)
    for r in session.scalars(select(Reservation).where(Reservation.end_date > day)):
        ends[r.unit_id].append(r.end_date)

    def can_be_had(i: int) -> dt.date:
        b = buildings[units[i].building_id]
        return max([day, *ends[i], *([b.completion_date] if b.completion_date else [])])

    client = app.test_client()
    with clock.pinned(day):
        for park_id in {b.park_id for b in buildings.values()}:
            on_map = {b.id for b in buildings.values() if b.park_id == park_id and any(units[i].leasable for i in of[b.id])}
            data = client.get(f"/api/buildings?zoom=16&limit=2000&park={park_id}").get_json()
            assert {feat["id"] for feat in data["features"]} == on_map
            for feat in data["features"]:
                p = feat["properties"]
                mine = [i for i in of[p["id"]] if i in available]
                assert p["available_units"] == len(mine), p["code"]
                assert p["available_m2"] == pytest.approx(sum(area[i] for i in mine), abs=0.01)
            data = client.get(f"/api/buildings?zoom=16&limit=2000&park={park_id}&available_by={later}").get_json()
            # A date asked for lists only the buildings with space then.
            assert {feat["id"] for feat in data["features"]} == \
                {bid for bid in on_map if any(i in available_later for i in of[bid])}
            for feat in data["features"]:
                p = feat["properties"]
                mine = [i for i in of[p["id"]] if i in available_later]
                assert p["available_units"] == len(mine), p["code"]
                if mine:
                    assert p["available_from"] == min(can_be_had(i) for i in mine).isoformat(), p["code"]
    for b in buildings.values():
        if not of[b.id]:
            continue
        card = cards.building_card(session, b.id, day, audience=PUBLIC)
        assert {u["id"]: u["status"] for u in card["units"]} == \
            {i: want[i].value for i in of[b.id] if want[i] in status.OFFERED}
    vacancies = exporter.page(session, "vacancies", day=day, audience=PUBLIC, count=False)
    assert set(vacancies.ids) == available
    layer = exporter.page(session, "units", day=day, audience=EVERYTHING, count=False)
    assert dict(zip(layer.ids, layer.columns["state"])) == {i: want[i].label for i in want}
    project = calc.Project(industry_code="3311", investment_wan=1000, footprint_m2=1000)
    offered = {u["unit_id"] for u in landcalc.vacant_units(session, project, None, day)}
    assert offered == {i for i in available if buildings[units[i].building_id].type == BuildingType.STANDARD_FACTORY}
