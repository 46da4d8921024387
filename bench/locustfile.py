"""The load mix for bench/load_test.py (locust): investment staff reading the vacancy map, park
managers opening stacking plans and changing leases. Targets come from bench/load_test.py through
the LOAD_TARGETS environment variable (a JSON file), so this file holds behaviour only.

A lease change that loses a race is answered 409 by design; it is counted as a conflict, not a
failure. Anything else that is not 2xx/3xx is a failure.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re

from locust import HttpUser, between, events, task

TARGETS = json.loads(open(os.environ["LOAD_TARGETS"]).read())
PASSWORD = TARGETS["password"]
CONFLICTS = {"count": 0}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class MapVisitor(HttpUser):
    """Investment staff and investors panning the public map."""

    weight = 3
    wait_time = between(0.5, 2.0)

    @task(4)
    def county_view(self):
        b = random.choice(TARGETS["park_bboxes"])
        self.client.get(f"/api/buildings?zoom=13&limit=1000&bbox={b[0]},{b[1]},{b[2]},{b[3]}", name="/api/buildings county")

    @task(1)
    def building_card(self):
        self.client.get(f"/api/buildings/{random.choice(TARGETS['buildings'])}", name="/api/buildings/[id]")


class ParkManager(HttpUser):
    """A park manager on the stacking plan who now and then ends a lease early."""

    weight = 2
    wait_time = between(1.0, 3.0)

    def on_start(self):
        self.me = random.choice(TARGETS["managers"])
        html = self.client.get("/login", name="/login").text
        # Signed in, a manager goes to their own buildings (not the all-parks home page the form
        # redirects to; that page's cost is measured separately, docs/scaling.md).
        self.client.post("/login", name="/login", allow_redirects=False,
                         data={"username": self.me["username"], "password": PASSWORD, "csrf_token": _token(html)})

    @task(3)
    def stacking_plan(self):
        self.client.get(f"/buildings/{random.choice(self.me['buildings'])}", name="/buildings/[id] stacking plan")

    @task(1)
    def end_a_lease_early(self):
        unit_id, lease_id = random.choice(self.me["leases"])
        page = self.client.get(f"/units/{unit_id}", name="/units/[id]")
        row = re.search(rf'<tr data-lease-id="{lease_id}">(.*?)</tr>', page.text, re.S)
        if row is None or 'name="version"' not in row.group(1):
            return  # already ended by an earlier request: nothing left to change
        version = re.search(r'name="version" value="(\d+)"', row.group(1)).group(1)
        days = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", row.group(1))
        start, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[1])
        if (last - start).days < 3:
            return
        free_from = last - dt.timedelta(days=random.randint(0, 2))
        with self.client.post(f"/leases/{lease_id}/terminate", name="/leases/[id]/terminate", catch_response=True,
                              allow_redirects=False, data={"version": version, "free_from": free_from.isoformat(),
                                                           "csrf_token": _token(row.group(1))}) as r:
            if r.status_code == 409:
                CONFLICTS["count"] += 1
                r.success()  # refused with a conflict: the designed outcome of a lost race


@events.quitting.add_listener
def _report(environment, **_kw):
    with open(os.environ["LOAD_TARGETS"] + ".conflicts", "w") as f:
        f.write(str(CONFLICTS["count"]))
