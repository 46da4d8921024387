"""Excel bulk update: download, edit with openpyxl, upload, preview, commit, re-upload (no change);
a file with one bad row writes nothing and names the row."""
import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from registry.core.models import AuditRecord, Enterprise, Lease, Unit
from registry.core.validation import make_uscc

from .webhelpers import post

D = dt.date


def download(client, park_id, as_of="2026-06-01"):
    resp = client.get(f"/parks/{park_id}/excel/template?as_of={as_of}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(resp.data))


def rows_by_unit(ws):
    header = [c.value for c in ws[1]]
    return header, {(r[0].value, r[1].value): r for r in ws.iter_rows(min_row=2)}


def upload(client, park_id, wb, path="preview", token=None):
    if token is not None:
        return post(client, f"/parks/{park_id}/excel/commit", {"token": token})
    buf = io.BytesIO()
    wb.save(buf)
    return post(client, f"/parks/{park_id}/excel/preview", {"file": (io.BytesIO(buf.getvalue()), "edited.xlsx")},
                content_type="multipart/form-data")


def token_of(resp):
    return re.search(r'name="token" value="([0-9a-f]{32})"', resp.get_data(as_text=True))[1]


def test_template_has_every_unit_the_current_lease_dropdowns_and_instructions(manager, world):
    wb = download(manager, world.park_a.id)
    ws = wb["房源租约"]
    header, rows = rows_by_unit(ws)
    assert header[:6] == ["楼栋编号", "单元编号", "楼层", "可租面积(㎡)", "当前状态", "操作"]
    assert len(rows) == 6
    leased = rows[(world.building_a.code, world.building_a.units[0].code)]
    assert leased[6].value == world.lease_a.enterprise.uscc and leased[9].value.date() == D(2026, 12, 31)
    assert any("保持,新签,续租,退租" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    assert "填写说明" in wb.sheetnames


def test_round_trip_preview_commit_and_reupload(manager, world, session):
    wb = download(manager, world.park_a.id)
    ws = wb["房源租约"]
    _, rows = rows_by_unit(ws)
    b = world.building_a.code
    new_code = make_uscc("610902", "MA0XLXX1")
    # A new lease on a vacant unit, typed with full-width digits as Chinese IMEs often produce.
    r = rows[(b, world.building_a.units[1].code)]
    r[5].value = "新签"
    r[6].value = new_code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    r[7].value = "表格新签有限公司"
    r[8].value, r[9].value, r[10].value, r[11].value = "2026/7/1", "2029年6月30日", "９.５", 2
    # Renew the current lease to the end of 2029.
    r = rows[(b, world.building_a.units[0].code)]
    r[5].value, r[9].value = "续租", dt.datetime(2029, 12, 31)
    # A corrected area, and one that is not an area.
    rows[(b, world.building_a.units[4].code)][3].value = "１０５０.5"
    # Blank trailing rows are ignored.
    for _ in range(3):
        ws.append([None] * 14)
    preview = upload(manager, world.park_a.id, wb)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert 'data-count="new">1<' in text and 'data-count="renew">1<' in text and 'data-count="enterprises">1<' in text
    assert 'data-count="errors">0<' in text and 'data-count="area">1<' in text
    assert f"新签 {b} · {world.building_a.units[1].code}：表格新签有限公司" in text  # the unit with its building
    before = session.scalar(select(func.count(Lease.id)))
    assert session.scalar(select(func.count(Lease.id))) == before  # the preview wrote nothing

    done = upload(manager, world.park_a.id, wb, token=token_of(preview))
    assert done.status_code == 302
    session.expire_all()
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == new_code))
    new = session.scalar(select(Lease).where(Lease.enterprise_id == ent.id))
    assert (new.start_date, new.end_date, new.rent_yuan_m2_month, new.rent_free_months) == (D(2026, 7, 1), D(2029, 7, 1), 9.5, 2)
    assert session.get(Unit, world.building_a.units[4].id).leasable_area_m2 == 1050.5
    renewal = session.scalar(select(Lease).where(Lease.unit_id == world.lease_a.unit_id, Lease.start_date == D(2027, 1, 1)))
    assert renewal.end_date == D(2030, 1, 1)
    assert session.scalar(select(func.count(AuditRecord.id)).where(AuditRecord.actor == "mgr_a")) >= 3

    again = upload(manager, world.park_a.id, wb)
    text = again.get_data(as_text=True)
    assert 'data-count="new">0<' in text and 'data-count="renew">0<' in text and "无变更" in text
    assert session.scalar(select(func.count(Lease.id))) == before + 2


def test_terminating_and_reletting_in_one_file(manager, world, session):
    wb = download(manager, world.park_a.id)
    ws = wb["房源租约"]
    _, rows = rows_by_unit(ws)
    r = rows[(world.building_a.code, world.building_a.units[0].code)]
    r[5].value, r[13].value = "退租", "2026-08-31"
    ws.append([world.building_a.code, world.building_a.units[0].code, 1, None, None, "新签",
               make_uscc("610902", "MA0XLXX2"), "接租有限公司", "2026-09-01", "2028-08-31", 10, 0, None, None])
    preview = upload(manager, world.park_a.id, wb)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert upload(manager, world.park_a.id, wb, token=token_of(preview)).status_code == 302
    session.expire_all()
    assert session.get(Lease, world.lease_a.id).end_date == D(2026, 9, 1)


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(manager, world, session):
    wb = download(manager, world.park_a.id)
    ws = wb["房源租约"]
    _, rows = rows_by_unit(ws)
    units = world.building_a.units
    good = rows[(world.building_a.code, units[1].code)]
    good[5].value, good[6].value, good[7].value = "新签", make_uscc("610902", "MA0XLXX3"), "好企业有限公司"
    good[8].value, good[9].value = "2026-07-01", "2027-06-30"
    bad = rows[(world.building_a.code, units[2].code)]
    bad[5].value, bad[6].value, bad[7].value = "新签", "91110108551385082R", "坏代码有限公司"
    bad[8].value, bad[9].value = "2026-07-01", "2027-06-30"
    rows[(world.building_a.code, units[5].code)][3].value = "-10"
    overlap = rows[(world.building_a.code, units[3].code)]
    overlap[5].value = "续租"  # no lease on this unit to renew
    overlap[6].value, overlap[8].value, overlap[9].value = make_uscc("610902", "MA0XLXX3"), "2026-01-01", "2027-01-01"
    before = session.scalar(select(func.count(Lease.id)))
    preview = upload(manager, world.park_a.id, wb)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 400
    bad_row = bad[0].row
    assert re.search(rf"<td>房源租约</td><td>{bad_row}</td><td>统一社会信用代码</td><td>[^<]*校验应为", text)
    assert f"<td>{overlap[0].row}</td><td>起租日</td>" in text
    assert f"<td>{rows[(world.building_a.code, units[5].code)][0].row}</td><td>可租面积(㎡)</td>" in text
    assert "确认写入" not in text
    # Even a commit forced with the staged upload's token is refused whole (the plan is made again),
    # and so is a made-up token.
    import json
    from pathlib import Path
    notes = sorted((Path(manager.application.instance_path) / "uploads").glob("*/upload.json"),
                   key=lambda n: n.stat().st_mtime)
    staged = notes[-1].parent.name
    assert json.loads(notes[-1].read_text("utf-8"))["kind"] == "workbook"
    assert upload(manager, world.park_a.id, wb, token=staged).status_code == 400
    assert upload(manager, world.park_a.id, wb, token="0" * 32).status_code == 400
    assert session.scalar(select(func.count(Lease.id))) == before
    assert session.scalar(select(func.count(Enterprise.id)).where(Enterprise.name == "好企业有限公司")) == 0


def test_a_unit_not_in_the_park_and_a_wrong_file_are_reported(manager, world):
    wb = download(manager, world.park_a.id)
    ws = wb["房源租约"]
    ws.append(["NOPE", "9-999", 9, None, None, "新签", None, None, None, None, None, None, None, None])
    text = upload(manager, world.park_a.id, wb).get_data(as_text=True)
    assert "本园区没有楼栋 &#39;NOPE&#39; 的单元 &#39;9-999&#39;" in text
    resp = post(manager, f"/parks/{world.park_a.id}/excel/preview", {"file": (io.BytesIO(b"not excel"), "x.xlsx")},
                content_type="multipart/form-data")
    assert resp.status_code == 400 and "无法读取 Excel 文件" in resp.get_data(as_text=True)


def test_the_forms_and_the_workbook_refuse_with_the_same_words(manager, world, session):
    """One lease path: a period that overlaps a lease, a renewal that ends no later, an early end
    outside the lease: the same rule refuses each, in the same words, through a form or a file."""
    import html

    from registry.occupancy import workbook
    unit, lease = world.building_a.units[0], world.lease_a  # let 2025-01-01 to 2026-12-31
    newcomer = make_uscc("610902", "MA0LATE2")
    cases = [  # (form url, form fields, template row edits, column)
        (f"/buildings/{world.building_a.id}/leases",
         {"unit_id": [unit.id], "uscc": newcomer, "name": "后来者有限公司", "start_date": "2026-06-01",
          "end_date": "2027-05-31"},
         {5: "新签", 6: newcomer, 7: "后来者有限公司", 8: "2026-06-01", 9: "2027-05-31"}, "起租日"),
        (f"/leases/{lease.id}/renew", {"end_date": "2026-06-30"}, {5: "续租", 9: "2026-06-30"}, "到期日"),
        (f"/leases/{lease.id}/terminate", {"last_day": "2027-02-28", "reason": "mutual", "confirm": "1"}, {5: "退租", 13: "2027-02-28"}, "退租日"),
    ]
    for url, fields, edits, column in cases:
        page = html.unescape(post(manager, url, fields).get_data(as_text=True))
        wb = download(manager, world.park_a.id)
        _, rows = rows_by_unit(wb["房源租约"])
        row = rows[(world.building_a.code, unit.code)]
        for index, value in edits.items():
            row[index].value = value
        buf = io.BytesIO()
        wb.save(buf)
        plan = workbook.plan(session, world.park_a.id, buf.getvalue())
        session.rollback()
        [error] = plan.errors
        assert error.column == column and error.reason in page, (url, error.reason)
    assert session.scalar(select(func.count(Lease.id))) == 2  # nothing written by any of them


def test_a_renewal_row_keeps_the_shown_contract_number_or_names_a_new_one(manager, world, session):
    lease = world.lease_a
    lease.contract_no = "HT-2025-001"
    session.commit()
    wb = download(manager, world.park_a.id)
    _, rows = rows_by_unit(wb["房源租约"])
    row = rows[(world.building_a.code, world.building_a.units[0].code)]
    assert row[12].value == "HT-2025-001"  # the template shows it
    row[5].value, row[9].value, row[12].value = "续租", "2029-12-31", None
    text = upload(manager, world.park_a.id, wb).get_data(as_text=True)
    assert "续租未填写合同编号（原合同编号 HT-2025-001）" in text and 'data-count="errors">1<' in text
    row[12].value = "HT-2027-009"
    preview = upload(manager, world.park_a.id, wb)
    assert preview.status_code == 200
    assert upload(manager, world.park_a.id, wb, token=token_of(preview)).status_code == 302
    session.expire_all()
    assert session.scalar(select(Lease.contract_no).where(Lease.start_date == lease.end_date)) == "HT-2027-009"
