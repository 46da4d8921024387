"""Rent roll, expiry schedule and vacancy: pages, .xlsx read back by openpyxl, CSV with BOM."""
import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from registry.core import tabular
from registry.occupancy import reports

from . import factories as f
from .webhelpers import build_world, login_as

D = dt.date


@pytest.fixture
def world(session):
    w = build_world(session)
    # A second tenant whose lease ends within 30 days of 2026-06-01.
    f.lease(session, w.building_a.units[1], f.enterprise(session, "=HYPERLINK(\"x\")公司"), D(2025, 6, 1), D(2026, 6, 20))
    session.commit()
    return w


@pytest.fixture
def staff_a(client, world):
    """Park A's manager: its rent roll and reports are theirs to read."""
    login_as(client, world.manager_a)
    return client


def test_rent_roll_xlsx_has_frozen_chinese_headers_formats_and_urgency_colours(staff_a, world):
    resp = staff_a.get(f"/parks/{world.park_a.id}/reports/rent-roll?as_of=2026-06-01&format=xlsx")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["楼栋编号", "楼栋名称", "楼层", "单元", "面积(㎡)"] and "剩余天数" in header
    assert ws.freeze_panes == "A2"
    rows = {r[3].value: r for r in ws.iter_rows(min_row=2)}
    assert len(rows) == 6
    urgent = rows[world.building_a.units[1].code]
    assert urgent[header.index("剩余天数")].value == 19
    assert urgent[0].fill.fgColor.rgb.endswith("F8CBAD")  # red: ≤ 30 days
    assert urgent[header.index("面积(㎡)")].number_format == "#,##0.00"
    assert urgent[header.index("到期日")].value.date() == D(2026, 6, 19)
    # A tenant name that looks like a formula is neutralised.
    assert urgent[header.index("租户/意向客户")].value.startswith("'=")


def test_csv_has_a_bom_and_opens_as_utf8(staff_a, world):
    resp = staff_a.get(f"/parks/{world.park_a.id}/reports/vacancy?as_of=2026-06-01&format=csv")
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["楼栋", "名称", "类型"]
    total = rows[-1]
    assert total[0] == "合计" and total[4] == "4" and total[7] == "66.7%"


def test_expiry_schedule_groups_by_month_with_share_of_building(session, world):
    table = reports.expiry_schedule(session, world.park_a.id, D(2026, 6, 1))
    by_month = {r["month"]: r for r in table.rows}
    assert by_month["2026-06"]["area"] == 1000 and by_month["2026-06"]["share"] == pytest.approx(1 / 6)
    assert by_month["2026-12"]["year_area"] == 2000  # both end in 2026


def test_report_pages_render(staff_a, world):
    for kind in ("rent-roll", "expiry", "vacancy"):
        resp = staff_a.get(f"/parks/{world.park_a.id}/reports/{kind}?as_of=2026-06-01")
        assert resp.status_code == 200 and "下载 Excel" in resp.get_data(as_text=True)
    assert staff_a.get(f"/parks/{world.park_a.id}/reports/vacancy?format=pdf").status_code == 400


def test_formula_injection_is_neutralised_in_csv_too():
    table = tabular.Table("t", [tabular.Column("a", "A")], [{"a": "=1+1"}, {"a": "@SUM(A1)"}, {"a": "-3"}, {"a": "正常"}])
    text = tabular.to_csv(table).decode("utf-8-sig")
    assert "'=1+1" in text and "'@SUM(A1)" in text and "'-3" in text and "\r\n正常" in text


def test_the_expiry_follow_up_lists_whom_to_call_and_what_is_settled(staff_a, world, session):
    """到期跟进 on 2026-11-01, 90 days ahead: park A's tenant (2026-12-31, not renewed, with its
    contact), a tenant already renewed, and a unit already re-let; sortable and downloadable."""
    tenant = world.lease_a.enterprise
    tenant.contact_name, tenant.contact_phone = "刘经理", "0915-8880001"
    renewed = f.enterprise(session, "续约企业有限公司")
    f.lease(session, world.building_a.units[2], renewed, D(2024, 1, 1), D(2026, 12, 16))
    f.lease(session, world.building_a.units[2], renewed, D(2026, 12, 16), D(2029, 12, 16))
    leaving = f.enterprise(session, "将离开有限公司")
    f.lease(session, world.building_a.units[3], leaving, D(2024, 1, 1), D(2026, 11, 21))
    f.lease(session, world.building_a.units[3], f.enterprise(session, "接手企业有限公司"), D(2027, 1, 1), D(2030, 1, 1))
    session.commit()
    table = reports.expiry_followup(session, world.park_a.id, D(2026, 11, 1))
    by_tenant = {r["tenant"]: r for r in table.rows}
    assert set(by_tenant) == {"甲租户有限公司", "续约企业有限公司", "将离开有限公司"}
    mine = by_tenant["甲租户有限公司"]
    assert (mine["contact"], mine["phone"], mine["last_day"], mine["days_left"], mine["renewal"]) == \
        ("刘经理", "0915-8880001", D(2026, 12, 31), 61, "未续签")
    assert by_tenant["续约企业有限公司"]["renewal"] == "已续租" and by_tenant["将离开有限公司"]["renewal"] == "已签新租户"
    assert [r["tenant"] for r in table.rows][0] == "将离开有限公司"  # fewest days left first
    page = staff_a.get(f"/parks/{world.park_a.id}/reports/followup?as_of=2026-11-01&sort=tenant").get_data(as_text=True)
    by_name = sorted(by_tenant)
    assert [page.index(name) for name in by_name] == sorted(page.index(name) for name in by_name)
    assert 'data-sort="days_left"' in page and "刘经理" in page
    within_30 = reports.expiry_followup(session, world.park_a.id, D(2026, 11, 1), {"within": "30"})
    assert {r["tenant"] for r in within_30.rows} == {"将离开有限公司"}
    sheet = staff_a.get(f"/parks/{world.park_a.id}/reports/followup?as_of=2026-11-01&format=xlsx")
    ws = load_workbook(io.BytesIO(sheet.data)).active
    assert [c.value for c in ws[1]][:6] == ["楼栋", "单元", "租户", "统一社会信用代码", "联系人", "联系电话"]
    assert staff_a.get(f"/parks/{world.park_a.id}/reports/followup?sort=height").status_code == 400
    # The expiry schedule counts only what is still expiring: the renewed and re-let leases are not.
    schedule = reports.expiry_schedule(session, world.park_a.id, D(2026, 11, 1))
    assert sum(r["leases"] for r in schedule.rows if r["month"] in ("2026-11", "2026-12")) == 1
