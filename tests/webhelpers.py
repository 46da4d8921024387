"""Signing test clients in and posting forms with a CSRF token, as a browser would."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry.enums import Role
from registry.models import User, UserParkScope
from registry.users import hash_password

from . import factories as f

TOKEN = "test-csrf-token"
PASSWORD = "correct horse battery"


def login_as(client, user) -> None:
    with client.session_transaction() as s:
        s["user_id"] = user if isinstance(user, int) else user.id
        s["_csrf"] = TOKEN


def post(client, url, data=None, **kw):
    data = dict(data or {})
    data.setdefault("csrf_token", TOKEN)
    return client.post(url, data=data, **kw)


@dataclass
class World:
    """Two parks with a building each, a tenant in each, and one user per role."""

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
    la = f.lease(session, ba.units[0], f.enterprise(session, "甲租户有限公司"), d(2025, 1, 1), d(2027, 1, 1))
    lb = f.lease(session, bb.units[0], f.enterprise(session, "乙租户有限公司"), d(2025, 1, 1), d(2027, 1, 1))
    w = World(a, b, ba, bb, la, lb,
              make_user(session, "admin", Role.ADMIN), make_user(session, "mgr_a", Role.PARK_MANAGER, [a]),
              make_user(session, "invest", Role.INVESTMENT), make_user(session, "viewer", Role.VIEWER))
    session.commit()
    return w
