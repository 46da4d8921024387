"""Signing test clients in and posting forms with a CSRF token, as a browser would."""
from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

import requests

from registry.core.enums import Role
from registry.core.models import User, UserParkScope
from registry.core.users import hash_password

from . import factories as f

TOKEN = "test-csrf-token"
PASSWORD = "correct horse battery"


def login_as(client, user) -> None:
    """Signs ``client`` in as ``user`` (an id or a User), with a cookie of the user's current
    session generation, as signing in through the form would give."""
    from registry.storage.db import sessionmaker_for
    user_id = user if isinstance(user, int) else user.id
    with sessionmaker_for(client.application.config["DATABASE_URL"])() as db:
        found = db.get(User, user_id)
        generation = found.session_generation if found is not None else 0
    with client.session_transaction() as s:
        s["user_id"] = user_id
        s["generation"] = generation
        s["_csrf"] = TOKEN


def post(client, url, data=None, **kw):
    data = dict(data or {})
    data.setdefault("csrf_token", TOKEN)
    return client.post(url, data=data, **kw)


def signed_in(base: str, username: str) -> requests.Session:
    """A browser-like HTTP session signed in to the server at ``base`` as ``username``."""
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/login").text)[1]
    assert s.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False).status_code == 302
    return s


def csrf_of(html: str) -> str:
    """The form token on a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def race(clients, send) -> list:
    """``send(i, client)`` from every client at the same instant (threads released by a barrier);
    the answers in the clients' order."""
    barrier = threading.Barrier(len(clients), timeout=120)
    out: list = [None] * len(clients)

    def run(i):
        barrier.wait()
        out[i] = send(i, clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# Park A's lease rent: a number no public page shows by chance.
SECRET_RENT = 37.77


@dataclass
class World:
    """Two parks with a building each, a tenant in each, and one user per role: the park manager
    of park A; investment staff and a viewer of park B (for whom park A is another operator's)."""

    park_a: object
    park_b: object
    building_a: object
    building_b: object
    lease_a: object
    lease_b: object
    admin: int
    manager_a: int
    investment: int
    viewer: int


def make_user(session, name, role, parks=()) -> int:
    u = User(username=name, password_hash=hash_password(PASSWORD), role=role,
             park_scopes=[UserParkScope(park_id=p.id) for p in parks])
    session.add(u)
    session.flush()
    return u.id


def build_world(session) -> World:
    d = dt.date
    a = f.park(session, name="甲园区")
    b = f.park(session, name="乙园区")
    ba = f.building(session, a, gfa=6000, floors=3, units_per_floor=2)
    bb = f.building(session, b, gfa=6000, floors=3, units_per_floor=2)
    la = f.lease(session, ba.units[0], f.enterprise(session, "甲租户有限公司"), d(2025, 1, 1), d(2027, 1, 1),
                 rent=SECRET_RENT)
    lb = f.lease(session, bb.units[0], f.enterprise(session, "乙租户有限公司"), d(2025, 1, 1), d(2027, 1, 1))
    w = World(a, b, ba, bb, la, lb,
              make_user(session, "admin", Role.ADMIN), make_user(session, "mgr_a", Role.PARK_MANAGER, [a]),
              make_user(session, "invest", Role.INVESTMENT, [b]), make_user(session, "viewer", Role.VIEWER, [b]))
    session.commit()
    return w


# Who may use each route (endpoint, method), aimed at park A's records. A new route fails
# tests/test_security.py until it is listed here.
PUBLIC, SIGNED_IN, PARK_READER, PARK_WRITER, ADMIN, EVALUATION_READER, COUNTY_EVALUATION, EVALUATION_RUNNER = (
    "public", "signed in", "reads park A's tenants", "writes park A", "admin", "reads evaluations",
    "reads the county's evaluation", "runs evaluations")
ACCESS = {
    ("main.index", "GET"): PUBLIC, ("main.parks", "GET"): PUBLIC, ("history.activity_parks", "GET"): SIGNED_IN, ("static", "GET"): PUBLIC, ("operations.healthz", "GET"): PUBLIC, ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC, ("auth.logout", "POST"): PUBLIC,
    ("auth.password", "GET"): SIGNED_IN, ("auth.password", "POST"): SIGNED_IN,
    ("users_admin.set_password", "POST"): ADMIN,
    ("api.buildings", "GET"): PUBLIC, ("api.building", "GET"): PUBLIC, ("api.parks", "GET"): PUBLIC,
    ("api.openapi", "GET"): PUBLIC, ("api.landcalc_tables_list", "GET"): PUBLIC,
    ("api.landcalc", "GET"): SIGNED_IN,
    ("vacancy_map.map_page", "GET"): PUBLIC, ("vacancy_map.brochure", "GET"): PUBLIC,
    ("vacancy_map.photo", "GET"): PUBLIC, ("vacancy_map.tile", "GET"): PUBLIC, ("vacancy_map.upload_photo", "POST"): PARK_WRITER,
    **{(f"ogc.{e}", "GET"): PUBLIC for e in ("landing", "api", "conformance", "collections", "collection", "items",
                                              "item", "queryables", "schema")},
    **{(f"manage.{e}", "GET"): SIGNED_IN for e in ("park", "building", "unit", "search")},
    **{(f"manage.{e}", "POST"): PARK_WRITER for e in ("sign", "renew", "terminate", "relief", "reserve", "verify",
                                                      "cancel_reservation")},
    **{(f"reports.{e}", "GET"): PARK_READER for e in ("rent_roll", "expiry", "followup")}, ("reports.vacancy", "GET"): SIGNED_IN,
    ("history.record", "GET"): PARK_READER, ("history.activity", "GET"): PARK_READER, ("quality.park_quality", "GET"): PARK_READER,
    ("landsupply.calculator", "GET"): SIGNED_IN, ("landsupply.sheet", "GET"): SIGNED_IN,
    ("landsupply.land", "GET"): SIGNED_IN,
    ("bulk_excel.page", "GET"): PARK_READER, ("bulk_excel.template", "GET"): PARK_READER,
    ("bulk_excel.preview", "POST"): PARK_WRITER, ("bulk_excel.commit", "POST"): PARK_WRITER,
    ("assets.new_park", "GET"): ADMIN, ("assets.new_park", "POST"): ADMIN,
    **{(f"assets.{e}", m): PARK_WRITER for e in ("edit_park", "new_plot", "edit_plot", "new_building",
                                                  "edit_building", "new_unit", "edit_unit") for m in ("GET", "POST")},
    ("gis.export_page", "GET"): SIGNED_IN, ("gis.export_file", "GET"): SIGNED_IN,
    **{(f"gis.{e}", m): ADMIN for e, m in (("import_form", "GET"), ("import_upload", "POST"),
                                          ("import_preview", "GET"), ("import_options", "POST"),
                                          ("import_commit", "POST"))},
    ("users_admin.list_users", "GET"): ADMIN, ("users_admin.create_user", "POST"): ADMIN,
    ("users_admin.set_active", "POST"): ADMIN,
    **{(f"evaluation.{e}", "GET"): EVALUATION_READER for e in ("index", "ranking", "parks", "enterprise")},
    **{(f"evaluation.{e}", "GET"): COUNTY_EVALUATION for e in ("chart", "export")},
    ("evaluation.create", "POST"): EVALUATION_RUNNER,
}
ALLOWED = {PUBLIC: {"anonymous", "viewer", "investment", "bureau", "manager_a", "admin"},
           SIGNED_IN: {"viewer", "investment", "bureau", "manager_a", "admin"},
           PARK_READER: {"bureau", "manager_a", "admin"}, PARK_WRITER: {"manager_a", "admin"}, ADMIN: {"admin"},
           EVALUATION_READER: {"investment", "bureau", "admin"}, COUNTY_EVALUATION: {"bureau", "admin"},
           EVALUATION_RUNNER: {"bureau", "admin"}}
# Who sees park A at the public level only: its tenants, credit codes and lease rents never reach them.
OUTSIDERS = {"anonymous", "viewer", "investment"}


def route_urls(app, values: dict) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every registered route, its arguments filled from ``values``
    (keyed by argument name, or by "endpoint:argument" where one endpoint needs its own value)."""
    import re
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        url = re.sub(r"<(?:[a-z]+:)?(\w+)>",
                     lambda m: str(values.get(f"{rule.endpoint}:{m.group(1)}", values.get(m.group(1)))), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out
