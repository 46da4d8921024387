"""Park managers keep occupancy current through the web: every action, on both backends."""
import datetime as dt
import re

from sqlalchemy import func, select

from registry.core.models import AuditRecord, Building, Enterprise, Lease, RentRelief, Reservation
from registry.core.validation import make_uscc

from .conftest import TODAY
from .webhelpers import post

D = dt.date


def test_park_page_shows_the_kpis(manager, world):
    page = manager.get(f"/parks/{world.park_a.id}?as_of=2026-06-01").get_data(as_text=True)
    # Six units of 1000 m², one let until 2027-01-01 (214 days away).
    assert 'data-kpi="rate_by_area">16.7%' in page and 'data-kpi="tenants">1<' in page
    assert 'data-kpi="vacant_m2">5,000' in page
    assert 'data-kpi="expiring_90">0<' in page
    page = manager.get(f"/parks/{world.park_a.id}?as_of=2026-11-01").get_data(as_text=True)
    assert 'data-kpi="expiring_90">1<' in page and 'data-kpi="expiring_30">0<' in page


def test_stacking_plan_colours_units_by_status_on_the_chosen_date(manager, world):
    b = world.building_a.id
    page = manager.get(f"/buildings/{b}?as_of=2026-06-01").get_data(as_text=True)
    assert page.count('data-status="leased"') == 1 and page.count('data-status="vacant"') == 5
    assert "甲租户有限公司" in page and "2026-12-31" in page  # tooltip: tenant and last day
    later = manager.get(f"/buildings/{b}?as_of=2027-01-01").get_data(as_text=True)
    assert later.count('data-status="vacant"') == 6


def test_sign_several_units_for_a_new_enterprise(manager, world, session):
    units = [u.id for u in world.building_a.units[1:3]]
    code = make_uscc("610902", "MA0TEXT1")
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": units, "uscc": code, "name": "新签科技有限公司", "start_date": "2026-01-01",
                 "end_date": "2029-01-01", "rent": "12.5", "rent_free_months": "3", "contract_no": "HT-1"})
    assert resp.status_code == 302
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    leases = session.scalars(select(Lease).where(Lease.enterprise_id == ent.id)).all()
    assert sorted(l.unit_id for l in leases) == sorted(units) and all(l.rent_free_months == 3 for l in leases)
    assert session.scalar(select(func.count(AuditRecord.id)).where(AuditRecord.entity == "lease",
                                                                    AuditRecord.actor == "mgr_a")) == 2


def test_an_overlapping_lease_is_refused_naming_the_conflict(manager, world, session):
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [world.building_a.units[0].id], "uscc": make_uscc("610902", "MA0TEXT2"),
                 "name": "后来者有限公司", "start_date": "2026-06-01", "end_date": "2027-06-01"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and f"租约 #{world.lease_a.id}" in text and "甲租户有限公司" in text
    assert session.scalar(select(func.count(Enterprise.id)).where(Enterprise.name == "后来者有限公司")) == 0


def test_a_bad_credit_code_is_refused_with_the_field(manager, world):
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [world.building_a.units[1].id], "uscc": "91110108551385082R", "name": "x",
                 "start_date": "2026-01-01", "end_date": "2027-01-01"})
    text = resp.get_data(as_text=True)
    # The message stands beside the credit-code field, which keeps what was typed.
    assert resp.status_code == 400 and re.search(
        r'name="uscc"[^>]*value="91110108551385082R"><span class="field-problem" role="alert">[^<]*校验应为 &#39;Q&#39;',
        text)


def test_renew_adds_a_lease_after_the_old_one(manager, world, session):
    lease = world.lease_a
    resp = post(manager, f"/leases/{lease.id}/renew", {"end_date": "2029-12-31", "rent": "11", "version": lease.version})
    assert resp.status_code == 302  # the new last day, as the contract prints it; stored as the day after
    leases = session.scalars(select(Lease).where(Lease.unit_id == lease.unit_id).order_by(Lease.start_date)).all()
    assert [(l.start_date, l.end_date) for l in leases] == [(D(2025, 1, 1), D(2027, 1, 1)), (D(2027, 1, 1), D(2030, 1, 1))]


def test_terminate_early_moves_the_end_and_keeps_history(manager, world, session):
    lease = world.lease_a
    assert post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2026-02-28", "version": lease.version, "reason": "mutual", "confirm": "1"}).status_code == 302
    session.expire_all()
    assert session.get(Lease, lease.id).end_date == D(2026, 3, 1)
    audit = session.scalars(select(AuditRecord).where(AuditRecord.entity == "lease", AuditRecord.action == "update")).one()
    assert audit.before["end_date"] == "2027-01-01" and audit.after["end_date"] == "2026-03-01"


def test_reserve_relief_and_verify(manager, world, session):
    unit = world.building_a.units[3]
    assert post(manager, f"/units/{unit.id}/reserve", {"prospect": "意向客户李总", "start_date": "2026-01-01",
                                                       "until": "2026-03-01"}).status_code == 302
    session.expire_all()  # look again: what the app committed since
    assert session.scalar(select(Reservation.prospect).where(Reservation.unit_id == unit.id)) == "意向客户李总"
    assert post(manager, f"/leases/{world.lease_a.id}/relief", {"reason": "疫情减免", "amount": "30000",
                                                                "start_date": "2025-02-01", "end_date": "2025-05-01"}).status_code == 302
    session.expire_all()
    assert session.scalar(select(RentRelief.amount_yuan)) == 30000
    assert post(manager, f"/buildings/{world.building_a.id}/verify").status_code == 302
    session.expire_all()
    assert session.get(Building, world.building_a.id).last_verified == TODAY
    page = manager.get(f"/units/{unit.id}?as_of=2026-02-01").get_data(as_text=True)
    assert 'data-status="reserved"' in page and "意向客户李总" in page


def test_the_second_of_two_concurrent_edits_gets_a_conflict_with_the_newer_values(manager, world, session):
    lease = world.lease_a
    seen = lease.version
    assert post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2026-05-31", "version": seen, "reason": "mutual", "confirm": "1"}).status_code == 302
    resp = post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2026-08-31", "version": seen, "reason": "mutual", "confirm": "1"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "保存冲突" in text and "2026-06-01" in text
    session.expire_all()
    assert session.get(Lease, lease.id).end_date == D(2026, 6, 1)


def test_unit_page_lists_the_full_lease_history(manager, world):
    page = manager.get(f"/units/{world.lease_a.unit_id}").get_data(as_text=True)
    assert f'data-lease-id="{world.lease_a.id}"' in page and "2026-12-31" in page


def test_history_page_shows_who_changed_what(manager, world):
    post(manager, f"/leases/{world.lease_a.id}/terminate", {"last_day": "2026-02-28", "reason": "mutual", "confirm": "1"})
    page = manager.get(f"/history/lease/{world.lease_a.id}").get_data(as_text=True)
    # A person without a name on record is shown by their login; the end as the last day.
    assert "<td>到期日</td><td>2026-12-31</td><td>2026-02-28</td>" in page and "mgr_a" in page


def test_data_quality_page(manager, world, session):
    b = session.get(Building, world.building_a.id)
    b.gfa_m2 = 7000  # units still add up to 6000
    session.commit()
    page = manager.get(f"/parks/{world.park_a.id}/quality").get_data(as_text=True)
    assert world.building_a.code in page and "-14.3%" in page
    assert "从未核实" in page  # never verified


def test_a_lease_signed_for_later_is_not_vacant_nor_offered_and_a_renewal_is_not_expiring(manager, world):
    """From the day a lease is signed, its unit is 已签约待入驻: off the sign form, out of the vacant
    figures and off the map; a renewed lease no longer counts as expiring."""
    b, unit = world.building_a, world.building_a.units[1]
    start = TODAY + dt.timedelta(days=20)
    assert post(manager, f"/buildings/{b.id}/leases", {
        "unit_id": [unit.id], "uscc": world.lease_a.enterprise.uscc, "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=730)).isoformat()}).status_code == 302
    page = manager.get(f"/buildings/{b.id}").get_data(as_text=True)
    block = re.search(rf'data-unit-id="{unit.id}" data-status="(\w+)"', page)[1]
    assert block == "signed" and f'name="unit_id" value="{unit.id}"' not in page and start.isoformat() in page
    park = manager.get(f"/parks/{world.park_a.id}").get_data(as_text=True)
    assert re.search(r'data-kpi="signed_m2">1,000 ㎡', park)
    feature = next(ft for ft in manager.get(f"/api/buildings?zoom=16&park={world.park_a.id}").get_json()["features"]
                   if ft["id"] == b.id)
    assert unit.id not in {u["id"] for u in manager.get(f"/api/buildings/{b.id}").get_json()["units"]
                           if u["status"] == "vacant"}
    let_today = world.lease_a.start_date <= TODAY < world.lease_a.end_date
    assert feature["properties"]["available_units"] == 6 - 1 - let_today  # six units: one signed, one let (if still)
    # The let unit (to 2026-12-31) seen on 2026-11-01 is expiring; once renewed, it is not.
    before = manager.get(f"/parks/{world.park_a.id}?as_of=2026-11-01").get_data(as_text=True)
    assert 'data-kpi="expiring_90">1<' in before
    lease = world.lease_a
    assert post(manager, f"/leases/{lease.id}/renew", {"end_date": "2029-01-01", "version": lease.version}
                ).status_code == 302
    after = manager.get(f"/parks/{world.park_a.id}?as_of=2026-11-01").get_data(as_text=True)
    assert 'data-kpi="expiring_90">0<' in after
    plan = manager.get(f"/buildings/{b.id}?as_of=2026-11-01").get_data(as_text=True)
    assert re.search(rf'data-unit-id="{lease.unit_id}" data-status="leased"', plan)


def test_every_form_takes_the_last_day_as_contracts_print_it(manager, world, session):
    """到期日, 退租日, 预留至 and a relief's 至 are the last day, inclusive, typed and shown alike;
    only the storage keeps the day after."""
    unit = world.building_a.units[1]
    assert post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [unit.id], "uscc": make_uscc("610902", "MA0LAT01"), "name": "末日有限公司",
        "start_date": "2027-01-01", "end_date": "2029-12-31"}).status_code == 302
    session.expire_all()
    lease = session.scalars(select(Lease).where(Lease.unit_id == unit.id)).one()
    assert lease.end_date == D(2030, 1, 1)
    page = manager.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "<td>2029-12-31" in page and "2030-01-01" not in page
    held = world.building_a.units[2]
    assert post(manager, f"/units/{held.id}/reserve", {"prospect": "意向客户", "start_date": "2027-01-01",
                                                       "until": "2027-03-31"}).status_code == 302
    session.expire_all()
    assert session.scalar(select(Reservation.end_date).where(Reservation.unit_id == held.id)) == D(2027, 4, 1)
    assert "2027-01-01 至 2027-03-31" in manager.get(f"/units/{held.id}").get_data(as_text=True)
    # A wrong order is named in the same words: the last day before the first.
    refused = post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [world.building_a.units[4].id], "uscc": make_uscc("610902", "MA0LAT02"), "name": "倒序有限公司",
        "start_date": "2027-03-01", "end_date": "2027-02-28"})
    assert refused.status_code == 400 and "到期日 2027-02-28 早于起租日 2027-03-01" in refused.get_data(as_text=True)


def _current_lease(session, world, contract_no=None):
    """A lease in force on the registry's today, with the forms to renew and end it on its page."""
    from . import factories as f
    lease = f.lease(session, world.building_a.units[4], world.lease_a.enterprise, TODAY - dt.timedelta(days=100),
                    TODAY + dt.timedelta(days=200))
    lease.contract_no = contract_no
    session.commit()
    return lease


def test_a_renewal_names_its_contract_or_keeps_the_old_number_on_purpose(manager, world, session):
    lease = _current_lease(session, world, "HT-2025-001")
    new_last = (lease.end_date + dt.timedelta(days=999)).isoformat()
    silent = post(manager, f"/leases/{lease.id}/renew", {"end_date": new_last, "version": lease.version})
    text = silent.get_data(as_text=True)
    assert silent.status_code == 400 and "续租未填写合同编号（原合同编号 HT-2025-001）" in text
    assert re.search(r'name="contract_no"[^>]*>\s*<span class="field-problem"', text)
    assert post(manager, f"/leases/{lease.id}/renew", {"end_date": new_last, "version": lease.version,
                                                      "same_contract": "1"}).status_code == 302
    session.expire_all()
    renewal = session.scalars(select(Lease).where(Lease.unit_id == lease.unit_id, Lease.start_date == lease.end_date)).one()
    assert renewal.contract_no == "HT-2025-001" and renewal.end_date == lease.end_date + dt.timedelta(days=1000)
    assert post(manager, f"/leases/{renewal.id}/renew", {"end_date": (renewal.end_date + dt.timedelta(days=365)).isoformat(),
                                                        "version": renewal.version, "contract_no": "HT-2030-007"}).status_code == 302
    session.expire_all()
    assert session.scalar(select(Lease.contract_no).where(Lease.start_date == renewal.end_date)) == "HT-2030-007"


def test_an_early_end_is_checked_then_confirmed_and_keeps_its_reason(manager, world, session):
    lease = world.lease_a  # 2025-01-01 至 2026-12-31
    fields = {"last_day": "2026-05-31", "reason": "relocation", "note": "迁往新区", "version": lease.version}
    check = post(manager, f"/leases/{lease.id}/terminate", fields)
    text = check.get_data(as_text=True)
    assert check.status_code == 200 and "确认提前终止" in text and "企业搬迁" in text
    assert re.search(r'data-confirm="last_day"><b>2026-05-31</b>（提前 214 天）', text)
    session.expire_all()
    assert session.get(Lease, lease.id).end_date == D(2027, 1, 1)  # nothing written yet
    assert post(manager, f"/leases/{lease.id}/terminate", {**fields, "confirm": "1"}).status_code == 302
    session.expire_all()
    ended = session.get(Lease, lease.id)
    assert (ended.end_date, ended.end_reason.label, ended.end_note) == (D(2026, 6, 1), "企业搬迁", "迁往新区")
    assert "提前终止：企业搬迁（迁往新区）" in manager.get(f"/units/{lease.unit_id}").get_data(as_text=True)


def test_an_early_end_for_another_reason_says_which(manager, world, session):
    lease = _current_lease(session, world)
    resp = post(manager, f"/leases/{lease.id}/terminate", {"last_day": (TODAY + dt.timedelta(days=30)).isoformat(),
                                                           "reason": "other", "version": lease.version})
    assert resp.status_code == 400
    assert re.search(r'name="note"[^>]*>\s*<span class="field-problem" role="alert">选择“其他”时须说明原因',
                     resp.get_data(as_text=True))


def test_a_reservation_is_cancelled_or_turned_into_a_lease(manager, world, session):
    unit = world.building_a.units[3]
    start, until = TODAY, TODAY + dt.timedelta(days=59)
    reserve = {"prospect": "意向客户王总", "start_date": start.isoformat(), "until": until.isoformat()}
    assert post(manager, f"/units/{unit.id}/reserve", reserve).status_code == 302
    session.expire_all()
    first = session.scalars(select(Reservation).where(Reservation.unit_id == unit.id)).one()
    assert post(manager, f"/reservations/{first.id}/cancel", {"version": first.version}).status_code == 302
    session.expire_all()
    page = manager.get(f"/units/{unit.id}").get_data(as_text=True)
    assert 'data-status="vacant"' in page and "已取消" in page
    # Held again; another firm cannot sign the unit over the prospect's head.
    assert post(manager, f"/units/{unit.id}/reserve", reserve).status_code == 302
    session.expire_all()
    second = session.scalars(select(Reservation).where(Reservation.unit_id == unit.id, Reservation.outcome.is_(None))).one()
    sign = {"unit_id": [unit.id], "uscc": make_uscc("610902", "MA0WAN01"), "name": "王总的公司",
            "start_date": (TODAY + dt.timedelta(days=10)).isoformat(), "end_date": (TODAY + dt.timedelta(days=739)).isoformat()}
    over = post(manager, f"/buildings/{world.building_a.id}/leases", sign)
    assert over.status_code == 400 and "预留给意向客户王总" in over.get_data(as_text=True)
    # 转为签约: the signing form starts from the reservation, and the signing closes it.
    form = manager.get(f"/buildings/{world.building_a.id}?reservation={second.id}").get_data(as_text=True)
    assert f'name="reservation_id" value="{second.id}"' in form and 'value="意向客户王总"' in form
    assert re.search(rf'value="{unit.id}" checked', form)
    assert post(manager, f"/buildings/{world.building_a.id}/leases", {**sign, "reservation_id": second.id}).status_code == 302
    session.expire_all()
    assert session.get(Reservation, second.id).outcome.label == "已转签约"
    assert 'data-status="signed"' in manager.get(f"/units/{unit.id}").get_data(as_text=True)


def test_search_finds_buildings_units_and_only_the_tenants_a_user_may_see(client, world, session):
    from .webhelpers import login_as
    login_as(client, world.manager_a)
    current = _current_lease(session, world)  # park A's tenant, let on the registry's today
    tenant_a, tenant_b = world.lease_a.enterprise, world.lease_b.enterprise
    page = client.get("/search?q=" + world.building_a.units[0].code).get_data(as_text=True)
    assert page.count('data-kind="unit"') == 2  # the same unit code in both parks' buildings
    mine = client.get("/search?q=甲租户").get_data(as_text=True)
    assert 'data-kind="tenant"' in mine and tenant_a.uscc in mine
    assert f"{world.building_a.code} · {current.unit.code}（至 {current.end_date - dt.timedelta(days=1)}）" in mine
    by_code = client.get(f"/search?q={tenant_a.uscc.lower()}").get_data(as_text=True)
    assert tenant_a.name in by_code
    # Park B's tenant belongs to another operator: not found by park A's manager.
    assert 'data-kind="tenant"' not in client.get("/search?q=乙租户").get_data(as_text=True)
    assert 'data-kind="tenant"' not in client.get(f"/search?q={tenant_b.uscc}").get_data(as_text=True)
    in_b = client.get(f"/search?q={world.building_a.units[0].code}&park={world.park_b.id}").get_data(as_text=True)
    assert in_b.count('data-kind="unit"') == 1
    assert "没有找到" in client.get("/search?q=%25%25").get_data(as_text=True)  # wildcards are text
    assert client.get("/search?q=" + "长" * 65).status_code == 400


def test_stacking_blocks_show_the_tenant_and_days_left_or_the_signed_start(manager, world, session):
    from . import factories as f
    later = world.building_a.units[5]
    f.lease(session, later, f.enterprise(session, "待入驻有限公司"), D(2026, 9, 1), D(2029, 9, 1))
    session.commit()
    page = manager.get(f"/buildings/{world.building_a.id}?as_of=2026-06-01").get_data(as_text=True)
    let = re.search(rf'data-unit-id="{world.lease_a.unit_id}".*?</a>', page, re.S)[0]
    assert '<span class="occupant">甲租户有限公司</span>' in let and 'data-days-left="214"' in let
    signed = re.search(rf'data-unit-id="{later.id}".*?</a>', page, re.S)[0]
    assert 'data-status="signed"' in signed and "待入驻有限公司" in signed and "起租 2026-09-01" in signed
