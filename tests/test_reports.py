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
