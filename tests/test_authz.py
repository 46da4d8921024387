"""Authorization matrix, role × write endpoint, checked on the server.

A park manager of park A gets 403 on every write to park B; investment staff and viewers write
nothing; admins write everywhere.
"""
import pytest

from .webhelpers import login_as, post


def write_endpoints(w, park, building, lease):
    """Every write endpoint, aimed at the given park's records, with a valid body."""
    unit = building.units[2]
    return {
        "sign": (f"/buildings/{building.id}/leases", {"unit_id": [unit.id], "uscc": lease.enterprise.uscc,
                                                      "start_date": "2030-01-01", "end_date": "2031-01-01"}),
        "renew": (f"/leases/{lease.id}/renew", {"end_date": "2032-01-01"}),
        "terminate": (f"/leases/{lease.id}/terminate", {"last_day": "2025-12-31", "reason": "mutual", "confirm": "1"}),
        "relief": (f"/leases/{lease.id}/relief", {"reason": "疫情减免", "amount": "1", "start_date": "2025-02-01",
                                                   "end_date": "2025-03-01"}),
        "reserve": (f"/units/{unit.id}/reserve", {"prospect": "某客户", "start_date": "2029-01-01", "until": "2029-02-01"}),
        "verify": (f"/buildings/{building.id}/verify", {}),
        "excel_preview": (f"/parks/{park.id}/excel/preview", {}),
    }


ENDPOINTS = ["sign", "renew", "terminate", "relief", "reserve", "verify", "excel_preview"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_park_manager_cannot_write_to_another_park(client, world, endpoint):
    login_as(client, world.manager_a)
    url, data = write_endpoints(world, world.park_b, world.building_b, world.lease_b)[endpoint]
    assert post(client, url, data).status_code == 403


@pytest.mark.parametrize("role", ["investment", "viewer"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_only_roles_write_nothing(client, world, role, endpoint):
    login_as(client, getattr(world, role))
    url, data = write_endpoints(world, world.park_a, world.building_a, world.lease_a)[endpoint]
    assert post(client, url, data).status_code == 403


@pytest.mark.parametrize("who", ["manager_a", "admin"])
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e != "excel_preview"])
def test_scoped_managers_and_admins_may_write(client, world, who, endpoint):
    login_as(client, getattr(world, who))
    url, data = write_endpoints(world, world.park_a, world.building_a, world.lease_a)[endpoint]
    assert post(client, url, data).status_code == 302


def test_staff_read_their_own_parks_in_full_and_other_parks_at_the_public_level(client, world):
    """Park B's investment staff and viewer read its rent roll and tenants; park A's manager sees
    park B's pages without its tenant, and is refused its rent roll."""
    tenant_b = world.lease_b.enterprise.name
    for who in ("investment", "viewer"):
        login_as(client, getattr(world, who))
        assert client.get(f"/parks/{world.park_b.id}/reports/rent-roll?format=xlsx").status_code == 200, who
        assert tenant_b in client.get(f"/buildings/{world.building_b.id}").get_data(as_text=True), who
    login_as(client, world.manager_a)
    for url in (f"/parks/{world.park_b.id}", f"/buildings/{world.building_b.id}", f"/units/{world.lease_b.unit_id}"):
        resp = client.get(url)
        assert resp.status_code == 200 and tenant_b not in resp.get_data(as_text=True), url
    assert client.get(f"/parks/{world.park_b.id}/reports/rent-roll?format=xlsx").status_code == 403
