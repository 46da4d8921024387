"""Security as a user (or an attacker) meets it: who may use which route, the response headers,
the session cookie, and pages that hold to a strict Content-Security-Policy."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from registry.core.enums import Role
from registry.evaluation import runs
from registry.core.models import AnnualIndicator, Base, Reservation

from . import factories as f
from .conftest import TODAY
from .webhelpers import (ACCESS, ALLOWED, OUTSIDERS, PASSWORD, SECRET_RENT, TOKEN, build_world, login_as, make_user,
                         route_urls)

ROLES = ["anonymous", "viewer", "investment", "bureau", "manager_a", "admin"]


@pytest.fixture
def walk(app, session):
    """The two-park world, a bureau user, an evaluation run, and a value for every route argument."""
    w = build_world(session)
    bureau = make_user(session, "bureau", Role.BUREAU)
    firm = w.lease_a.enterprise
    plot = f.plot(session, w.park_a, holder=firm, certificate_area_m2=6667)
    session.add(AnnualIndicator(enterprise=firm, year=2025, tax_paid_wan=100, revenue_wan=1000,
                                value_added_wan=200, energy_tce=10, employees_avg=10))
    run = runs.create_run(session, ruleset="huaian-2024", year=2025, actor="tester")
    held = Reservation(unit=w.building_a.units[3], prospect="某意向客户", start_date=TODAY, end_date=TODAY + dt.timedelta(days=60))
    session.add(held)
    session.commit()
    unit = w.building_a.units[2]
    values = {"park_id": w.park_a.id, "building_id": w.building_a.id, "unit_id": unit.id, "lease_id": w.lease_a.id,
              "plot_id": plot.id, "run_id": run.id, "uscc": firm.uscc, "user_id": w.viewer,
              "evaluation.chart:kind": "classes", "evaluation.chart:fmt": "svg",
              "evaluation.export:what": "results", "evaluation.export:fmt": "csv",
              "layer": "units", "gis.export_file:fmt": "geojson", "entity": "building",
              "ident": w.building_a.id, "token": "0" * 32, "collection_id": "plots",
              "feature_id": plot.id, "name": "missing.jpg", "filename": "app.css",
              "reservation_id": held.id, "z": 0, "x": 0, "y": 0}
    # Writes get a valid body, so that a refusal is the authorization's and not the form's.
    bodies = {"manage.sign": {"unit_id": [unit.id], "uscc": firm.uscc, "start_date": "2030-01-01",
                              "end_date": "2031-01-01"},
              "manage.renew": {"end_date": "2032-01-01"}, "manage.terminate": {"last_day": "2025-12-31", "reason": "mutual", "confirm": "1"},
              "manage.relief": {"reason": "疫情减免", "amount": "1", "start_date": "2025-02-01",
                                "end_date": "2025-03-01"},
              "manage.reserve": {"prospect": "某客户", "start_date": "2029-01-01", "until": "2029-02-01"},
              "auth.login": {"username": "invest", "password": PASSWORD},
              # A wrong current password: the walk may not change anyone's password.
              "auth.password": {"current_password": "not-the-password", "password": "tea kettle on the hill",
                                "confirm": "tea kettle on the hill"},
              "users_admin.set_password": {"password": "short"}}
    users = {"viewer": w.viewer, "investment": w.investment, "bureau": bureau, "manager_a": w.manager_a,
             "admin": w.admin}
    secrets = (firm.name, firm.uscc, str(SECRET_RENT), held.prospect)  # park A's tenant, code, rent, prospect
    return values, bodies, users, secrets


def _snapshot(session) -> dict:
    """Row counts of every table: a refused request must leave all of them as they were."""
    session.rollback()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _request(app, role, users, method, url, body):
    c = app.test_client()
    if role == "anonymous":
        with c.session_transaction() as s:
            s["_csrf"] = TOKEN  # a real browser session: only the sign-in is missing
    else:
        login_as(c, users[role])
    if method == "GET":
        return c.get(url)
    return c.post(url, data={"csrf_token": TOKEN, **body})


def test_every_route_has_a_declared_access_rule(app):
    routes = {(e, m) for e, m, _ in route_urls(app, {})}
    assert routes - ACCESS.keys() == set(), "routes without an access rule in tests/webhelpers.py"
    assert ACCESS.keys() - routes == set(), "access rules for routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(app, session, walk, role):
    """Refused: a sign-in redirect for visitors, 403 for signed-in users, nothing written.
    Allowed: never refused. Nobody ever gets a server error. Whoever sees park A only at the public
    level (visitors, and the staff of another park) never gets its tenant, credit code or rent, in
    any page, report, export or API answer they may read."""
    values, bodies, users, secrets = walk
    routes = sorted(route_urls(app, values), key=lambda r: r[1] != "GET")  # reads first, then writes
    for endpoint, method, url in routes:
        allowed = role in ALLOWED[ACCESS[endpoint, method]]
        before = None if allowed else _snapshot(session)
        r = _request(app, role, users, method, url, bodies.get(endpoint, {}))
        where = f"{role} {method} {url} → {r.status_code}"
        assert r.status_code < 500, where
        to_login = r.status_code == 302 and "/login" in r.headers["Location"]
        if allowed:
            assert r.status_code not in (401, 403) and not to_login, where
            if role in OUTSIDERS and method == "GET":
                body = r.get_data().decode("utf-8", errors="replace")
                assert not [s for s in secrets if s in body], f"{where} shows park A's private data"
        else:
            assert (to_login or r.status_code == 401) if role == "anonymous" else r.status_code == 403, where
            assert _snapshot(session) == before, f"{where} wrote something"


def test_responses_carry_the_security_headers(client, world):
    for url in ("/", "/map", "/api/parks", "/ogc/", "/login", "/static/app.css"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"


def test_inline_scripts_carry_this_responses_nonce(client, world):
    """The map's inline (folium) code runs only with the nonce the header names, new on every page."""
    nonces = []
    for _ in range(2):
        r = client.get("/map")
        nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        html = r.get_data(as_text=True)
        inline = re.findall(r"<(script|style)(?![^>]*\ssrc=)([^>]*)>", html)
        executable = [attrs for tag, attrs in inline if 'type="application/json"' not in attrs]
        assert executable and all(f'nonce="{nonce}"' in attrs for attrs in executable)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_no_page_uses_inline_handlers_styles_or_javascript_links(app, session, walk):
    """What the CSP would block in the browser, found in the HTML of every page an admin can open."""
    values, _, users, _ = walk
    for endpoint, method, url in route_urls(app, values):
        if method != "GET":
            continue
        r = _request(app, "admin", users, "GET", url, {})
        if not r.mimetype == "text/html":
            continue
        html = r.get_data(as_text=True)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"inline event handler on {url}"
        assert not re.search(r"<[^>]+\sstyle\s*=", html), f"inline style attribute on {url}"
        assert "javascript:" not in html, f"javascript: link on {url}"


def test_the_basemap_host_is_the_only_remote_image_source(db_url):
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "BASEMAP": "xyz",
                      "XYZ_URL": "https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png", "XYZ_ATTRIBUTION": "市测绘院"})
    csp = app.test_client().get("/map").headers["Content-Security-Policy"]
    img = next(d for d in csp.split("; ") if d.startswith("img-src"))
    assert img == "img-src 'self' data: blob: https://*.tiles.example.gov.cn"
    assert "script-src 'self' 'nonce-" in csp  # scripts never come from the tile host
    node = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "BASEMAP": "tianditu",
                       "TIANDITU_KEY": "k", "TIANDITU_URL": "http://10.20.30.40:8080/tianditu"})
    resp = node.test_client().get("/map")
    img = next(d for d in resp.headers["Content-Security-Policy"].split("; ") if d.startswith("img-src"))
    assert img == "img-src 'self' data: blob: http://10.20.30.40:8080"  # a provincial node on the government network
    assert "http://10.20.30.40:8080/tianditu/vec_w/wmts?" in resp.get_data(as_text=True)


def test_the_session_cookie_is_secure_behind_https(db_url, world):
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": True})
    c = app.test_client()
    r = c.post("/login", data={"username": "admin", "password": "correct horse battery",
                               "csrf_token": c.get("/login") and _csrf(c)})
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def _csrf(client) -> str:
    with client.session_transaction() as s:
        return s["_csrf"]


@pytest.mark.browser
def test_every_page_runs_under_its_policy_in_the_browser(app, app_page, walk):
    """Each page an administrator can open loads in Chromium with no CSP violation (the app_page
    fixture fails on any) and no request leaving the machine; the map still draws."""
    from .test_browser import sign_in
    values, _, users, _ = walk
    pages = [url for endpoint, method, url in route_urls(app, values)
             if method == "GET" and _request(app, "admin", users, "GET", url, {}).mimetype == "text/html"]
    assert len(pages) > 30
    page = sign_in(app_page, "admin")
    for url in pages:
        page.goto(f"{page.base_url}{url}", wait_until="load")
        assert page.csp_violations == [], url
    page.goto(f"{page.base_url}/map", wait_until="networkidle")
    page.wait_for_function("() => window.vacancyMap && window.vacancyMap.state.loaded >= 1")
    assert page.external_requests == []


def test_a_chart_opened_on_its_own_may_style_itself_but_never_run_script(app, walk):
    values, _, users, _ = walk
    r = _request(app, "admin", users, "GET", f"/evaluation/{values['run_id']}/chart/classes.svg", {})
    assert r.mimetype == "image/svg+xml"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "style-src 'unsafe-inline'" in csp
