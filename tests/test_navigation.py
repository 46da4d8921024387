"""Finding one's way (issue 20): the header menu by role on every page, the map's included; each
item leads to a page the role may open; sign-in and sign-out everywhere."""
from __future__ import annotations

import re

import pytest

from registry.core.enums import Role

from .webhelpers import login_as, make_user

MENUS = {
    "anonymous": ["概览", "空置厂房地图"],
    "viewer": ["概览", "空置厂房地图", "园区", "供地测算", "导入导出", "操作记录"],
    "investment": ["概览", "空置厂房地图", "园区", "亩均评价", "供地测算", "导入导出", "操作记录"],
    "manager_a": ["概览", "空置厂房地图", "园区", "供地测算", "导入导出", "操作记录"],
    "bureau": ["概览", "空置厂房地图", "园区", "亩均评价", "供地测算", "导入导出", "操作记录"],
    "admin": ["概览", "空置厂房地图", "园区", "亩均评价", "供地测算", "导入导出", "操作记录", "用户"],
}


def _menu(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', html, re.S)[1]
    return [(label, href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)]


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_its_menu_on_every_page_and_may_open_every_item(client, world, session, role):
    users = {"viewer": world.viewer, "investment": world.investment, "manager_a": world.manager_a,
             "admin": world.admin, "bureau": make_user(session, "bureau", Role.BUREAU)}
    session.commit()
    if role != "anonymous":
        login_as(client, users[role])
    for page in ("/", "/map", f"/parks/{world.park_b.id}" if role != "anonymous" else "/login"):
        html = client.get(page).get_data(as_text=True)
        assert [label for label, _ in _menu(html)] == MENUS[role], page
        assert ("退出" in html) == (role != "anonymous") and ("登录" in html) == (role == "anonymous"), page
    for label, href in _menu(client.get("/").get_data(as_text=True)):
        resp = client.get(href, follow_redirects=True)
        assert resp.status_code == 200, (role, label, href)
        assert "/login" not in resp.request.path, (role, label)


def test_the_current_section_is_marked(client, world):
    login_as(client, world.manager_a)
    html = client.get(f"/parks/{world.park_a.id}").get_data(as_text=True)
    assert re.search(r'aria-current="page">园区<', html)
    html = client.get("/map").get_data(as_text=True)
    assert re.search(r'aria-current="page">空置厂房地图<', html)


def test_a_park_manager_goes_from_the_menu_to_their_park(client, world):
    login_as(client, world.manager_a)
    assert client.get("/parks").headers["Location"].endswith(f"/parks/{world.park_a.id}")
    assert client.get("/activity").headers["Location"].endswith(f"/parks/{world.park_a.id}/activity")


def test_the_home_page_leads_to_the_map(client, world):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/map"' in html and "在地图上查看空置厂房" in html


def test_what_went_wrong_is_said_on_a_styled_page_in_the_readers_language(db_url, world):
    from web import create_app
    app = create_app({"TESTING": False, "DATABASE_URL": db_url, "SECRET_KEY": "k"})
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = app.test_client()
    cases = {"/no/such/page": (404, "找不到页面"), "/boom": (500, "服务器出错了"), "/?as_of=2026-13-45": (400, "as_of"),
             f"/buildings/{world.building_a.id}/verify": (405, "请求方式")}
    for url, (code, words) in cases.items():
        resp = client.get(url)
        page = resp.get_data(as_text=True)
        assert resp.status_code == code and words in page, (url, resp.status_code)
        assert '<nav class="menu"' in page and "Werkzeug" not in page and "Not Found" not in page, url
    resp = client.get("/no/such/page?lang=en")
    assert resp.status_code == 404 and "There is no such page" in resp.get_data(as_text=True)
    login_as(client, world.viewer)
    resp = client.get(f"/buildings/{world.building_a.id}/edit?lang=zh-CN")
    assert resp.status_code == 403 and "只有该园区的园区管理人员" in resp.get_data(as_text=True)
    api = client.get("/api/nothing-here", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["code"] == 404


def test_numbers_and_names_read_as_people_write_them(client, session):
    from registry.core.models import AnnualIndicator
    from registry.evaluation import runs
    from web.formatting import number

    from .test_evaluation_outputs import build_bureau
    assert [number(x) for x in (5.467695000000001, 144.0, 1.85884e+06, None, 0.5)] == ["5.47", "144", "1,858,840",
                                                                                        "—", "0.5"]
    b = build_bureau(session)
    firm = b["firms"]["甲一精密"]
    indicator = session.query(AnnualIndicator).filter_by(enterprise_id=firm.id, year=2025).one()
    indicator.electricity_kwh, indicator.employees_avg = 1.85884e+06, 50.0
    run = runs.create_run(session, ruleset="huaian-2024", year=2025, actor="bureau")
    session.commit()
    login_as(client, b["users"][Role.BUREAU])
    page = client.get(f"/evaluation/{run.id}/enterprise/{firm.uscc}").get_data(as_text=True)
    assert "1,858,840" in page and "e+0" not in page and "<dd>50</dd>" in page, re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", page))[:3000]
    assert "之后" not in page and "淮安市工业企业资源集约利用综合评价" in page
    runs_page = client.get("/evaluation").get_data(as_text=True)
    assert ">淮安市工业企业资源集约利用综合评价（2024）</option>" in runs_page


def test_the_brochure_names_the_industries_it_excludes(client, world, session):
    b = world.building_b
    b.industries_excluded = ["26", "31"]
    session.commit()
    page = client.get(f"/buildings/{b.id}/brochure").get_data(as_text=True)
    assert "26 化学原料和化学制品制造业" in page and "31 黑色金属冶炼和压延加工业" in page


def test_the_map_lists_buildings_with_space_at_every_zoom(client, world, session):
    from . import factories as f
    for i in range(3):
        f.building(session, world.park_a, gfa=1000 * (i + 1), floors=1, units_per_floor=1, dx=0.002 * (i + 1))
    session.commit()
    far = client.get("/api/buildings?zoom=5&bbox=100,20,120,40&list=2").get_json()
    assert far["clustered"] and len(far["list"]) == 2
    areas = [x["properties"]["available_m2"] for x in far["list"]]
    assert areas == sorted(areas, reverse=True) and all(x["geometry"]["type"] == "Point" for x in far["list"])
    assert "list" not in client.get("/api/buildings?zoom=5&bbox=100,20,120,40").get_json()


def test_zoomed_out_the_map_still_lists_buildings_and_a_click_opens_one(app_page, world, session):
    from geoalchemy2.shape import to_shape
    c = to_shape(world.building_a.footprint).centroid
    page = app_page
    page.goto(f"{page.base_url}/map?lat={c.y:.5f}&lng={c.x:.5f}&z=6", wait_until="load")
    page.wait_for_selector("#results li.result", timeout=15000)
    assert page.locator("#results li.result").count() == 2  # both worlds' buildings, most space first
    page.locator("#results li.result").first.click()
    page.wait_for_selector(".details:not([hidden])", timeout=15000)
    assert page.evaluate("() => window.vacancyMap.map.getZoom()") > 6


def test_the_card_shows_the_units_that_fit_the_filters(client, app_page, world):
    b = world.building_a
    card = client.get(f"/api/buildings/{b.id}?ground_floor=1").get_json()
    fits = {u["code"]: u["fits"] for u in card["units"]}
    assert fits and all(ok == code.startswith("1-") for code, ok in fits.items() if code != "1-01"), fits
    assert "fits" not in client.get(f"/api/buildings/{b.id}").get_json()["units"][0]
    page = app_page
    page.goto(f"{page.base_url}/map?ground_floor=1&b={b.id}", wait_until="load")
    page.wait_for_selector(".details:not([hidden]) table.units", timeout=15000)
    floors = page.eval_on_selector_all(".details table.units tr td:first-child", "tds => tds.map(t => t.textContent)")
    assert floors and set(floors) == {"1F"}, floors
    assert "不符合筛选条件" in page.inner_text(".details")


def test_without_a_basemap_the_map_shows_park_names_and_plot_edges(app_page, world, session):
    from geoalchemy2.shape import to_shape
    from registry.core.enums import PlotStatus
    from . import factories as f
    plot = f.plot(session, world.park_a, status=PlotStatus.SUPPLIED)
    session.commit()
    c = to_shape(plot.geom).centroid
    page = app_page
    page.goto(f"{page.base_url}/map?lat={c.y:.5f}&lng={c.x:.5f}&z=16", wait_until="load")
    page.wait_for_selector(".leaflet-tooltip.park-label", timeout=15000)
    assert world.park_a.name in page.inner_text(".leaflet-map-pane")
    page.wait_for_selector("path.plot-edge", timeout=15000)
    assert page.external_requests == []
