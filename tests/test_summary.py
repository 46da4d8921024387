"""The bureau-report summary, computed from the registry, against hand-counted figures."""
import datetime as dt

import pytest

from registry.core.enums import BuildingStatus, BuildingType
from registry.core.models import Park
from registry.occupancy.summary import summarize, summarize_parks
from sqlalchemy import select

from . import factories as f
from .conftest import TODAY

D = dt.date


def test_hand_built_park(session):
    p = f.park(session, name="手工园区")
    landlord = f.enterprise(session, "运营公司")
    own = f.enterprise(session, "自建企业有限公司", above_scale=True)
    tenant_a = f.enterprise(session, "租户甲有限公司", above_scale=True)
    tenant_b = f.enterprise(session, "租户乙有限公司")
    idle_holder = f.enterprise(session, "闲置地企业")
    complex_ = f.plot(session, p, holder=landlord)
    std1 = f.building(session, p, complex_, gfa=8000, floors=4, units_per_floor=2)  # 8 units × 1000 m²
    f.building(session, p, complex_, gfa=2000, floors=2, type_=BuildingType.SUPPORTING, units_per_floor=1)
    f.building(session, p, complex_, gfa=9000, floors=3, status=BuildingStatus.UNDER_CONSTRUCTION, completion=None)
    f.building(session, p, complex_, gfa=7000, floors=3, completion=D(2027, 1, 1))  # completed after the date
    own_plot = f.plot(session, p, holder=own, dx=0.003)
    f.building(session, p, own_plot, gfa=5000, floors=1, type_=BuildingType.FACTORY, units_per_floor=0)
    f.plot(session, p, holder=idle_holder, dx=0.006)
    for u in std1.units[:3]:
        f.lease(session, u, tenant_a, D(2025, 1, 1), D(2028, 1, 1))
    f.lease(session, std1.units[3], tenant_b, D(2024, 1, 1), D(2026, 1, 1))  # ended before the date
    f.lease(session, std1.units[4], tenant_b, D(2026, 1, 1), D(2027, 1, 1))
    session.commit()

    s = summarize(session, D(2026, 6, 1), p.id)
    # Built: std1 8000 + supporting 2000 + own factory 5000 = 3 栋 1.50 万㎡
    assert (s.built_count, s.built_gfa_m2) == (3, 15000)
    assert (s.standard_count, s.standard_gfa_m2) == (1, 8000)
    assert (s.construction_count, s.construction_gfa_m2) == (2, 16000)
    assert (s.enterprises, s.above_scale_enterprises) == (3, 2)  # tenants A and B, the own-land firm
    assert s.occupancy.leasable_m2 == 10000 and s.occupancy.leased_m2 == 4000
    assert s.statement() == ("手工园区：已建成厂房及配套用房 3 栋 1.50 万㎡，其中标准化厂房 1 栋 0.80 万㎡；"
                             "在建 2 栋 1.60 万㎡；入驻企业 3 家（规上 2 家）；出租率 40.0%（按面积）")
    later = summarize(session, D(2027, 2, 1), p.id)
    assert (later.built_count, later.construction_count, later.enterprises) == (4, 1, 2)


def test_demo_parks_reproduce_the_reports(demo_session):
    ankang = demo_session.scalar(select(Park.id).where(Park.name == "安康高新技术产业开发区"))
    hanyin = demo_session.scalar(select(Park.id).where(Park.name == "汉阴县月河工业集中区"))
    a = summarize(demo_session, TODAY, ankang)
    # 安康高新集团 (seed 001): 67栋64.24万㎡, 标准化厂房59栋52.01万㎡, 在建37栋60.98万㎡, 40余家企业
    assert "已建成厂房及配套用房 67 栋 64.24 万㎡，其中标准化厂房 59 栋 52.01 万㎡；在建 37 栋 60.98 万㎡" in a.statement()
    assert 40 <= a.enterprises < 50
    h = summarize(demo_session, TODAY, hanyin)
    # 汉阴县月河工业集中区 (seed 001): 标准化厂房38.8万平方米, 入园企业165户, 规上53户
    assert h.standard_gfa_m2 == pytest.approx(388_000) and h.enterprises == 165 and h.above_scale_enterprises == 53
    assert 0.6 < h.occupancy.rate_by_area < 1.0


def test_total_is_the_sum_of_the_parks(demo_session):
    parks = summarize_parks(demo_session, TODAY)
    total = summarize(demo_session, TODAY)
    assert len(parks) == 3
    assert total.built_count == sum(p.built_count for p in parks)
    assert total.occupancy.leased_m2 == pytest.approx(sum(p.occupancy.leased_m2 for p in parks))
    assert total.enterprises <= sum(p.enterprises for p in parks)


@pytest.mark.parametrize("day", [TODAY, dt.date(2019, 6, 30)])
def test_the_home_pages_grouped_figures_equal_the_park_by_park_ones(demo_session, day):
    """The home page computes every park at once; each park's figures are exactly what its own
    summary says, on today and on a past date."""
    grouped = summarize_parks(demo_session, day)
    assert [g.park_name for g in grouped] == sorted(g.park_name for g in grouped)
    for g in grouped:
        one = summarize(demo_session, day, g.park_id)
        assert g.statement() == one.statement()
        for key, value in one.as_dict().items():  # sums of floats may differ in the last bit
            assert g.as_dict()[key] == (pytest.approx(value) if isinstance(value, float) else value), key


def test_the_home_pages_total_equals_the_summary_of_everything(demo_session):
    from registry.occupancy.summary import overview
    _parks, total = overview(demo_session, TODAY)
    everything = summarize(demo_session, TODAY)
    assert total.statement() == everything.statement()
    for key, value in everything.as_dict().items():
        assert total.as_dict()[key] == (pytest.approx(value) if isinstance(value, float) else value), key
