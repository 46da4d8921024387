"""The audit trail as a park manager reads it: a record's history and the park's 操作记录, in Chinese,
with people's names and contract dates, filtered and downloaded."""
from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from registry.core import history
from registry.core.models import AuditRecord, Lease, User
from registry.core.validation import make_uscc

from .conftest import TODAY
from .webhelpers import post


def _name_the_manager(session, world):
    session.get(User, world.manager_a).display_name = "张经理"
    session.commit()


def test_a_lease_history_reads_in_chinese_with_names_and_last_days(manager, world, session):
    _name_the_manager(session, world)
    unit = world.building_a.units[1]
    assert post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [unit.id], "uscc": make_uscc("610902", "MA0HT001"), "name": "记录测试有限公司",
        "start_date": "2027-01-01", "end_date": "2028-12-31", "contract_no": "HT-9"}).status_code == 302
    session.expire_all()
    lease = session.scalars(select(Lease).where(Lease.unit_id == unit.id)).one()
    assert post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2028-06-30", "reason": "mutual",
                                                           "version": lease.version, "confirm": "1"}).status_code == 302
    page = manager.get(f"/history/lease/{lease.id}").get_data(as_text=True)
    assert f"租约 {world.building_a.code} · {unit.code} · 记录测试有限公司" in page
    assert len(re.findall(r'<td rowspan="\d+">张经理</td>', page)) == 2 and "新建" in page and "修改" in page
    # The end as the contract prints it: created to 2028-12-31, then ended on 2028-06-30.
    assert re.search(r"<td>到期日</td><td></td><td>2028-12-31</td>", page)
    assert re.search(r"<td>到期日</td><td>2028-12-31</td><td>2028-06-30</td>", page)
    assert re.search(r"<td>终止原因</td><td></td><td>协商解约</td>", page)
    for internal in ("end_date", "version", ">update<", ">insert<", "mgr_a"):
        assert internal not in page, internal


def test_the_park_log_lists_its_own_records_filtered_and_as_a_workbook(manager, world, session):
    _name_the_manager(session, world)
    a_unit = world.building_a.units[2]
    assert post(manager, f"/units/{a_unit.id}/reserve", {"prospect": "意向客户赵总", "start_date": TODAY.isoformat(),
                                                         "until": (TODAY + dt.timedelta(days=30)).isoformat()}).status_code == 302
    assert post(manager, f"/buildings/{world.building_a.id}/verify").status_code == 302
    page = manager.get(f"/parks/{world.park_a.id}/activity").get_data(as_text=True)
    assert "意向客户赵总" in page and "最近核实" in page and "张经理" in page
    assert "乙租户有限公司" not in page  # park B's records stay in park B's log
    only_reservations = manager.get(f"/parks/{world.park_a.id}/activity?kind=reservation").get_data(as_text=True)
    assert "意向客户赵总" in only_reservations and "最近核实" not in only_reservations
    nobody = manager.get(f"/parks/{world.park_a.id}/activity?person=admin").get_data(as_text=True)
    assert "意向客户赵总" not in nobody and "无记录" in nobody
    # By the day it was done, in the registry's time zone (records carry the real time).
    session.expire_all()
    day = history.local_time(session.scalar(select(AuditRecord.at).where(AuditRecord.entity == "reservation"))).date()
    before = manager.get(f"/parks/{world.park_a.id}/activity?until={day - dt.timedelta(days=1)}").get_data(as_text=True)
    assert "意向客户赵总" not in before
    that_day = manager.get(f"/parks/{world.park_a.id}/activity?since={day}&until={day}").get_data(as_text=True)
    assert "意向客户赵总" in that_day
    bad = manager.get(f"/parks/{world.park_a.id}/activity?since=yesterday")
    assert bad.status_code == 400 and "起始日期" in bad.get_data(as_text=True)
    sheet = manager.get(f"/parks/{world.park_a.id}/activity?kind=reservation&format=xlsx")
    ws = load_workbook(io.BytesIO(sheet.data)).active
    header = [c.value for c in ws[1]]
    assert header == ["时间", "操作人", "操作", "类别", "对象", "字段", "修改前", "修改后"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert ["张经理", "新建", "预留"] == rows[0][1:4] and any(r[5] == "意向客户" and r[7] == "意向客户赵总" for r in rows)
