"""A visual check of the main pages (issue 20): headless Chromium at a desktop (1366×900) and a
phone (390×844) size. On each page the header's parts (product, menu, user) and the page's own
title do not overlap and stay on screen, and on the phone nothing but a wide table's own box
scrolls sideways. Every screenshot is saved to SCREENSHOT_DIR (default build/screenshots, as
README.md says) for a person to look at."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from registry.core.enums import Role

from . import factories as f
from .conftest import TODAY
from .test_browser import sign_in

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
FOLDER = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[1] / "build" / "screenshots")

# Boxes that must not overlap one another, where they are on the page.
LAYOUT = """() => {
  const box = s => { const e = document.querySelector(s); if (!e) return null;
                     const r = e.getBoundingClientRect(); return r.width && r.height ? [s, r.left, r.top, r.right, r.bottom] : null; };
  return {boxes: ['header .brand', 'header nav.menu', 'header nav.user', 'main h1'].map(box).filter(Boolean),
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def _overlaps(boxes):
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1:
                out.append((a[0], b[0]))
    return out


@pytest.fixture
def county(session):
    """The bureau's two parks with firms, land and indicators, a standard factory with tenants, an
    evaluation run, and a user per role (password: webhelpers.PASSWORD)."""
    from registry.evaluation import runs

    from .test_evaluation_outputs import build_bureau
    b = build_bureau(session)
    park = b["parks"]["甲园区"]
    building = f.building(session, park, gfa=6000, floors=3, units_per_floor=2)
    firm = b["firms"]["甲一精密"]
    f.lease(session, building.units[0], firm, TODAY - dt.timedelta(days=300), TODAY + dt.timedelta(days=40))
    f.lease(session, building.units[3], b["firms"]["甲二机械"], TODAY - dt.timedelta(days=30),
            TODAY + dt.timedelta(days=700))
    run = runs.create_run(session, ruleset="huaian-2024", year=2025, actor="bureau")
    session.commit()
    return {"park": park, "building": building, "firm": firm, "run": run}


def _pages(c):
    return [("home", "/"), ("park", f"/parks/{c['park'].id}"), ("building", f"/buildings/{c['building'].id}"),
            ("map-card", f"/map?b={c['building'].id}"), ("brochure", f"/buildings/{c['building'].id}/brochure"),
            ("ranking", f"/evaluation/{c['run'].id}"),
            ("explanation", f"/evaluation/{c['run'].id}/enterprise/{c['firm'].uscc}"),
            ("landcalc", f"/landcalc?park={c['park'].id}&area_mu=30&investment_wan=30000"),
            ("history", f"/parks/{c['park'].id}/activity"), ("import", "/import")]


@pytest.mark.parametrize("size", list(SIZES))
def test_the_main_pages_look_right_at_desktop_and_phone_sizes(chromium, live_app_server, county, size):
    context = chromium.new_context(viewport=SIZES[size], locale="zh-CN", is_mobile=size == "phone",
                                   has_touch=size == "phone")
    page = context.new_page()
    page.base_url = live_app_server
    sign_in(page, Role.ADMIN.value)
    FOLDER.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, url in _pages(county):
        resp = page.goto(f"{live_app_server}{url}", wait_until="load")
        assert resp.status == 200, (name, resp.status)
        if name == "map-card":
            page.wait_for_selector(".details:not([hidden])", timeout=10000)
        layout = page.evaluate(LAYOUT)
        if _overlaps(layout["boxes"]):
            problems.append(f"{name}: {_overlaps(layout['boxes'])} overlap")
        if size == "phone" and layout["overflow"] > 1:
            problems.append(f"{name}: {layout['overflow']}px wider than the phone")
        page.screenshot(path=str(FOLDER / f"{name}-{size}.png"), full_page=name != "map-card")
    context.close()
    assert problems == []
