"""亩均评价 outputs: park figures with year-over-year change, the pages for the bureau and investment
staff (and no one else), charts as SVG and PNG, and the exports read back by their real readers
(openpyxl, Python's csv, LibreOffice)."""
import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from registry.core.enums import Role
from registry.evaluation import publish, rulesets, runs
from registry.core.models import AnnualIndicator, EvaluationRun

from . import factories as f
from .webhelpers import login_as, make_user, post

MU = 10000 / 15  # m² per 亩
# Per enterprise: park, land (亩), and (tax, revenue, value added, employees) for 2024 and 2025.
FIRMS = {
    "甲一精密": ("甲园区", 10, {2024: (200, 4000, 900, 50), 2025: (300, 5000, 1000, 50)}),
    "甲二机械": ("甲园区", 20, {2024: (200, 3500, 700, 100), 2025: (200, 4000, 800, 100)}),
    "乙一电子": ("乙园区", 10, {2024: (250, 5000, 1200, 60), 2025: (500, 6000, 1500, 60)}),
}


@pytest.fixture
def bureau(session):
    return build_bureau(session)


def build_bureau(session):
    """Two parks: 甲 with two firms on 30 亩 plus 10 亩 supplied but unused; 乙 with one firm on 10 亩.
    Indicators for 2024 and 2025, and one user per role."""
    parks = {name: f.park(session, name=name) for name in ("甲园区", "乙园区")}
    firms = {}
    for i, (name, (park, mu, years)) in enumerate(FIRMS.items()):
        e = f.enterprise(session, name, above_scale=True, industry="3311" if i < 2 else "3971")
        f.plot(session, parks[park], holder=e, dx=0.003 * i, certificate_area_m2=mu * MU,
               supply_date=dt.date(2019, 5, 1))
        for year, (tax, revenue, va, staff) in years.items():
            session.add(AnnualIndicator(enterprise=e, year=year, tax_paid_wan=tax, revenue_wan=revenue,
                                        value_added_wan=va, energy_tce=400, employees_avg=staff))
        firms[name] = e
    f.plot(session, parks["甲园区"], dx=0.012, certificate_area_m2=10 * MU, supply_date=dt.date(2021, 3, 1))
    users = {role: make_user(session, role.value, role, [parks["甲园区"]]) for role in Role}  # staff of 甲园区
    session.commit()
    return {"parks": parks, "firms": firms, "users": users}


def _run(session, year, ruleset="huaian-2024"):
    run = runs.create_run(session, ruleset=ruleset, year=year, actor="bureau")
    session.commit()
    return run


def test_park_figures_use_supplied_land_and_compare_with_last_year(session, bureau):
    _run(session, 2024)
    run = _run(session, 2025)
    rows = {p["park"]: p for p in runs.park_ranking(session, run)}
    jia, yi = rows["甲园区"], rows["乙园区"]
    # 甲: 40 亩 supplied (two firms' 30 + 10 unused); 2025 tax 500 → 12.5 万元/亩; revenue 9,000 → 225;
    # value added 1,800 → 45; revenue per employee 9,000 ÷ 150 = 60.
    assert jia["land_mu"] == pytest.approx(40) and jia["land_basis"] == "supplied" and jia["enterprises"] == 2
    assert (jia["tax_per_mu"], jia["revenue_per_mu"], jia["value_added_per_mu"], jia["revenue_per_employee"]) == \
        pytest.approx((12.5, 225, 45, 60))
    assert yi["tax_per_mu"] == pytest.approx(50) and (yi["rank"], jia["rank"]) == (1, 2)
    # 2024: 甲 400 ÷ 40 = 10 → +25 %; 乙 250 ÷ 10 = 25 → +100 %.
    assert jia["change"]["tax_per_mu"] == pytest.approx(25) and yi["change"]["tax_per_mu"] == pytest.approx(100)
    assert sum(jia["classes"].values()) == 2 and sum(yi["classes"].values()) == 1


def test_built_up_area_basis_and_missing_prior_year(session, bureau):
    bureau["parks"]["乙园区"].built_area_mu = 25.0
    session.commit()
    rs = rulesets.load("huaian-2024")
    raw = {**rs.raw, "parks": {"land": "built_up", "rank_by": "revenue_per_mu"}}
    run = runs.run_and_store(session, rulesets.parse(raw), 2025, actor="t")
    session.commit()
    rows = {p["park"]: p for p in runs.park_ranking(session, run)}
    # 乙 has a built-up area (25 亩: 6,000 ÷ 25 = 240); 甲 has none recorded, so its firms' 30 亩 are used.
    assert rows["乙园区"]["land_mu"] == 25 and rows["乙园区"]["revenue_per_mu"] == pytest.approx(240)
    assert rows["甲园区"]["land_basis"] == "enterprises" and rows["甲园区"]["land_mu"] == pytest.approx(30)
    assert rows["甲园区"]["prior"] is None and rows["甲园区"]["change"]["tax_per_mu"] is None


def test_policy_list_counts_consecutive_years_in_a_class(session, bureau):
    rs = rulesets.load("huaian-2024")
    # Thresholds that put everyone in D, two years running: the surcharge of the second tier.
    raw = {**rs.raw, "classification": {"method": "thresholds", "thresholds": [["A", 900], ["B", 800], ["C", 700], ["D", 0]]}}
    for year in (2024, 2025):
        runs.run_and_store(session, rulesets.parse(raw), year, actor="t")
    session.commit()
    latest = session.query(EvaluationRun).order_by(EvaluationRun.id.desc()).first()
    table = publish.policy_table(session, latest)
    assert {(r["name"], r["years"], r["amount"]) for r in table.rows} == {
        (name, 2, 0.10) for name in FIRMS}
    assert all("差别化电价" in r["measure"] for r in table.rows)


def test_publication_list_by_class_without_scores(session, bureau):
    run = _run(session, 2025)
    table = publish.publication_table(run)
    assert [r["klass"] for r in table.rows] == sorted(r["klass"] for r in table.rows)
    assert {c.key for c in table.columns} == {"klass", "no", "name", "uscc", "park", "pool"}
    assert table.title.startswith("淮安市") and any("公示期 7 天" in n for n in table.notes)


@pytest.mark.parametrize("role, status", [("viewer", 403), ("park_manager", 403), ("investment", 200), ("bureau", 200),
                                          ("admin", 200)])
def test_evaluation_pages_are_for_the_bureau_investment_and_admins(client, bureau, role, status):
    login_as(client, bureau["users"][Role(role)])
    assert client.get("/evaluation").status_code == status


def test_only_the_bureau_and_admins_create_runs(client, bureau):
    login_as(client, bureau["users"][Role.INVESTMENT])
    assert post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "2025"}).status_code == 403
    client.get("/", follow_redirects=False)
    anonymous = client.application.test_client()
    assert anonymous.get("/evaluation").status_code == 302


def test_bureau_runs_an_evaluation_and_filters_the_ranking(client, bureau):
    login_as(client, bureau["users"][Role.BUREAU])
    bad = post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "1999"})
    assert bad.status_code == 400 and "1999" in bad.get_data(as_text=True)
    typo = post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "二〇二五"}).get_data(as_text=True)
    assert re.search(r'name="year"[^>]*value="二〇二五"><span class="field-problem"', typo)
    assert 'name="park"' in typo and typo.count('class="field-problem"') == 1
    resp = post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "2025"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert all(name in page for name in FIRMS) and "淮安市" in page
    by_park = client.get(resp.headers["Location"] + "?park=乙园区").get_data(as_text=True)
    assert "乙一电子" in by_park and "甲一精密" not in by_park
    by_industry = client.get(resp.headers["Location"] + "?industry=39").get_data(as_text=True)
    assert "乙一电子" in by_industry and "甲二机械" not in by_industry
    by_class = client.get(resp.headers["Location"] + "?klass=A").get_data(as_text=True)
    assert by_class.count("evaluation/1/enterprise/") == 1
    assert "甲二机械" in client.get(resp.headers["Location"] + "?q=甲二").get_data(as_text=True)


def test_enterprise_page_explains_every_item_and_shows_history(client, session, bureau):
    _run(session, 2024)
    run = _run(session, 2025)
    login_as(client, bureau["users"][Role.INVESTMENT])
    uscc = bureau["firms"]["甲一精密"].uscc
    page = client.get(f"/evaluation/{run.id}/enterprise/{uscc}").get_data(as_text=True)
    for label in ("亩均税收", "亩均营业收入", "单位能耗税收", "计算过程", "自有地块 10.00 亩", "基准值"):
        assert label in page
    assert "2024" in page and "2025" in page and f"/evaluation/{run.id}/chart/trend.svg?uscc={uscc}" in page
    assert client.get(f"/evaluation/{run.id}/enterprise/91000000000000000X").status_code == 404


def test_park_ranking_page_shows_the_change(client, session, bureau):
    _run(session, 2024)
    run = _run(session, 2025)
    login_as(client, bureau["users"][Role.BUREAU])
    page = client.get(f"/evaluation/{run.id}/parks").get_data(as_text=True)
    assert "+100.0%" in page and "+25.0%" in page and "已供工业用地" in page


@pytest.mark.parametrize("kind", ["distribution", "classes", "parks", "trend"])
def test_charts_as_svg_and_png(client, session, bureau, kind):
    _run(session, 2024)
    run = _run(session, 2025)
    login_as(client, bureau["users"][Role.BUREAU])
    svg = client.get(f"/evaluation/{run.id}/chart/{kind}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert ET.fromstring(svg.data).tag.endswith("svg")
    png = client.get(f"/evaluation/{run.id}/chart/{kind}.png?download=1")
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n" and "attachment" in png.headers["Content-Disposition"]
    assert client.get(f"/evaluation/{run.id}/chart/pie.svg").status_code == 400


def test_exports_open_in_their_readers(client, session, bureau, libreoffice, tmp_path):
    _run(session, 2024)
    run = _run(session, 2025)
    login_as(client, bureau["users"][Role.BUREAU])
    book = client.get(f"/evaluation/{run.id}/export/workbook.xlsx")
    assert book.status_code == 200
    wb = load_workbook(io.BytesIO(book.data))
    assert {"汇总", "规上", "园区排名", "评价方法"} <= set(wb.sheetnames)
    pool = wb["规上"]
    assert pool.freeze_panes == "E2" and pool["B2"].fill.fgColor.rgb.endswith("C6EFCE")  # rank 1 is class A
    assert [row[1].value for row in wb["园区排名"].iter_rows(min_row=2)] == ["乙园区", "甲园区"]
    path = tmp_path / "result.xlsx"
    path.write_bytes(book.data)
    assert "淮安市" in libreoffice(path, "csv").read_text(encoding="utf-8")

    results = client.get(f"/evaluation/{run.id}/export/results.csv")
    assert results.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(results.data.decode("utf-8-sig"))))
    assert {r["企业名称"] for r in rows} == set(FIRMS) and all(r["总分"] for r in rows)
    publication = load_workbook(io.BytesIO(client.get(f"/evaluation/{run.id}/export/publication.xlsx").data))
    assert publication["数据"]["A1"].value == "评价等级" and publication["数据"].max_row == 4
    policy = client.get(f"/evaluation/{run.id}/export/policy.csv").data.decode("utf-8-sig")
    assert policy.splitlines()[0].startswith("等级,企业名称")
    assert client.get(f"/evaluation/{run.id}/export/secrets.csv").status_code == 404
