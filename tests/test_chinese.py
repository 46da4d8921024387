"""Chinese first (issue 20): every page an administrator opens, and the pages that refuse bad
input, read in Chinese: no internal identifier (Lease.end_date, enterprise_uscc, 表单.rent) and no
English sentence in what a person sees."""
from __future__ import annotations

import re

from .test_security import _request, walk  # noqa: F401 - the route × role walk's world
from .webhelpers import login_as, post, route_urls

# What a person must not read: a model's field (Lease.end_date), a snake_case name, or four
# English words in a row. Codes and names people use are allowed.
INTERNAL = re.compile(r"\b[A-Z][a-z]+\.[a-z_]+\b|\b[a-z]+_[a-z_]+\b|(?:表单|query)\.[a-z_]+")
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){3,}\b")
ALLOWED = {"mgr_a", "make_valid", "geojson gpkg shp kml csv xlsx", "OGC API Features", "A B C D", "A B C D T"}


def visible(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", html)
    html = re.sub(r"(?s)<(code|kbd)[^>]*>.*?</\1>", " ", html)  # commands and paths shown as such
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _unreadable(html: str) -> list[str]:
    text = visible(html)
    return [m for m in INTERNAL.findall(text) + ENGLISH.findall(text) if m not in ALLOWED]


def test_every_page_reads_in_chinese(app, walk):  # noqa: F811
    values, _, users, _ = walk
    bad = {}
    for endpoint, method, url in route_urls(app, values):
        if method != "GET":
            continue
        resp = _request(app, "admin", users, "GET", url, {})
        if resp.mimetype == "text/html" and resp.status_code == 200:
            found = _unreadable(resp.get_data(as_text=True))
            if found:
                bad[url] = found
    assert bad == {}


def test_refused_input_is_explained_in_chinese(client, world):
    login_as(client, world.manager_a)
    b = world.building_a
    unit = b.units[2]
    refusals = [
        post(client, f"/buildings/{b.id}/leases", {"uscc": "91110108551385083Q", "name": "某公司", "start_date": "2026-01-01",
                                                  "end_date": "2026-12-31", "rent": "十二元"}),
        post(client, f"/buildings/{b.id}/leases", {"unit_id": [unit.id], "uscc": "", "start_date": "明天",
                                                  "end_date": "2026-12-31"}),
        post(client, f"/units/{unit.id}/edit", {"floor_level": "九", "code": unit.code, "leasable_area_m2": "abc",
                                                 "version": unit.version}),
        post(client, f"/buildings/{b.id}/edit", {"code": b.code, "type": "写字楼", "status": "completed",
                                                  "floors_above": "3", "gfa_m2": "-1", "footprint": "not a shape",
                                                  "version": b.version}),
        client.get("/landcalc?industry=99&investment_wan=abc&footprint_m2=-5"),
        client.get("/?as_of=2026-13-45"),
    ]
    assert all(r.status_code in (200, 400) for r in refusals)  # the calculator shows its refusals on its page
    found = {r.request.full_path: _unreadable(r.get_data(as_text=True)) for r in refusals}
    assert {path: words for path, words in found.items() if words} == {}
