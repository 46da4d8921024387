"""Pages as a person sees them, in headless Chromium."""
import pytest

from .conftest import TODAY

pytestmark = pytest.mark.browser


def sign_in(page, username):
    """Signs in through the login form, as a person does."""
    from .webhelpers import PASSWORD
    page.goto(f"{page.base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_home_page_shows_the_parks_offline(page):
    page.goto(f"{page.base_url}/?as_of={TODAY}", wait_until="networkidle")
    rows = page.locator("tr.park")
    assert rows.count() == 3
    ankang = page.locator("tr.park", has_text="安康高新技术产业开发区")
    assert "67 栋 64.24 万㎡" in ankang.inner_text()
    assert page.locator("tr.total").count() == 1
    assert page.external_requests == []


def test_the_date_picker_recomputes_the_figures(page):
    page.goto(f"{page.base_url}/?as_of={TODAY}")
    today_rate = page.locator("tr.total td.rate").inner_text()
    page.fill("input[name=as_of]", "2019-01-01")
    page.click("button[type=submit]")
    page.wait_for_url("**as_of=2019-01-01**")
    assert page.locator("tr.total td.rate").inner_text() != today_rate


def test_stacking_plan_in_the_browser(app_page, session):
    from .webhelpers import build_world
    w = build_world(session)
    page = sign_in(app_page, "mgr_a")
    page.goto(f"{page.base_url}/buildings/{w.building_a.id}?as_of=2026-06-01", wait_until="networkidle")

    blocks = page.locator(".unit")
    assert blocks.count() == 6
    assert page.locator('.unit[data-status="leased"]').count() == 1
    assert page.locator('.unit[data-status="vacant"]').count() == 5
    leased = page.locator(f'.unit[data-unit-id="{w.lease_a.unit_id}"]')
    # Colours follow the status: leased blue, vacant green.
    assert leased.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(59, 111, 182)"
    assert page.locator('.unit[data-status="vacant"]').first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(46, 158, 91)"
    # Block widths follow area: all six units are equal, so each takes half of its floor.
    widths = [b.bounding_box()["width"] for b in blocks.all()]
    assert max(widths) - min(widths) < 2
    # Hovering shows tenant, area, rent and end date.
    leased.hover()
    tip = leased.locator(".tip")
    assert tip.is_visible() and "甲租户有限公司" in tip.inner_text() and "2026-12-31" in tip.inner_text()
    assert "1,000 ㎡" in tip.inner_text() and "37.77" in tip.inner_text()
    # Moving the date redraws the plan: within 90 days of the end the lease shows as expiring, then vacant.
    page.fill("input[name=as_of]", "2026-11-15")  # the picker's change event submits the form
    page.wait_for_url("**as_of=2026-11-15**", wait_until="load")
    assert page.locator('.unit[data-status="expiring"]').count() == 1
    assert page.locator(f'.unit[data-unit-id="{w.lease_a.unit_id}"]').evaluate(
        "e => getComputedStyle(e).backgroundColor") == "rgb(232, 135, 30)"
    page.fill("input[name=as_of]", "2027-01-01")
    page.wait_for_url("**as_of=2027-01-01**", wait_until="load")
    assert page.locator('.unit[data-status="vacant"]').count() == 6
    assert page.external_requests == []


def test_drawing_a_building_footprint_on_the_offline_map(app_page, session):
    import json

    from sqlalchemy import select

    from registry.core.models import Building

    from .webhelpers import build_world
    w = build_world(session)
    page = sign_in(app_page, "mgr_a")
    page.goto(f"{page.base_url}/parks/{w.park_a.id}/buildings/new", wait_until="networkidle")
    page.wait_for_selector("path.leaflet-interactive, .leaflet-overlay-pane path", state="attached")
    assert page.locator(".leaflet-overlay-pane path").count() >= 2  # the park boundary and the other building

    page.click(".leaflet-draw-draw-rectangle")
    box = page.locator("#geom-map").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 80, y0 + 50, steps=5)
    page.mouse.up()
    geometry = json.loads(page.input_value("textarea[name=footprint]"))
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5

    page.fill("input[name=code]", "D-01")
    page.fill("input[name=floors_above]", "2")
    page.fill("input[name=gfa_m2]", "3000")
    page.click("form.asset-form button[type=submit]")
    page.wait_for_url("**/buildings/*")
    session.expire_all()
    b = session.scalar(select(Building).where(Building.code == "D-01"))
    assert b is not None and b.footprint_area_m2 > 0
    assert page.external_requests == []


def _map_ready(page, loads=1):
    page.wait_for_function(f"() => window.vacancyMap && window.vacancyMap.state.loaded >= {loads}")


def test_the_demo_map_draws_its_polygons_offline(page):
    page.goto(f"{page.base_url}/map?lat=32.888&lng=108.515&z=16", wait_until="networkidle")
    _map_ready(page)
    page.wait_for_selector("path.leaflet-interactive", state="attached")
    drawn = page.evaluate("window.vacancyMap.state.features.length")
    assert drawn > 0 and page.locator("#results li").count() == drawn
    assert page.locator("path.leaflet-interactive").count() >= drawn
    assert page.external_requests == []


def test_a_filter_change_reduces_the_map_to_the_matching_set(page):
    page.goto(f"{page.base_url}/map?lat=32.888&lng=108.515&z=15", wait_until="networkidle")
    _map_ready(page)
    before = page.evaluate("window.vacancyMap.state.features.length")
    loads = page.evaluate("window.vacancyMap.state.loaded")
    page.check("input[name=ground_floor]")
    page.fill("input[name=min_area]", "1500")
    page.locator("input[name=min_area]").dispatch_event("change")
    _map_ready(page, loads + 1)
    page.wait_for_timeout(600)  # the debounced input reload
    shown = sorted(page.evaluate("window.vacancyMap.state.features.map(f => f.properties.id)"))
    assert 0 < len(shown) < before
    # The same query against the API gives exactly the buildings on the map and in the list.
    bounds = page.evaluate("(() => { const b = window.vacancyMap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
    api = page.request.get(f"{page.base_url}/api/buildings?zoom=15&ground_floor=1&min_area=1500&limit=1000&bbox=" + ",".join(map(str, bounds))).json()
    assert sorted(f["properties"]["id"] for f in api["features"]) == shown
    listed = sorted(int(i) for i in page.eval_on_selector_all("#results li", "els => els.map(e => e.dataset.id)"))
    assert listed == shown
    assert "min_area=1500" in page.url and "ground_floor=1" in page.url


def test_a_shared_link_restores_the_same_view(page, chromium):
    page.goto(f"{page.base_url}/map?lat=32.888&lng=108.515&z=16", wait_until="networkidle")
    _map_ready(page)
    page.fill("input[name=max_rent]", "9.5")
    page.locator("input[name=max_rent]").dispatch_event("change")
    page.wait_for_timeout(800)
    page.locator("#results li").first.click()
    page.wait_for_selector("#details:not([hidden]) h2")
    page.wait_for_timeout(900)  # the fly-to animation, then the URL update
    shared = page.url
    ids = sorted(page.evaluate("window.vacancyMap.state.features.map(f => f.properties.id)"))
    title = page.inner_text("#details h2")
    other = chromium.new_page()
    other.goto(shared, wait_until="networkidle")
    other.wait_for_function("() => window.vacancyMap && window.vacancyMap.state.loaded >= 1")
    other.wait_for_selector("#details:not([hidden]) h2")
    assert other.input_value("input[name=max_rent]") == "9.5"
    assert sorted(other.evaluate("window.vacancyMap.state.features.map(f => f.properties.id)")) == ids
    assert other.inner_text("#details h2") == title
    center = other.evaluate("window.vacancyMap.map.getCenter()")
    params = dict(p.split("=") for p in shared.split("?")[1].split("&"))
    assert abs(center["lat"] - float(params["lat"])) < 1e-4 and abs(center["lng"] - float(params["lng"])) < 1e-4
    other.close()


def test_the_brochure_renders_and_prints_to_pdf(page):
    page.goto(f"{page.base_url}/map?lat=32.888&lng=108.515&z=16", wait_until="networkidle")
    _map_ready(page)
    bid = page.evaluate("window.vacancyMap.state.features[0].properties.id")
    page.goto(f"{page.base_url}/buildings/{bid}/brochure", wait_until="networkidle")
    assert page.locator("svg polygon.this").count() >= 1 and page.locator("table.units tr").count() >= 2
    assert page.evaluate("document.fonts.check('12px \"Noto Sans CJK SC\"')")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert page.external_requests == []


def test_a_hostile_name_shows_as_text_on_the_map(app_page, session):
    from .test_vacancy import XSS, build_estate
    build_estate(session)
    page = app_page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{page.base_url}/map?lat={32.662 + 0.005}&lng={108.955 + 0.005}&z=16", wait_until="networkidle")
    page.wait_for_function("() => window.vacancyMap && window.vacancyMap.state.loaded >= 1")
    page.locator("#results li", has_text=XSS).first.click()
    page.wait_for_selector("#details:not([hidden]) h2")
    assert page.inner_text("#details h2") == XSS
    assert page.locator("img[src=x]").count() == 0 and dialogs == []


def test_the_map_is_usable_on_a_phone(chromium, live_server):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/map?lat=32.888&lng=108.515&z=16", wait_until="networkidle")
    page.wait_for_function("() => window.vacancyMap && window.vacancyMap.state.loaded >= 1")
    map_box = page.locator(".map-area").bounding_box()
    assert map_box["width"] >= 380 and map_box["height"] > 300  # the map spans the screen
    item = page.locator("#results li").first
    item.scroll_into_view_if_needed()
    assert item.bounding_box()["height"] >= 44  # large enough to tap
    item.tap()
    page.wait_for_selector("#details:not([hidden]) h2")
    assert page.locator("#details").bounding_box()["width"] <= 390
    context.close()


def test_the_bureau_runs_an_evaluation_and_reads_it_offline(app_page, session):
    from .test_evaluation_outputs import build_bureau
    build_bureau(session)
    page = sign_in(app_page, "bureau")
    page.goto(f"{page.base_url}/evaluation")
    page.select_option("select[name=ruleset]", "huaian-2024")
    page.fill("input[name=year]", "2025")
    page.click("form.evaluate button[type=submit]")
    page.wait_for_url("**/evaluation/*")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.ranking tbody tr").count() == 3
    # The four charts are drawn (SVG from the app itself) and the first row's class is coloured.
    for img in page.locator(".charts img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    first = page.locator("table.ranking tbody tr").first
    assert first.locator(".klass").inner_text() == "A"
    assert first.locator(".klass").evaluate("e => getComputedStyle(e).color") == "rgb(30, 107, 65)"
    page.select_option("select[name=park]", "乙园区")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**park=**")
    assert page.locator("table.ranking tbody tr").count() == 1
    page.locator("table.ranking a").first.click()
    page.wait_for_load_state()
    assert "计算过程" in page.content() and page.locator("table.explain tbody tr").count() >= 3
    assert page.external_requests == []


def test_the_printable_land_supply_sheet_renders(app_page, session):
    from registry.core.enums import Role

    from .webhelpers import make_user
    make_user(session, "ls_printer", Role.INVESTMENT)
    session.commit()
    page = sign_in(app_page, "ls_printer")
    page.goto(f"{page.base_url}/landcalc")
    for name, value in (("industry_code", "3811"), ("investment_wan", "30000"), ("footprint_m2", "20000"),
                        ("storey_heights", "9,4.5"), ("green_m2", "5000"), ("land_mu", "70"), ("tax_wan", "2100")):
        page.fill(f"input[name={name}]", value)
    page.click("form.landcalc button[type=submit]")
    page.wait_for_load_state()
    assert "符合用地控制指标" in page.locator(".verdict").inner_text()
    # Instant results, no submit: on 110 亩 the 20,000 m² footprint is under 30% of the site.
    page.fill("input[name=land_mu]", "110")
    page.wait_for_function("() => document.querySelector('.verdict').innerText.includes('不符合')")
    assert "land_mu=110" in page.url and page.locator('tr[data-check="building_coefficient"].fail').count() == 1
    page.fill("input[name=land_mu]", "70")
    page.wait_for_function("() => document.querySelector('.verdict').innerText.includes('符合用地控制指标，可按方案供地')")
    page.click("text=打印测算单")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.checks tbody tr").count() == 6
    assert page.locator('tr[data-check="far"]').inner_text().count("✓") == 1
    assert page.evaluate("document.fonts.check('12px \"Noto Sans CJK SC\"')")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert page.external_requests == []


def _shot(page, tmp_path, name):
    """A screenshot of the page, kept for a person to look at (SCREENSHOT_DIR, else the test's tmp)."""
    import os
    from pathlib import Path
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_park_manager_signs_renews_ends_and_converts_through_the_pages(app_page, session, tmp_path):
    """The manager's week in Chromium: sign a unit with the contract's last day, renew it under a new
    contract number, end another lease early with its reason (checked, then confirmed), turn a
    reservation into a lease, and read it all back in the park's 操作记录."""
    import datetime as dt

    from registry.core.validation import make_uscc

    from . import factories as f
    from .webhelpers import build_world
    w = build_world(session)
    current = f.lease(session, w.building_a.units[4], w.lease_a.enterprise, TODAY - dt.timedelta(days=100),
                      TODAY + dt.timedelta(days=200))
    session.commit()
    page = sign_in(app_page, "mgr_a")
    base = page.base_url
    # Sign: the form asks for the contract's last day.
    page.goto(f"{base}/buildings/{w.building_a.id}")
    unit = w.building_a.units[1]
    page.check(f"input[name=unit_id][value='{unit.id}']")
    page.fill("input[name=uscc]", make_uscc("610902", "MA0BRW01"))
    page.fill("input[name=name]", "浏览器签约有限公司")
    start, last = TODAY + dt.timedelta(days=10), TODAY + dt.timedelta(days=10 + 729)
    page.fill("input[name=start_date]", start.isoformat())
    page.fill("input[name=end_date]", last.isoformat())
    page.fill("input[name=contract_no]", "HT-B-1")
    page.fill("input[name=contact_name]", "周经理")
    page.click("form[action$='/leases'] button[type=submit]")
    page.wait_for_load_state()
    block = page.locator(f'.unit[data-unit-id="{unit.id}"]')
    assert block.get_attribute("data-status") == "signed" and "浏览器签约有限公司" in block.inner_text()
    _shot(page, tmp_path, "stacking-desktop")
    # Renew it under a new contract number.
    page.goto(f"{base}/units/{unit.id}")
    assert f"<td>{last}" in page.content()
    page.click("details:has(form[action$='/renew']) summary")
    page.fill("form[action$='/renew'] input[name=end_date]", (last + dt.timedelta(days=365)).isoformat())
    page.fill("form[action$='/renew'] input[name=contract_no]", "HT-B-2")
    page.click("form[action$='/renew'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table.leases tbody tr").count() == 2 and "HT-B-2" in page.inner_text("table.leases")
    # End the other lease early: checked first, then confirmed.
    page.goto(f"{base}/units/{current.unit_id}")
    page.click("details:has(form[action$='/terminate']) summary")
    out_day = TODAY + dt.timedelta(days=30)
    page.fill("form[action$='/terminate'] input[name=last_day]", out_day.isoformat())
    page.select_option("form[action$='/terminate'] select[name=reason]", "relocation")
    page.click("form[action$='/terminate'] button[type=submit]")
    page.wait_for_load_state()
    assert "确认提前终止" in page.inner_text("h1") and out_day.isoformat() in page.inner_text("table.confirm")
    _shot(page, tmp_path, "terminate-confirm-desktop")
    page.click("button.danger")
    page.wait_for_load_state()
    assert "提前终止：企业搬迁" in page.inner_text("table.leases")
    # Reserve a unit, then turn the reservation into a lease.
    held = w.building_a.units[3]
    page.goto(f"{base}/units/{held.id}")
    page.click("details:has(form[action$='/reserve']) summary")
    page.fill("form[action$='/reserve'] input[name=prospect]", "意向客户孙总")
    page.fill("form[action$='/reserve'] input[name=until]", (TODAY + dt.timedelta(days=60)).isoformat())
    page.click("form[action$='/reserve'] button[type=submit]")
    page.wait_for_load_state()
    page.click("table.reservations a:has-text('转为签约')")
    page.wait_for_load_state()
    assert page.input_value("input[name=name]") == "意向客户孙总"
    page.fill("input[name=uscc]", make_uscc("610902", "MA0BRW02"))
    page.fill("input[name=end_date]", (TODAY + dt.timedelta(days=400)).isoformat())
    page.click("form[action$='/leases'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(f'.unit[data-unit-id="{held.id}"]').get_attribute("data-status") in ("leased", "expiring")
    # The park's log tells the week's story in Chinese.
    page.goto(f"{base}/parks/{w.park_a.id}/activity")
    log = page.inner_text("table.history")
    for said in ("浏览器签约有限公司", "HT-B-2", "企业搬迁", "已转签约", "意向客户孙总"):
        assert said in log, said
    _shot(page, tmp_path, "activity-desktop")


def test_the_manager_pages_fit_a_phone(chromium, live_app_server, session, tmp_path):
    """The unit page, the confirmation, the log and the follow-up list on a 390 px phone: nothing
    but a wide table scrolls sideways, inside its own box."""
    import datetime as dt

    from . import factories as f
    from .webhelpers import build_world
    w = build_world(session)
    current = f.lease(session, w.building_a.units[4], w.lease_a.enterprise, TODAY - dt.timedelta(days=100),
                      TODAY + dt.timedelta(days=60))
    session.commit()
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.base_url = live_app_server
    sign_in(page, "mgr_a")
    for name, url in (("unit", f"/units/{current.unit_id}"), ("stacking", f"/buildings/{w.building_a.id}"),
                      ("activity", f"/parks/{w.park_a.id}/activity"),
                      ("followup", f"/parks/{w.park_a.id}/reports/followup"), ("search", "/search?q=1-0")):
        page.goto(f"{live_app_server}{url}", wait_until="load")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than the phone"
        _shot(page, tmp_path, f"{name}-phone")
    context.close()
