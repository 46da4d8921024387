"""Creating and editing parks, plots, buildings and units through the web, on both backends; and
every page's assets are served by the app itself."""
import json
import re

import pytest
from sqlalchemy import func, select

from registry.core.models import Building, Floor, Jurisdiction, Park, Plot, Unit

from . import factories as f
from .webhelpers import login_as, post


def square(dx=0.0, size=0.0004):
    x, y = f.LON + 0.005 + dx, f.LAT + 0.005
    return json.dumps({"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]})


def test_admin_creates_a_park_with_a_new_jurisdiction(client, world, session):
    login_as(client, world.admin)
    resp = post(client, "/parks/new", {"name": "新建产业园", "level": "county", "jurisdiction_code": "610922",
                                       "jurisdiction_name": "石泉县", "planned_area_mu": "1200", "boundary": square(size=0.01)})
    assert resp.status_code == 302
    park = session.scalar(select(Park).where(Park.name == "新建产业园"))
    assert park.jurisdiction.name == "石泉县" and park.planned_area_mu == 1200
    assert session.get(Jurisdiction, "610922") is not None


def test_a_manager_creates_a_building_with_storeys_then_a_unit(client, world, session):
    login_as(client, world.manager_a)
    resp = post(client, f"/parks/{world.park_a.id}/buildings/new", {
        "code": "C-01", "name": "3号标准厂房", "type": "standard_factory", "status": "completed",
        "floors_above": "3", "gfa_m2": "7200", "storey_heights": "8, 5.4, 5.4", "floor_loads_t": "3,1.2,1.2",
        "structure": "frame", "power_kva": "800", "completion_date": "2024-05-01", "footprint": square()})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    b = session.scalar(select(Building).where(Building.code == "C-01"))
    assert [(fl.level, fl.storey_height_m, round(fl.floor_load_t_m2, 2)) for fl in b.floors] == [
        (1, 8.0, 3.0), (2, 5.4, 1.2), (3, 5.4, 1.2)]
    assert 1500 < b.footprint_area_m2 < 1700  # a 0.0004° square at 32.7°N
    resp = post(client, f"/buildings/{b.id}/units/new", {"floor_level": "2", "code": "2-01",
                                                         "leasable_area_m2": "2400", "leasable": "on"})
    assert resp.status_code == 302
    session.expire_all()  # look again: what the app committed since
    assert session.scalar(select(Unit.leasable_area_m2).where(Unit.building_id == b.id)) == 2400


def test_bad_building_input_is_refused_field_by_field_and_nothing_is_written(client, world, session):
    login_as(client, world.manager_a)
    before = session.scalar(select(func.count(Building.id)))
    resp = post(client, f"/parks/{world.park_a.id}/buildings/new", {
        "code": "C-02", "type": "standard_factory", "status": "completed", "floors_above": "2", "gfa_m2": "-5",
        "storey_heights": "8, 5, 5", "footprint": json.dumps({"type": "Polygon", "coordinates": [[[32.66, 108.95],
                                                              [32.67, 108.95], [32.67, 108.96], [32.66, 108.95]]]})})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    # Each message beside its field.
    assert re.search(r'name="gfa_m2"[^>]*>\s*(<small>[^<]*</small>)?<span class="field-problem"', text)
    assert re.search(r'name="footprint"[^>]*>[^<]*</textarea></details>\s*<span class="field-problem"[^>]*>[^<]*经纬度写反了？',
                     text)
    assert session.scalar(select(func.count(Building.id))) == before
    assert 'value="C-02"' in text  # what the user typed is kept


def test_storeys_with_units_cannot_be_removed(client, world, session):
    login_as(client, world.manager_a)
    b = world.building_a
    resp = post(client, f"/buildings/{b.id}/edit", {"code": b.code, "type": "standard_factory", "status": "completed",
                                                    "floors_above": "2", "gfa_m2": "6000", "footprint": square(0.01)})
    assert resp.status_code == 400 and "第 3 层还有单元" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count(Floor.id)).where(Floor.building_id == b.id)) == 3


def test_editing_with_a_stale_version_is_a_conflict(client, world, session):
    login_as(client, world.manager_a)
    b = world.building_a
    form = {"code": b.code, "type": "standard_factory", "status": "completed", "floors_above": "3",
            "gfa_m2": "6100", "footprint": square(0.01), "version": b.version}
    assert post(client, f"/buildings/{b.id}/edit", form).status_code == 302
    form["gfa_m2"] = "6200"
    resp = post(client, f"/buildings/{b.id}/edit", form)
    assert resp.status_code == 409 and "6100" in resp.get_data(as_text=True)


def test_plot_with_holder_and_unit_edits(client, world, session):
    login_as(client, world.manager_a)
    holder = world.lease_a.enterprise
    resp = post(client, f"/parks/{world.park_a.id}/plots/new", {
        "code": "P-9", "land_use": "industrial", "rights_type": "transfer", "holder_uscc": holder.uscc,
        "certificate_area_m2": "6666.67", "supply_date": "2019-05-01", "status": "supplied", "geom": square(0.02, 0.002)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    plot = session.scalar(select(Plot).where(Plot.code == "P-9"))
    assert plot.holder_id == holder.id and round(plot.area_mu, 2) == 10.0
    unit = world.building_a.units[5]
    assert post(client, f"/units/{unit.id}/edit", {"floor_level": "3", "code": unit.code, "leasable_area_m2": "900",
                                                   "version": unit.version}).status_code == 302
    session.expire_all()
    u = session.get(Unit, unit.id)
    assert u.leasable_area_m2 == 900 and u.leasable is False  # the unchecked box marks it not leasable


@pytest.mark.parametrize("who", ["manager_a", "investment", "viewer"])
def test_only_admins_create_parks_and_only_scoped_users_edit(client, world, who):
    login_as(client, getattr(world, who))
    assert post(client, "/parks/new", {"name": "x", "level": "county", "jurisdiction_code": "610902"}).status_code == 403
    assert post(client, f"/parks/{world.park_b.id}/buildings/new", {"code": "X"}).status_code == 403
    assert post(client, f"/buildings/{world.building_b.id}/edit", {"code": "X"}).status_code == 403
    assert post(client, f"/units/{world.building_b.units[0].id}/edit", {"code": "X"}).status_code == 403
    assert post(client, f"/parks/{world.park_b.id}/plots/new", {"code": "X"}).status_code == 403


def test_admin_user_page(client, world, session):
    from registry.core.models import User
    login_as(client, world.admin)
    resp = post(client, "/admin/users", {"username": "zhang", "password": "long-enough-pw", "role": "park_manager",
                                         "park": [str(world.park_a.id)], "display_name": "张三"})
    assert resp.status_code == 302
    z = session.scalar(select(User).where(User.username == "zhang"))
    assert z.role.value == "park_manager" and [s.park_id for s in z.park_scopes] == [world.park_a.id]
    assert post(client, f"/admin/users/{z.id}/active", {"active": "0"}).status_code == 302
    session.expire_all()
    assert session.get(User, z.id).active is False
    short = post(client, "/admin/users", {"username": "li", "password": "short", "role": "viewer"})
    assert short.status_code == 400 and "至少 12 个字符" in short.get_data(as_text=True)
    login_as(client, world.manager_a)
    assert client.get("/admin/users").status_code == 403


ASSET_RE = re.compile(r'(?:src|href)="([^"#]+)"')


def test_every_asset_a_page_references_is_served_locally(client, world):
    login_as(client, world.admin)
    pages = ["/", f"/parks/{world.park_a.id}", f"/buildings/{world.building_a.id}", f"/buildings/{world.building_a.id}/edit",
             f"/parks/{world.park_a.id}/plots/new", "/parks/new", f"/units/{world.building_a.units[0].id}",
             f"/parks/{world.park_a.id}/excel", "/admin/users", "/login", "/map",
             f"/buildings/{world.building_a.id}/brochure"]
    seen = set()
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        for ref in ASSET_RE.findall(html):
            assert not re.match(r"^(https?:)?//", ref), f"{page} references a remote asset: {ref}"
            if ref.startswith("/static/"):
                seen.add(ref)
    for ref in seen:
        assert client.get(ref).status_code == 200, ref
    assert any("leaflet.draw.js" in r for r in seen) and any("leaflet.markercluster.js" in r for r in seen)
    # The vendored CSS pulls images relative to itself: those must exist too.
    for css in [r for r in seen if r.endswith(".css") and "vendor" in r]:
        text = client.get(css).get_data(as_text=True)
        for img in re.findall(r"url\(([^)\"']+)\)", text):
            if not img.startswith(("data:", "#")):
                assert client.get(css.rsplit("/", 1)[0] + "/" + img).status_code == 200, (css, img)
