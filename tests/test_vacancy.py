"""The vacancy API: filters and bbox on both backends, paging, clusters, the GCJ-02 display shift,
public fields, escaping, and the OpenAPI document kept in step with the code."""
import datetime as dt

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import shape

from geodata import chinacoords
from registry.core.enums import BuildingStatus, Role
from registry.core.models import Building, Park, Reservation

from .conftest import TODAY
from . import factories as f
from .webhelpers import login_as, make_user

D = dt.date
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def estate(session):
    return build_estate(session)


def build_estate(session):
    """Four buildings with known specs in one park, and one far away in another."""
    p = f.park(session, name="招商园区", contact_name="王经理", contact_phone="0915-1234567")
    today = TODAY

    def make(code, dx, floors, load_t, height, crane=None, power=800, rent=10.0, status=BuildingStatus.COMPLETED,
             excluded=None, park=p, name=None):
        b = f.building(session, park, gfa=floors * 2000.0, floors=floors, units_per_floor=2, dx=dx, status=status,
                       completion=D(2020, 1, 1) if status == BuildingStatus.COMPLETED else None)
        b.code, b.name, b.crane_tonnage_t, b.power_kva, b.asking_rent_yuan_m2_month = code, name or code, crane, power, rent
        b.industries_excluded = excluded
        for fl in b.floors:
            fl.floor_load_kn_m2, fl.storey_height_m = load_t * 9.80665 if fl.level == 1 else 9.80665, height if fl.level == 1 else 4.5
        return b

    heavy = make("HEAVY", 0.000, 1, 3.0, 9.0, crane=10, power=1250, rent=12.0)  # single storey, crane
    multi = make("MULTI", 0.002, 3, 2.0, 6.0, excluded=["26"], rent=8.0)  # upper floors 1 t/m², 4.5 m
    let = make("LET", 0.004, 2, 2.0, 6.0)
    e = f.enterprise(session, XSS)
    for u in let.units:
        f.lease(session, u, e, today - dt.timedelta(days=30), today + dt.timedelta(days=400))
    f.lease(session, multi.units[0], e, today - dt.timedelta(days=30), today + dt.timedelta(days=60))  # free soon
    building = make("BUILDING", 0.006, 2, 2.0, 6.0, status=BuildingStatus.UNDER_CONSTRUCTION, name=XSS)
    far = f.park(session, name="远方园区", boundary=f.square(1.0, 1.0, 0.02))
    make("FAR", 1.001, 2, 2.0, 6.0, park=far)
    session.commit()
    return {"park": p, "heavy": heavy, "multi": multi, "let": let, "building": building, "far_park": far}


def codes(client, query=""):
    resp = client.get("/api/buildings?zoom=16&" + query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/geo+json"
    return sorted(ft["properties"]["code"] for ft in resp.get_json()["features"])


def test_every_building_with_leasable_units_is_listed_with_its_availability(client, estate):
    data = client.get("/api/buildings?zoom=16").get_json()
    classes = {ft["properties"]["code"]: ft["properties"]["availability"] for ft in data["features"]}
    assert classes == {"HEAVY": "fully_vacant", "MULTI": "partly_vacant", "LET": "fully_let",
                       "BUILDING": "under_construction", "FAR": "fully_vacant"}
    assert data["numberMatched"] == 5 and all(ft["geometry"]["type"] == "MultiPolygon" for ft in data["features"])


@pytest.mark.parametrize("query, expected", [
    ("park={park}", ["BUILDING", "HEAVY", "LET", "MULTI"]),
    ("min_area=2500", ["FAR", "MULTI"]),  # HEAVY has 2,000 m², MULTI 5,000 m² free
    ("max_area=2500", ["HEAVY"]),
    ("ground_floor=1&min_load=2.5", ["HEAVY"]),
    ("min_load=1.5", ["FAR", "HEAVY", "MULTI"]),  # ground floors of 2 t/m² (MULTI's are partly let)
    ("min_height=8", ["HEAVY"]),
    ("crane=1", ["HEAVY"]),
    ("min_power=1000", ["HEAVY"]),
    ("max_rent=9", ["MULTI"]),
    ("type=standard_factory&only_available=1", ["FAR", "HEAVY", "MULTI"]),
    ("industry=26", ["BUILDING", "FAR", "HEAVY", "LET"]),  # MULTI takes no chemicals
    ("available_by={soon}&min_area=5500", ["MULTI"]),  # its let unit is free by then
])
def test_filters_select_the_right_buildings(client, estate, query, expected):
    soon = (TODAY + dt.timedelta(days=90)).isoformat()
    assert codes(client, query.format(park=estate["park"].id, soon=soon)) == expected


def test_available_area_and_dates_follow_leases_past_and_future_and_reservations(client, session, estate):
    today = TODAY
    multi = estate["multi"]
    free = [u for u in multi.units if not u.leases]
    # An expired lease does not hold a unit; a lease starting next month holds it already (it is
    # signed: nobody else is offered it); a reservation holds it on the days it covers.
    f.lease(session, free[0], f.enterprise(session), today + dt.timedelta(days=30), today + dt.timedelta(days=300))
    f.lease(session, free[1], f.enterprise(session), today - dt.timedelta(days=400), today - dt.timedelta(days=10))
    session.add(Reservation(unit=free[2], prospect="意向客户", start_date=today, end_date=today + dt.timedelta(days=20)))
    session.commit()

    def props(query=""):
        data = client.get("/api/buildings?zoom=16&park={}&{}".format(estate["park"].id, query)).get_json()
        return {ft["properties"]["code"]: ft["properties"] for ft in data["features"]}

    now = props()["MULTI"]
    # Six units of 1,000 m²: one let, one reserved today, one signed from next month.
    assert (now["available_units"], now["available_m2"], now["available_from"]) == (3, 3000.0, today.isoformat())
    in_60_days = props(f"available_by={(today + dt.timedelta(days=60)).isoformat()}")["MULTI"]
    # By then: the first lease has ended (free from its end date), the reservation has lapsed,
    # and the future lease has begun.
    assert in_60_days["available_units"] == 5
    assert in_60_days["available_from"] == today.isoformat()
    # On the ground floor only the unit let today is free by then, from its lease's end.
    let_only = props(f"available_by={(today + dt.timedelta(days=60)).isoformat()}&ground_floor=1")
    assert let_only["MULTI"]["available_units"] == 1 and let_only["MULTI"]["available_from"] == (
        today + dt.timedelta(days=60)).isoformat()
    assert props()["LET"]["availability"] == "fully_let" and props("only_available=1").get("LET") is None


def test_space_in_a_building_under_construction_is_available_from_its_completion(client, session, estate):
    today = TODAY
    building = estate["building"]
    building.completion_date = today + dt.timedelta(days=100)
    session.commit()

    def props(query=""):
        data = client.get("/api/buildings?zoom=16&park={}&{}".format(estate["park"].id, query)).get_json()
        return {ft["properties"]["code"]: ft["properties"] for ft in data["features"]}

    # Not yet: nothing to be had today, but the list says when it will be.
    now = props()["BUILDING"]
    assert (now["availability"], now["available_units"], now["available_m2"], now["available_from"]) == (
        "under_construction", 0, 0.0, building.completion_date.isoformat())
    assert "BUILDING" not in props("only_available=1")
    # Asked for space by a date after completion: all four units, from the completion date.
    later = props(f"available_by={(today + dt.timedelta(days=120)).isoformat()}&only_available=1")["BUILDING"]
    assert (later["available_units"], later["available_m2"], later["available_from"]) == (
        4, 4000.0, building.completion_date.isoformat())


def test_below_footprint_zoom_buildings_are_points_at_their_centres(client, estate):
    data = client.get("/api/buildings?zoom=13&park={}".format(estate["park"].id)).get_json()
    heavy = next(ft for ft in data["features"] if ft["properties"]["code"] == "HEAVY")
    minx, miny, maxx, maxy = to_shape(estate["heavy"].footprint).bounds
    assert heavy["geometry"]["type"] == "Point"
    assert heavy["geometry"]["coordinates"] == pytest.approx([(minx + maxx) / 2, (miny + maxy) / 2], abs=1e-9)


def test_the_bbox_uses_the_map_window(client, estate):
    bbox = f"{f.LON - 0.001},{f.LAT - 0.001},{f.LON + 0.003},{f.LAT + 0.002}"
    assert codes(client, f"bbox={bbox}") == ["HEAVY", "MULTI"]


def test_paging_with_next_links(client, estate):
    data = client.get("/api/buildings?zoom=16&limit=2").get_json()
    assert data["numberReturned"] == 2 and data["numberMatched"] == 5
    nxt = data["links"][0]["href"]
    assert "offset=2" in nxt
    seen = [ft["id"] for ft in data["features"]]
    for offset in (2, 4):
        seen += [ft["id"] for ft in client.get(f"/api/buildings?zoom=16&limit=2&offset={offset}").get_json()["features"]]
    assert len(set(seen)) == 5


def test_low_zoom_returns_points_then_server_clusters(client, estate):
    points = client.get("/api/buildings?zoom=12").get_json()
    assert {ft["geometry"]["type"] for ft in points["features"]} == {"Point"}
    clusters = client.get("/api/buildings?zoom=6").get_json()
    assert clusters["clustered"] and sorted(ft["properties"]["count"] for ft in clusters["features"]) == [1, 4]
    # With a filter on the space, the clusters count only buildings that have it, and sum it.
    roomy = client.get("/api/buildings?zoom=6&min_area=2500").get_json()
    assert sorted((ft["properties"]["count"], ft["properties"]["available_m2"]) for ft in roomy["features"]) == [
        (1, 4000.0), (1, 5000.0)]  # FAR (four free units) and MULTI (five)


def test_bad_parameters_are_named(client, estate):
    resp = client.get("/api/buildings?min_area=-3&bbox=1,2,3&type=castle&available_by=20010101x&offset=99999999999")
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert resp.status_code == 400 and fields == {"query.min_area", "query.bbox", "query.type", "query.available_by",
                                                  "query.offset"}


def test_a_past_date_or_reversed_corners_still_answer(client, estate):
    """A link shared last month (available_by in the past) shows what is free now; a bbox drawn from
    the other corner is the same box."""
    now = client.get("/api/buildings?zoom=16").get_json()
    old_link = client.get("/api/buildings?zoom=16&available_by=2001-01-01").get_json()
    assert old_link["numberMatched"] == now["numberMatched"]
    box = client.get("/api/buildings?zoom=16&bbox=100,20,120,40").get_json()
    flipped = client.get("/api/buildings?zoom=16&bbox=120,40,100,20").get_json()
    assert box["numberMatched"] == flipped["numberMatched"] > 0


def test_gcj02_display_shift_moves_coordinates_not_data(client, estate, session):
    plain = client.get(f"/api/buildings?zoom=16&park={estate['park'].id}&type=standard_factory&crane=1").get_json()
    shifted = client.get(f"/api/buildings?zoom=16&park={estate['park'].id}&crane=1&datum=gcj02").get_json()
    x, y = plain["features"][0]["geometry"]["coordinates"][0][0][0]
    gx, gy = shifted["features"][0]["geometry"]["coordinates"][0][0][0]
    assert (gx, gy) == pytest.approx(chinacoords.wgs84_to_gcj02(x, y), abs=1e-9)
    assert (gx, gy) != pytest.approx((x, y), abs=1e-4)
    # A bbox given in GCJ-02 finds the same building.
    g = shape(shifted["features"][0]["geometry"]).bounds
    assert codes(client, f"datum=gcj02&bbox={g[0]},{g[1]},{g[2]},{g[3]}&crane=1") == ["HEAVY"]
    session.expire_all()
    assert session.get(Building, estate["heavy"].id).footprint is not None  # stored data untouched


def test_public_card_hides_tenants_and_hidden_rents_the_parks_staff_see_them(client, estate, session, world):
    park = session.get(Park, estate["park"].id)
    park.hide_rents = True
    session.commit()
    card = client.get(f"/api/buildings/{estate['multi'].id}").get_json()
    assert card["public"] and card["asking_rent"] is None
    assert all("tenant" not in u for u in card["units"]) and all(u["rent"] is None for u in card["units"])
    assert {u["status"] for u in card["units"]} <= {"vacant", "expiring", "reserved"}
    assert card["park"]["phone"] == "0915-1234567"
    listed = client.get(f"/api/buildings?zoom=16&park={park.id}").get_json()
    assert all(ft["properties"]["asking_rent"] is None for ft in listed["features"])
    login_as(client, world.investment)  # of another park: still the public card
    other = client.get(f"/api/buildings/{estate['multi'].id}").get_json()
    assert other["asking_rent"] is None and all("tenant" not in u for u in other["units"])
    login_as(client, make_user(session, "invest_here", Role.INVESTMENT, [park]))
    session.commit()
    staff = client.get(f"/api/buildings/{estate['multi'].id}").get_json()
    assert staff["asking_rent"] == 8.0 and any(u.get("tenant") == XSS for u in staff["units"])
    listed = client.get(f"/api/buildings?zoom=16&park={park.id}").get_json()
    assert next(ft for ft in listed["features"] if ft["id"] == estate["multi"].id)["properties"]["asking_rent"] == 8.0


def test_pages_escape_what_comes_from_the_database(client, estate):
    page = client.get(f"/buildings/{estate['building'].id}/brochure").get_data(as_text=True)
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_openapi_documents_every_api_route_and_parameter(app, client):
    from registry.vacancy.search import PARAMS
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    routes = {r.rule.replace("<int:building_id>", "{building_id}") for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes == set(doc["paths"])
    documented = {p["name"] for p in doc["paths"]["/api/buildings"]["get"]["parameters"]}
    assert documented == {p.name for p in PARAMS}


def test_photo_upload_shows_on_the_map_card(client, estate, world):
    import io
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    login_as(client, world.admin)
    resp = client.post(f"/buildings/{estate['heavy'].id}/photo",
                       data={"csrf_token": "test-csrf-token", "photo": (io.BytesIO(png), "a.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    name = client.get(f"/api/buildings/{estate['heavy'].id}").get_json()["photo"]
    assert name.endswith(".png") and client.get(f"/photos/{name}").data == png
    bad = client.post(f"/buildings/{estate['heavy'].id}/photo",
                      data={"csrf_token": "test-csrf-token", "photo": (io.BytesIO(b"GIF89a"), "a.gif")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400


@pytest.mark.parametrize("basemap, env, expect, datum", [
    ("none", {}, None, "wgs84"),
    ("tianditu", {"TIANDITU_KEY": "abc123"}, "tianditu.gov.cn/vec_w/wmts", "wgs84"),
    ("amap", {}, "is.autonavi.com/appmaptile", "gcj02"),
    ("xyz", {"XYZ_URL": "http://10.0.0.5/tiles/{z}/{x}/{y}.png", "XYZ_ATTRIBUTION": "内网"}, "10.0.0.5/tiles", "wgs84"),
])
def test_basemap_is_configuration(db_url, basemap, env, expect, datum):
    import json
    import re

    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k", "BASEMAP": basemap, **env})
    html = app.test_client().get("/map").get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="map-config">(.*?)</script>', html, re.S)[1])
    assert config["datum"] == datum
    if expect is None:
        assert not re.search(r"https?://(?!127\.0\.0\.1)", html.split('id="map-config"')[0].replace("http://www.w3.org", ""))
    else:
        assert expect in html
    assert len(html.encode()) < 300_000  # the page embeds no features: they come from the API
