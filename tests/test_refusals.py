"""One way a write is refused: invalid input, a newer save and a race lost to another writer all
come back as the form the user filled in, with what they typed and each message beside its field
(400 or 409), or as JSON naming the field; never as a server error, never half-written."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from registry.core.models import AuditRecord, Enterprise, Lease, Unit
from registry.core.validation import make_uscc

from .conftest import TODAY
from .webhelpers import build_world, post, race, signed_in


def test_a_refused_lease_form_comes_back_as_typed_with_the_message_beside_the_field(manager, world, session):
    unit = world.building_a.units[2]
    resp = post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [unit.id], "uscc": make_uscc("610902", "MA0TYPED"), "name": "刚填写的企业有限公司",
        "start_date": "2027-03-01", "end_date": "2027-02-01", "rent": "12.5", "contract_no": "HT-2027-001"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for typed in ('value="刚填写的企业有限公司"', 'value="2027-03-01"', 'value="2027-02-01"', 'value="12.5"',
                  'value="HT-2027-001"', f'value="{unit.id}" checked'):
        assert typed in text, typed
    beside = re.search(r'name="end_date"[^>]*><span class="field-problem" role="alert">([^<]*)</span>', text)
    assert beside and "早于起租日" in beside[1]
    assert 'class="form-problems"' in text  # and the summary above the page
    assert session.scalar(select(func.count(Lease.id)).where(Lease.unit_id == unit.id)) == 0
    assert session.scalar(select(func.count(Enterprise.id)).where(Enterprise.name == "刚填写的企业有限公司")) == 0


def test_a_code_already_registered_is_refused_beside_its_field_before_anything_is_written(manager, world, session):
    taken = world.building_a.units[0]
    before = session.scalar(select(func.count(Unit.id)))
    resp = post(manager, f"/buildings/{world.building_a.id}/units/new", {
        "floor_level": str(taken.floor_level), "code": taken.code, "leasable_area_m2": "321.5", "leasable": "on"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    beside = re.search(r'name="code"[^>]*>\s*<span class="field-problem" role="alert">([^<]*)</span>', text)
    assert beside and f"本楼栋已有单元编号 {taken.code}" in beside[1]
    assert 'value="321.5"' in text  # what was typed is kept
    assert session.scalar(select(func.count(Unit.id))) == before


def test_json_callers_get_400_and_409_naming_the_field(manager, world):
    bad = manager.get("/api/buildings?min_area=abc")
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "query.min_area"
    lease = world.lease_a
    seen = lease.version
    assert post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2026-05-31", "version": seen, "reason": "mutual", "confirm": "1"}).status_code == 302
    late = post(manager, f"/leases/{lease.id}/terminate", {"last_day": "2026-08-31", "version": seen, "reason": "mutual", "confirm": "1"},
                headers={"Accept": "application/json"})
    assert late.status_code == 409 and late.get_json()["errors"][0]["field"] == "lease"


@pytest.mark.slow
def test_ten_managers_saving_one_unit_at_once_under_gunicorn(gunicorn_server, session):
    """The edit form of one unit, opened by ten managers (same version), saved at the same instant:
    one save wins; every other gets its form back with 409 and the winner's values; no 500, and the
    audit trail holds exactly one update."""
    w = build_world(session)
    unit = w.building_a.units[1]
    clients = [signed_in(gunicorn_server, "mgr_a") for _ in range(10)]
    form = clients[0].get(f"{gunicorn_server}/units/{unit.id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form)[1]
    token = [re.search(r'name="csrf_token" value="([^"]+)"', c.get(f"{gunicorn_server}/units/{unit.id}/edit").text)[1]
             for c in clients]

    def send(i, c):
        return c.post(f"{gunicorn_server}/units/{unit.id}/edit", allow_redirects=False, data={
            "csrf_token": token[i], "version": version, "floor_level": "1", "code": unit.code,
            "leasable_area_m2": str(900 + i), "leasable": "on"})

    answers = race(clients, send)
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {302, 409} and codes.count(302) == 1, codes
    winner = next(i for i, r in enumerate(answers) if r.status_code == 302)
    for r in answers:
        if r.status_code == 409:
            assert "保存冲突" in r.text and 'name="leasable_area_m2"' in r.text  # the form again
    session.expire_all()
    assert session.get(Unit, unit.id).leasable_area_m2 == 900 + winner
    assert session.scalar(select(func.count(AuditRecord.id)).where(
        AuditRecord.entity == "unit", AuditRecord.entity_id == str(unit.id), AuditRecord.action == "update")) == 1


@pytest.mark.slow
def test_two_managers_registering_one_new_enterprise_at_once_under_gunicorn(gunicorn_server, session):
    """Two leases for the same new tenant (by credit code), signed on two units at the same instant:
    the enterprise is registered once; a loser is told the code was just registered, never a 500."""
    w = build_world(session)
    units = w.building_a.units[2:4]
    uscc = make_uscc("610902", "MA0RACE1")
    clients = [signed_in(gunicorn_server, "mgr_a") for _ in range(2)]
    token = [re.search(r'name="csrf_token" value="([^"]+)"', c.get(f"{gunicorn_server}/buildings/{w.building_a.id}").text)[1]
             for c in clients]

    def send(i, c):
        return c.post(f"{gunicorn_server}/buildings/{w.building_a.id}/leases", allow_redirects=False, data={
            "csrf_token": token[i], "unit_id": str(units[i].id), "uscc": uscc, "name": "同时登记有限公司",
            "start_date": "2030-01-01", "end_date": "2031-01-01"})

    answers = race(clients, send)
    assert all(r.status_code in (302, 409) for r in answers), [(r.status_code, r.text[-500:]) for r in answers]
    for r in answers:
        if r.status_code == 409:
            assert "统一社会信用代码" in r.text and "已有登记" in r.text
    session.expire_all()
    assert session.scalar(select(func.count(Enterprise.id)).where(Enterprise.uscc == uscc)) == 1
    # A signing that was answered "saved" has its lease; a refused one left nothing behind.
    for i, r in enumerate(answers):
        leases = session.scalar(select(func.count(Lease.id)).where(Lease.unit_id == units[i].id))
        assert leases == (1 if r.status_code == 302 else 0), (i, r.status_code)


def test_a_form_with_two_mistakes_reports_both_at_once(manager, world):
    resp = post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [world.building_a.units[2].id], "uscc": "91110108551385082R", "name": "两处错误有限公司",
        "start_date": "2027-03-01", "end_date": "2027-02-01"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field in ("uscc", "end_date"):
        assert re.search(rf'name="{field}"[^>]*><span class="field-problem"', text), field


def test_a_corrected_form_goes_back_to_its_page_and_never_off_site(manager, world, session):
    """After a refusal the page is shown again; its corrected form then returns to the unit page
    (not to the address it was posted to), and a back address on another site is not followed."""
    from . import factories as f
    unit = world.building_a.units[3]
    lease = f.lease(session, unit, world.lease_a.enterprise, TODAY - dt.timedelta(days=30),
                    TODAY + dt.timedelta(days=300))
    session.commit()
    unit_id = unit.id
    refused = post(manager, f"/leases/{lease.id}/renew", {"end_date": TODAY.isoformat(), "version": lease.version,
                                                            "back": f"/units/{unit_id}"})
    assert refused.status_code == 400
    back = re.search(rf'action="/leases/{lease.id}/renew">.*?name="back" value="([^"]+)"',
                     refused.get_data(as_text=True), re.S)[1]
    assert back == f"/units/{unit_id}"
    done = post(manager, f"/leases/{lease.id}/renew", {"end_date": (TODAY + dt.timedelta(days=1000)).isoformat(),
                                                         "version": lease.version, "back": back})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/units/{unit_id}")
    relief = post(manager, f"/leases/{lease.id}/relief", {
        "reason": "疫情减免", "amount": "100", "start_date": (TODAY - dt.timedelta(days=20)).isoformat(),
        "end_date": (TODAY - dt.timedelta(days=10)).isoformat(), "back": "//evil.example/x"})
    assert relief.status_code == 302 and "evil" not in relief.headers["Location"]
