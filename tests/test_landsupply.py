"""供地测算: each control indicator at, just below and just above its limit; the tall-storey rule;
the 2002/2017 crosswalk; bad input named and nothing computed; the standard-factory alternative on
the demo data; the park land balance with idle and low-efficiency plots; CLI, API and pages."""
import datetime as dt
import json

import pytest

from sqlalchemy import select

from registry.core.enums import BuildingType, PlotStatus, Role, UnitStatus
from registry.landsupply import balance, calc, service, tables
from registry.core.models import AnnualIndicator, Park
from registry.core.validation import ValidationError

from .conftest import TODAY
from . import factories as f
from .webhelpers import login_as, make_user

P = calc.Project
MU = 10000 / 15


@pytest.fixture(scope="module")
def national():
    return tables.load("national-2008")


@pytest.fixture(scope="module")
def wenling():
    return tables.load("wenling-2021")


def at_limit(**kw):
    """A project that sits exactly on every limit on 10,000 m² (15 亩) of the Wenling table:
    投资强度 4,050 万元 ÷ 15 亩 = 270; 容积率 7,000 ÷ 10,000 = 0.7 (2017 38 → 2002 39); 建筑系数 30%;
    行政办公用地 7%; 绿地率 20%."""
    base = dict(industry_code="38", investment_wan=4050, footprint_m2=3000, gfa_m2=7000, admin_land_m2=700,
                admin_gfa_m2=500, green_m2=2000, land_m2=10000)
    return P(**{**base, **kw})


@pytest.mark.parametrize("key", ["investment_intensity", "far", "building_coefficient", "admin_land_share", "green_ratio"])
@pytest.mark.parametrize("land, side", [(10000, "at"), (9999, "smaller"), (10001, "larger")])
def test_each_indicator_at_just_below_and_just_above_its_limit(wenling, key, land, side):
    check = {c.key: c for c in calc.calculate(wenling, at_limit(land_m2=land)).checks}[key]
    # Lower limits (投资强度, 容积率, 建筑系数) fail on more land; upper limits (行政用地, 绿地率) on less.
    lower_limit = check.comparator == ">="
    expected = side == "at" or (side == "smaller") == lower_limit
    assert check.ok is expected, (key, land, check)
    assert (check.margin >= -1e-9) is expected


def test_allowed_land_names_the_binding_constraint(wenling):
    r = calc.calculate(wenling, at_limit(land_m2=None, investment_wan=2700))
    # 2,700 万元 ÷ 270 万元/亩 = 10 亩 is the tightest maximum; 绿地 2,000 ÷ 20% = 15 亩 the largest minimum.
    assert r.binding_max == "投资强度" and r.land_max_m2 == pytest.approx(10 * MU)
    assert r.binding_min == "绿地率" and r.land_min_m2 == pytest.approx(10000)
    assert r.verdict.startswith("不符合") and any("可供用地区间为空" in x for x in r.reasons)


def test_storeys_higher_than_8_m_count_twice(national):
    tall = calc.calculate(national, P(industry_code="38", investment_wan=5000, footprint_m2=1000,
                                      storey_heights_m=(9.0, 4.5, 4.5), land_m2=4000))
    assert tall.counted_gfa_m2 == 4000  # 3,000 m² on three storeys, the 9 m ground floor counted twice
    exactly_8 = calc.calculate(national, P(industry_code="38", investment_wan=5000, footprint_m2=1000,
                                           storey_heights_m=(8.0, 4.5, 4.5), land_m2=4000))
    assert exactly_8.counted_gfa_m2 == 3000  # "higher than 8 m": 8 m itself counts once
    given = calc.calculate(national, P(industry_code="38", investment_wan=5000, footprint_m2=1000, gfa_m2=3000,
                                       tall_gfa_m2=1000, land_m2=4000))
    assert given.counted_gfa_m2 == 4000 and {c.key: c for c in given.checks}["far"].value == 1.0


@pytest.mark.parametrize("code, edition, far, ambiguous, note", [
    ("3811", "2017", 0.7, False, "2002 39 电气机械及器材制造业"),
    ("29", "2017", 1.0, True, "取较严格值"),  # 2002 橡胶 0.8 and 塑料 1.0 became one 2017 class
    ("36", "2017", 0.7, True, "亦含 2017 年 37"),  # 2002 交通运输设备 covered 汽车 and 铁路船舶
    ("43", "2017", None, True, "无对应大类"),  # 金属制品、机械和设备修理 is new in 2017
    ("39", "2002", 0.7, False, "GB/T 4754-2017 38"),  # a 2002 code, read as such
])
def test_the_crosswalk_between_2017_and_2002_codes(national, code, edition, far, ambiguous, note):
    r = calc.calculate(national, P(industry_code=code, code_edition=edition, investment_wan=5000, footprint_m2=3000,
                                   gfa_m2=9000, land_m2=10000))
    check = {c.key: c for c in r.checks}["far"]
    assert check.limit == far and r.industry["ambiguous"] is ambiguous
    assert note in r.industry["crosswalk"] + check.note


@pytest.mark.parametrize("code, edition, message", [
    ("38", "2002", "GB/T 4754-2002 制造业中没有大类 38"),  # 2002 had no 38; the 2017 38 is named
    ("37", "2002", "在 2017 版分成了几个大类"),
    ("4411", "2017", "不是 GB/T 4754-2017 的制造业代码"),  # 电力生产: not covered by the indicators
    ("99", "2017", "GB/T 4754-2017 中没有大类 99"),
    ("C38", "2019", "不是代码版本"),
])
def test_code_confusion_is_named(national, code, edition, message):
    with pytest.raises(ValidationError, match=message):
        calc.calculate(national, P(industry_code=code, code_edition=edition, investment_wan=5000, footprint_m2=3000,
                                   gfa_m2=9000))


def test_bad_numbers_and_a_footprint_larger_than_the_land_are_refused_whole(national):
    with pytest.raises(ValidationError) as err:
        calc.calculate(national, P(industry_code="38", investment_wan=0, footprint_m2=-5, gfa_m2=None))
    assert {p.field for p in err.value.problems} == {"project.investment_wan", "project.footprint_m2", "project.gfa_m2"}
    with pytest.raises(ValidationError, match="larger than the land"):
        calc.calculate(national, P(industry_code="38", investment_wan=5000, footprint_m2=12000, gfa_m2=20000,
                                   land_m2=10000))
    with pytest.raises(ValidationError) as err:
        service.parse({"industry_code": "38", "investment_wan": "三千", "footprint_m2": "1000", "land_mu": "5",
                       "land_m2": "3000"})
    assert {p.field for p in err.value.problems} == {"investment_wan", "land_mu"}


def test_commitments_carry_the_local_thresholds_and_deadlines(wenling):
    r = calc.calculate(wenling, at_limit(tax_wan=500, supply_date=dt.date(2026, 3, 31)))
    c = {x["key"]: x for x in r.commitments}
    assert c["tax_per_mu_min"]["threshold"] == 33.2 and c["tax_per_mu_min"]["deadline"] == "2029-03-31"  # 达产 +36
    assert c["investment_intensity_min"]["deadline"] == "2028-03-31"  # 竣工 +24 months
    assert c["tax_per_mu_min"]["project_value"] == pytest.approx(500 / 15) and c["tax_per_mu_min"]["project_meets"]
    assert c["far_min"]["threshold"] == 0.7


def test_tables_are_chosen_by_jurisdiction_and_new_ones_need_no_code(tmp_path, monkeypatch):
    assert tables.for_jurisdiction("331081").id == "wenling-2021"
    assert tables.for_jurisdiction("610902").id == "national-2008"
    (tmp_path / "ankang-2026.toml").write_text('''
id = "ankang-2026"
name = "安康市标准厂房入园规则（测试）"
source = "a test table"
extends = "national-2008"
jurisdictions = ["610900"]
[standard_factory]
max_mu = 15
[controls]
admin_gfa_share_max = 0.15
''', encoding="utf-8")
    monkeypatch.setenv("REGISTRY_LANDSUPPLY_TABLES", str(tmp_path))
    t = tables.for_jurisdiction("610902")  # 汉滨区 → its city 610900
    assert t.id == "ankang-2026" and t.lineage == ("ankang-2026", "national-2008")
    assert t.controls["admin_gfa_share_max"] == 0.15 and t.controls["building_coefficient_min"] == 0.30
    (tmp_path / "broken.toml").write_text('id = "broken"\nname = "x"\nsource = "y"\n[controls]\ngreen_ratio_max = 20\n',
                                          encoding="utf-8")
    with pytest.raises(ValidationError, match="green_ratio_max"):
        tables.load("broken")


def test_the_standard_factory_alternative_lists_exactly_the_matching_demo_units(demo_session, tmp_path, monkeypatch):
    from registry.occupancy.status import unit_states
    (tmp_path / "ankang.toml").write_text('id = "ankang"\nname = "安康（测试）"\nsource = "test"\n'
                                          'extends = "national-2008"\njurisdictions = ["610900"]\n'
                                          '[standard_factory]\nmax_mu = 15\nmax_floor_load_t_m2 = 2\n'
                                          'max_clear_height_m = 8\n', encoding="utf-8")
    monkeypatch.setenv("REGISTRY_LANDSUPPLY_TABLES", str(tmp_path))
    park = demo_session.scalars(select(Park).order_by(Park.id)).first()
    today = TODAY
    req = service.parse({"industry_code": "3911", "investment_wan": "2000", "footprint_m2": "1500", "gfa_m2": "4000",
                         "park": str(park.id), "floor_load_t_m2": "1.0", "clear_height_m": "5", "power_kva": "300"})
    r = service.calculate(demo_session, req, today)
    # Expected, from the rows themselves: leasable units of completed standard factories in the park
    # whose storey carries ≥ 1 t/m² at ≥ 5 m, in buildings with ≥ 300 kVA, vacant today.
    states = unit_states(demo_session, today, park_id=park.id)
    expected = set()
    for b in park.buildings:
        if b.type != BuildingType.STANDARD_FACTORY or b.status.value != "completed" or (b.power_kva or 0) < 300:
            continue
        floors = {fl.level: fl for fl in b.floors}
        for u in b.units:
            fl = floors.get(u.floor_level)
            if (u.leasable and fl and fl.floor_load_t_m2 and fl.floor_load_t_m2 >= 1.0 - 1e-9
                    and (fl.storey_height_m or 0) >= 5 and states[u.id].status == UnitStatus.VACANT):
                expected.add(u.id)
    got = {u["unit_id"] for u in r.standard_factory["units"]}
    assert got == expected and len(got) > 3
    assert r.standard_factory["recommended"] and r.verdict.startswith("建议入驻标准厂房")
    assert r.standard_factory["land_saved_mu"] == pytest.approx(r.land_max_m2 / MU)
    assert all(u["map_url"] == f"/map?b={u['building_id']}" for u in r.standard_factory["units"])


def _balance_park(session):
    park = f.park(session, name="平衡园区")
    today = TODAY
    firms = []
    for i, tax in enumerate((500, 400, 300, 200, 10)):
        e = f.enterprise(session, f"企业{i}", above_scale=True)
        own = f.plot(session, park, holder=e, dx=0.003 * i, certificate_area_m2=20 * MU, supply_date=dt.date(2018, 1, 1))
        f.building(session, park, plot_=own, dx=0.003 * i)
        session.add(AnnualIndicator(enterprise=e, year=today.year - 1, tax_paid_wan=tax, revenue_wan=tax * 20,
                                    value_added_wan=tax * 4, energy_tce=300, employees_avg=50))
        firms.append(e)
    # Two supplied plots without holders: one long ago with nothing built (idle), one with a building.
    idle = f.plot(session, park, dx=0.02, certificate_area_m2=12 * MU, supply_date=dt.date(2020, 6, 1))
    used = f.plot(session, park, dx=0.03, certificate_area_m2=8 * MU, supply_date=dt.date(2020, 6, 1))
    f.building(session, park, plot_=used, dx=0.03)
    f.plot(session, park, dx=0.04, status=PlotStatus.UNSUPPLIED, certificate_area_m2=30 * MU)
    session.commit()
    return park, firms, idle


def test_land_balance_lists_idle_and_d_class_plots(session):
    from registry.evaluation import rulesets, runs
    park, firms, idle = _balance_park(session)
    raw = rulesets.load("huaian-2024").raw
    raw = {**raw, "classification": {"method": "thresholds", "thresholds": [["A", 80], ["B", 50], ["C", 20], ["D", 0]]}}
    runs.run_and_store(session, rulesets.parse(raw), TODAY.year - 1, actor="t")
    session.commit()
    b = balance.land_balance(session, park.id, TODAY)
    rows = {(r["category"], r["code"]) for r in b["rows"]}
    low = [r for r in b["rows"] if r["category"] == "low_efficiency"]
    # Scores against 2 × the pool mean: the firm paying 10 万元 on 20 亩 scores under 20, in D.
    assert [r["holder"] for r in low] == ["企业4"] and low[0]["klass"] == "D" and low[0]["area_mu"] == pytest.approx(20)
    assert ("idle", idle.code) in rows and b["idle_mu"] == pytest.approx(12)
    assert b["unsupplied_mu"] == pytest.approx(30) and b["supplied_mu"] == pytest.approx(120)
    assert [y["year"] for y in b["by_year"]] == [2018, 2020]


def test_land_balance_page_map_and_export(client, session):
    import io

    from openpyxl import load_workbook
    park, _, _ = _balance_park(session)
    login_as(client, make_user(session, "ls_admin", Role.ADMIN))
    session.commit()
    page = client.get(f"/parks/{park.id}/land").get_data(as_text=True)
    assert "土地利用台账" in page and 'id="land-geojson"' in page and "闲置" in page
    wb = load_workbook(io.BytesIO(client.get(f"/parks/{park.id}/land?format=xlsx").data))
    assert wb["数据"]["A1"].value == "类别" and wb["数据"].max_row >= 3


def test_calculator_page_api_and_cli(client, session, runner):
    park = f.park(session, name="测算园区")
    login_as(client, make_user(session, "ls_staff", Role.INVESTMENT))
    session.commit()
    query = f"industry_code=3811&investment_wan=30000&footprint_m2=20000&storey_heights=9,4.5&green_m2=5000&land_mu=70&park={park.id}"
    page = client.get(f"/landcalc?{query}")
    assert page.status_code == 200 and "符合用地控制指标" in page.get_data(as_text=True)
    bad = client.get("/landcalc?industry_code=38&code_edition=2002&investment_wan=1&footprint_m2=1&gfa_m2=1")
    assert bad.status_code == 400 and "GB/T 4754-2002 制造业中没有大类" in bad.get_data(as_text=True)
    api = client.get(f"/api/landcalc?{query}").get_json()
    assert api["verdict"].startswith("符合") and api["counted_gfa_m2"] == 60000
    assert client.application.test_client().get(f"/api/landcalc?{query}").status_code == 401
    err = client.get("/api/landcalc?industry_code=38&investment_wan=-1&footprint_m2=10&gfa_m2=10")
    assert err.status_code == 400 and err.get_json()["errors"][0]["field"] == "investment_wan"  # the parameter sent
    out = runner("landcalc", "--industry-code", "3811", "--investment-wan", "30000", "--footprint-m2", "20000",
                 "--storey-heights", "9,4.5", "--land-mu", "70", "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["binding_max"] == "建筑系数"
    refused = runner("landcalc", "--industry-code", "3811", "--investment-wan", "0", "--footprint-m2", "10", "--gfa-m2", "10")
    assert refused.exit_code == 1 and "investment_wan" in refused.output
    assert "national-2008" in runner("landcalc", "--tables").output


def test_yields_are_compared_with_the_park_and_the_latest_evaluation(session):
    from registry.evaluation import runs

    from .test_evaluation_outputs import build_bureau
    world = build_bureau(session)
    runs.create_run(session, ruleset="huaian-2024", year=2025, actor="t")
    session.commit()
    park = world["parks"]["甲园区"]
    req = service.parse({"industry_code": "3811", "investment_wan": "5000", "footprint_m2": "3000", "gfa_m2": "6000",
                         "land_mu": "10", "tax_wan": "600", "output_wan": "12000", "jobs": "80", "park": str(park.id)})
    y = service.calculate(session, req, TODAY).yields
    # 甲园区 now: 500 万元 tax on 40 亩 = 12.5; the project: 600 ÷ 10 = 60 万元/亩, best of the pool.
    assert y["park_tax_per_mu"] == pytest.approx(12.5) and y["tax_per_mu"] == pytest.approx(60)
    assert y["vs_park_tax"] == pytest.approx(4.8)
    assert y["would_rank"]["class"] == "A" and y["would_rank"]["rank"] == 1 and y["would_rank"]["pool_size"] == 4
    weak = service.parse({"industry_code": "3811", "investment_wan": "5000", "footprint_m2": "3000", "gfa_m2": "6000",
                          "land_mu": "10", "tax_wan": "1", "output_wan": "2100", "park": str(park.id)})
    assert service.calculate(session, weak, TODAY).yields["would_rank"]["rank"] == 4
