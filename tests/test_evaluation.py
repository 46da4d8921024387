"""亩均 evaluation: the Huangyan preset against hand-computed scores, classes by percentile with ties
and tiny pools, every edge case explained, rule-set validation, and file mode end to end."""
import json

import pytest
from openpyxl import load_workbook

from registry.evaluation import engine, rulesets
from registry.core.validation import ValidationError, make_uscc

E = engine.EnterpriseInput


def code(n: int) -> str:
    return make_uscc("331003", f"{n:08d}")


@pytest.fixture(scope="module")
def huangyan():
    return rulesets.load("huangyan-2022")


# Hand-computed with a calculator from the published weights and benchmarks (domain.md §1.4):
# 甲: 亩均税收 30 → 30/24.097×30 = 37.35; 亩均增加值 150 → 150/136.16×20 = 22.03;
#     单位能耗增加值 3.0 → 3/2.694×20 = 22.27; 单位排放增加值 5000 → 5000/4929.81×10 = 10.14;
#     全员劳动生产率 18.75 → 18.75/18.14×10 = 10.34; R&D 0.03 → 0.03/0.0302×10 = 9.93; total 112.07.
# 乙: 10/24.097×30 = 12.45; 100/136.16×20 = 14.69; 2/2.694×20 = 14.85; no emission data → the pool's
#     average item score 10.14; 13.333/18.14×10 = 7.35; 0.02/0.0302×10 = 6.62; total 66.10.
HAND = {
    code(1): ([37.35, 22.03, 22.27, 10.14, 10.34, 9.93], 112.07),
    code(2): ([12.45, 14.69, 14.85, 10.14, 7.35, 6.62], 66.10),
}


def two_firms():
    return [E(code(1), "甲", "3311", True, 10, 300, 1500, 2000, energy_tce=500, emissions_t=0.3, rnd_wan=60, employees=80),
            E(code(2), "乙", "3311", True, 20, 200, 2000, 5000, energy_tce=1000, emissions_t=None, rnd_wan=100, employees=150)]


def test_huangyan_reproduces_hand_computed_scores(huangyan):
    run = engine.evaluate(huangyan, two_firms())
    for r in run.results:
        items, total = HAND[r.uscc]
        assert [round(i.score, 2) for i in r.items] == pytest.approx(items, abs=0.01)
        assert r.total == pytest.approx(total, abs=0.01)
    second = next(r for r in run.results if r.uscc == code(2))
    assert "按本组该项平均得分 10.14" in second.items[3].note
    assert "24.097" in second.items[0].note and "10.0000 ÷ 24.0970 × 30" in second.items[0].note


def test_below_scale_pool_uses_tax_per_electricity(huangyan):
    firm = E(code(3), "丙", "3311", False, 8, 40, revenue_wan=900, electricity_kwh=500_000)
    r = engine.evaluate(huangyan, [firm]).results[0]
    # 亩均税收 5 → 5/11.5932×50 = 21.56; 单位电耗税收 40/50 = 0.8 万元/万kWh → 0.8/0.2352×50 = 170.07
    assert r.pool == "规下" and [round(i.score, 2) for i in r.items] == [21.56, 170.07] and r.klass == "A"


def _pool(totals):
    """Firms whose 规上 total is proportional to their tax (all other indicators equal)."""
    return [E(code(100 + i), f"企业{i}", "3311", True, 10, t, 1000, 2000, energy_tce=400, emissions_t=0.2,
              rnd_wan=40, employees=60) for i, t in enumerate(totals)]


def test_percentile_splits_of_a_pool_of_twenty(huangyan):
    run = engine.evaluate(huangyan, _pool([100 + 10 * i for i in range(20)]))
    classes = [r.klass for r in sorted(run.results, key=lambda r: r.rank)]
    assert classes == ["A"] * 4 + ["B"] * 8 + ["C"] * 7 + ["D"]


def test_ties_share_rank_and_class(huangyan):
    # Ranks 1..20 but the 4th and 5th tie on the A/B boundary: both are A (the better class).
    taxes = [300 - 10 * i for i in range(20)]
    taxes[4] = taxes[3]
    run = engine.evaluate(huangyan, _pool(taxes))
    by_rank = sorted(run.results, key=lambda r: (r.rank, r.uscc))
    assert [r.rank for r in by_rank[:6]] == [1, 2, 3, 4, 4, 6]
    assert [r.klass for r in by_rank[:6]] == ["A", "A", "A", "A", "A", "B"]


@pytest.mark.parametrize("n, classes", [(1, ["A"]), (2, ["A", "B"]), (3, ["A", "B", "C"])])
def test_tiny_pools(huangyan, n, classes):
    run = engine.evaluate(huangyan, _pool([300 - 10 * i for i in range(n)]))
    assert [r.klass for r in sorted(run.results, key=lambda r: r.rank)] == classes


def test_edge_cases_are_explained(huangyan):
    base = dict(industry_code="3311", above_scale=True, value_added_wan=1000, revenue_wan=2000, emissions_t=0.2,
                rnd_wan=40, employees=60)
    firms = [
        E(code(201), "无地", land_mu=0, tax_wan=100, energy_tce=300, **base),
        E(code(202), "退税", land_mu=10, tax_wan=-50, energy_tce=300, **base),
        E(code(203), "零能耗", land_mu=10, tax_wan=100, energy_tce=0, **base),
        E(code(204), "水厂", land_mu=10, tax_wan=100, energy_tce=300, **{**base, "industry_code": "4610"}),
        E(code(205), "租户", land_mu=None, tax_wan=100, energy_tce=300, own_land=False, **base),
        E(code(206), "正常", land_mu=10, tax_wan=100, energy_tce=300, **base),
    ]
    res = {r.name: r for r in engine.evaluate(huangyan, firms).results}
    assert res["无地"].klass is None and "用地面积为 0" in res["无地"].reasons[0]
    assert res["退税"].items[0].score < 0 and "数值为负" in res["退税"].items[0].note
    energy = res["零能耗"].items[2]
    assert energy.value is None and "分母为零" in energy.note and "平均得分" in energy.note
    assert res["水厂"].klass == "T" and "公用事业" in res["水厂"].reasons[0]
    assert res["租户"].klass is None and "单列名单" in res["租户"].reasons[0]
    assert res["正常"].klass in "ABCD"


def test_t_class_for_young_firms_and_prior_mean_fallback():
    rs = rulesets.load("huaian-2024")
    firms = [E(code(301), "新厂", "3311", True, 10, 100, revenue_wan=3000, energy_tce=200, years_in_production=1),
             E(code(302), "老厂", "3311", True, 10, 100, revenue_wan=3000, energy_tce=200, years_in_production=5),
             E(code(303), "另一家", "3311", True, 10, 200, revenue_wan=3000, energy_tce=200, years_in_production=5)]
    res = {r.name: r for r in engine.evaluate(rs, firms).results}
    assert res["新厂"].klass == "T" and "不足 2 年" in res["新厂"].reasons[0]
    # No prior-year means in the preset: 2 × current pool mean, and the explanation says so.
    item = res["老厂"].items[0]
    assert item.benchmark == pytest.approx(2 * 15.0) and "未提供上年均值" in item.note


def test_veto_and_manual_adjustment():
    rs = rulesets.load("huangyan-2022")
    firms = _pool([300, 200, 100])
    firms[0] = E(**{**firms[0].__dict__, "veto": "安全生产事故"})
    firms[2] = E(**{**firms[2].__dict__, "adjust_to": "B", "adjust_reason": "政策性搬迁"})
    res = {r.uscc: r for r in engine.evaluate(rs, firms).results}
    assert res[firms[0].uscc].klass == "D" and "一票否决" in res[firms[0].uscc].reasons[-1]
    assert res[firms[2].uscc].klass == "B" and "政策性搬迁" in res[firms[2].uscc].reasons[-1]


def test_same_inputs_same_run_and_fingerprint(huangyan):
    a, b = engine.evaluate(huangyan, two_firms()), engine.evaluate(huangyan, list(reversed(two_firms())))
    assert a.fingerprint == b.fingerprint and a.to_json() == b.to_json()
    # Versioned, in the 64 characters a stored run keeps.
    assert a.fingerprint.startswith("v2-") and len(a.fingerprint) == 64
    changed = two_firms()
    changed[0] = E(**{**changed[0].__dict__, "tax_wan": 301})
    assert engine.evaluate(huangyan, changed).fingerprint != a.fingerprint


def test_rule_sets_are_validated_with_named_fields(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = "x"\nsource = ""\njurisdiction = "331003"\nyear = 2022\n'
                   '[energy]\nelectricity_kgce_per_kwh = 0.1229\nnatural_gas_kgce_per_m3 = 1.2\ncoal_tce_per_t = 0.7\n'
                   '[[pools]]\nname = "a"\n[[pools.indicators]]\nkey = "tax_per_mu"\nweight = -3\nbenchmark = { fixed = 1 }\n'
                   '[classification]\nmethod = "percentile"\nsplits = [["A", 50], ["B", 40]]\n', encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        rulesets.load(str(bad))
    text = str(exc.value)
    assert "ruleset.source" in text and "ruleset.pools[0].indicators[0].weight" in text
    assert "ruleset.classification.splits" in text
    with pytest.raises(ValidationError, match="neither a preset nor a file"):
        rulesets.load("nowhere-2099")


def _filled_template(runner, tmp_path, rows):
    path = tmp_path / "enterprises.xlsx"
    result = runner("evaluate", "template", "--out", str(path))
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    ws = wb["企业数据"]
    header = [c.value for c in ws[1]]
    for row in rows:
        ws.append([row.get(h) for h in header])
    wb.save(path)
    return path


def test_file_mode_end_to_end(runner, tmp_path, libreoffice):
    rows = [{"统一社会信用代码": code(1), "企业名称": "甲", "行业代码": "3311", "规模": "规上", "用地面积(亩)": 10,
             "实缴税金(万元)": 300, "工业增加值(万元)": 1500, "营业收入(万元)": 2000, "综合能耗(吨标准煤)": 500,
             "主要污染物排放量(吨)": 0.3, "研发经费(万元)": 60, "年平均职工人数": 80, "所在园区": "黄岩经济开发区"},
            {"统一社会信用代码": code(2), "企业名称": "乙", "行业代码": "3311", "规模": "规上", "用地面积(亩)": "２０",
             "实缴税金(万元)": 200, "工业增加值(万元)": 2000, "营业收入(万元)": 5000, "综合能耗(吨标准煤)": 1000,
             "研发经费(万元)": 100, "年平均职工人数": 150},
            {"统一社会信用代码": code(5), "企业名称": "自来水公司", "行业代码": "4610", "规模": "规上", "用地面积(亩)": 30}]
    src = _filled_template(runner, tmp_path, rows)
    out = tmp_path / "result.xlsx"
    result = runner("evaluate", "file", "--ruleset", "huangyan-2022", "--year", "2022", "--from", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert {"汇总", "规上", "规下", "不参评及单列", "评价方法"} <= set(wb.sheetnames)
    ws = wb["规上"]
    first = [c.value for c in ws[2]]
    assert first[:4] == [1, "A", code(1), "甲"] and first[-2] == pytest.approx(112.07, abs=0.01)
    assert wb["不参评及单列"]["A2"].value == "T"
    assert "24.097" in " ".join(str(c.value) for row in wb["评价方法"].iter_rows() for c in row)
    # The office suite opens it: LibreOffice converts the summary sheet without an error.
    assert "黄岩" in libreoffice(out, "csv").read_text(encoding="utf-8")
    as_json = json.loads(runner("evaluate", "file", "--ruleset", "huangyan-2022", "--from", str(src), "--format", "json").output)
    assert as_json["fingerprint"] and len(as_json["results"]) == 3


def test_file_mode_names_bad_cells_and_writes_nothing(runner, tmp_path):
    rows = [{"统一社会信用代码": "91110108551385082R", "企业名称": "坏码", "规模": "规上", "用地面积(亩)": 10},
            {"统一社会信用代码": code(7), "企业名称": "坏数", "规模": "中型", "用地面积(亩)": "十亩"}]
    src = _filled_template(runner, tmp_path, rows)
    out = tmp_path / "result.xlsx"
    result = runner("evaluate", "file", "--ruleset", "huangyan-2022", "--from", str(src), "--out", str(out))
    assert result.exit_code == 1 and not out.exists()
    assert "第2行 [统一社会信用代码]" in result.output and "第3行 [规模]" in result.output
    assert "第3行 [用地面积(亩)]" in result.output
    assert "does not match" in runner("evaluate", "file", "--ruleset", "huangyan-2022", "--year", "2023", "--from", str(src),
                                      "--out", str(out)).output


# --- from the registry, on both backends -----------------------------------------------------

def _registry_park(session, strategy):
    """A landlord on a 30-亩 plot with a 6,000 m² building; a tenant leasing 1,500 m² of it; an
    owner-occupier on its own 20-亩 plot. All have 2024 indicators."""
    import datetime as dt

    from registry.core.models import AnnualIndicator
    from . import factories as f
    p = f.park(session)
    landlord = f.enterprise(session, "房东公司", above_scale=True)
    tenant = f.enterprise(session, "租户公司", above_scale=True)
    owner = f.enterprise(session, "自有地公司", above_scale=True)
    plot = f.plot(session, p, holder=landlord, certificate_area_m2=30 * 666.6666667, supply_date=dt.date(2015, 1, 1))
    f.plot(session, p, holder=owner, dx=0.004, certificate_area_m2=20 * 666.6666667, supply_date=dt.date(2016, 1, 1))
    b = f.building(session, p, plot, gfa=6000, floors=3, units_per_floor=2)  # units of 1,000 m²
    f.lease(session, b.units[0], tenant, dt.date(2023, 1, 1), dt.date(2027, 1, 1))
    b.units[1].leasable_area_m2 = 500
    f.lease(session, b.units[1], tenant, dt.date(2023, 1, 1), dt.date(2027, 1, 1))
    for e, tax in ((landlord, 300), (tenant, 150), (owner, 400)):
        session.add(AnnualIndicator(enterprise=e, year=2024, revenue_wan=5000, value_added_wan=1000, tax_paid_wan=tax,
                                    energy_tce=500, employees_avg=50))
    session.commit()
    rs = rulesets.load("huaian-2024")
    raw = {**rs.raw, "scope": {**rs.raw["scope"], "tenants": strategy, "min_years_in_production": 0}}
    return p, rulesets.parse(raw), {"landlord": landlord, "tenant": tenant, "owner": owner}


@pytest.mark.parametrize("strategy", ["separate", "apportion", "merge"])
def test_tenant_land_strategies(session, strategy):
    from registry.evaluation import runs
    park, rs, firms = _registry_park(session, strategy)
    recs = {r.name: r for r in runs.records_from_registry(session, rs, 2024)}
    assert recs["房东公司"].land_mu == pytest.approx(30) and recs["自有地公司"].land_mu == pytest.approx(20)
    tenant = recs["租户公司"]
    if strategy == "separate":
        assert tenant.land_mu is None and tenant.own_land is False
    elif strategy == "apportion":
        # 30 亩 × 1,000 ÷ 6,000 + 30 亩 × 500 ÷ 6,000 = 5 + 2.5 = 7.5 亩
        assert tenant.land_mu == pytest.approx(7.5) and "30.00 亩 × 1000 ㎡ ÷ 6000 ㎡" in tenant.land_formula
    else:
        assert tenant.own_land is False and "房东公司" in tenant.land_formula
        assert recs["房东公司"].tax_wan == 450  # the tenant's tax counted with the landlord's


def test_stored_runs_are_complete_reproducible_and_immutable(session):
    from registry.evaluation import runs
    from registry.core.models import EvaluationRun
    _, rs, _ = _registry_park(session, "apportion")
    first = runs.run_and_store(session, rs, 2024, actor="tester")
    session.commit()
    second = runs.run_and_store(session, rs, 2024, actor="tester")
    session.commit()
    assert first.fingerprint == second.fingerprint
    assert [(r.uscc, r.total, r.klass) for r in first.results] == [(r.uscc, r.total, r.klass) for r in second.results]
    assert first.ruleset["id"] == "huaian-2024" and all(r.items for r in first.results if r.pool)
    first.results[0].klass = "A" if first.results[0].klass != "A" else "D"
    with pytest.raises(ValidationError, match="cannot be changed"):
        session.flush()
    session.rollback()
    session.delete(session.get(EvaluationRun, first.id))
    with pytest.raises(ValidationError, match="cannot be changed or deleted"):
        session.flush()
    session.rollback()


def test_registry_mode_on_the_demo_data(runner):
    runner("demo", "--today", "2026-11-23")
    result = runner("evaluate", "registry", "--ruleset", "huaian-2024", "--year", "2025", "--park", "汉阴县月河工业集中区")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("run #1 (huaian-2024, 2025, park:") and " A " in result.output
