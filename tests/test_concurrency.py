"""Several park managers change the same leases at the same moment, over real HTTP: no update is
lost. Each write is either applied or refused with a conflict (409), never silently overwritten,
and the audit trail tells exactly the story the clients' own logs tell."""
from __future__ import annotations

import datetime as dt
import random
import re
import threading

from sqlalchemy import select

from registry.core.models import AuditRecord, Lease

from .conftest import TODAY
from .webhelpers import build_world, signed_in

CLIENTS = 6
ROUNDS = 8


def _lease_form(html: str, lease_id: int) -> tuple[int, dt.date, str]:
    """What the manager sees on the unit page: the lease's version, its last day, and the form token."""
    row = re.search(rf'<tr data-lease-id="{lease_id}">(.*?)</tr>', html, re.S).group(1)
    last_day = dt.date.fromisoformat(re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", row)[1])
    version = int(re.search(r'name="version" value="(\d+)"', row).group(1))
    token = re.search(r'name="csrf_token" value="([^"]+)"', row).group(1)
    return version, last_day, token


def test_concurrent_terminations_lose_no_update(live_app_server, session):
    w = build_world(session)
    from . import factories as f
    # Two leases in force today, with a year to run: each client ends them a few days earlier.
    leases = {}
    for unit in w.building_a.units[1:3]:
        lease = f.lease(session, unit, w.lease_a.enterprise, TODAY - dt.timedelta(days=365),
                        TODAY + dt.timedelta(days=365))
        leases[lease.id] = unit.id
    session.commit()

    clients = [signed_in(live_app_server, "mgr_a") for _ in range(CLIENTS)]
    log: list[dict] = []
    lock = threading.Lock()
    seen = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        rnd = random.Random(i)
        for round_ in range(ROUNDS):
            lease_id = list(leases)[(i + round_) % len(leases)]
            page = clients[i].get(f"{live_app_server}/units/{leases[lease_id]}").text
            version, last_day, token = _lease_form(page, lease_id)
            free_from = last_day + dt.timedelta(days=1) - dt.timedelta(days=rnd.randint(1, 3))
            seen.wait()  # everyone has read; now everyone saves at once
            r = clients[i].post(f"{live_app_server}/leases/{lease_id}/terminate", allow_redirects=False,
                                data={"version": version, "free_from": free_from.isoformat(), "csrf_token": token})
            with lock:
                log.append({"client": i, "lease": lease_id, "seen_version": version, "free_from": free_from,
                            "status": r.status_code})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(log) == CLIENTS * ROUNDS
    assert {e["status"] for e in log} <= {302, 409}, sorted({e["status"] for e in log})
    assert any(e["status"] == 409 for e in log), "the clients never collided: the test proved nothing"

    session.expire_all()
    for lease_id in leases:
        applied = sorted((e for e in log if e["lease"] == lease_id and e["status"] == 302),
                         key=lambda e: e["seen_version"])
        trail = session.scalars(select(AuditRecord).where(AuditRecord.entity == "lease",
                                                          AuditRecord.entity_id == str(lease_id),
                                                          AuditRecord.action == "update")
                                .order_by(AuditRecord.id)).all()
        # One audited change per applied write, in order, each made on the version before it.
        assert [a.before["version"] for a in trail] == [e["seen_version"] for e in applied]
        assert [a.after["version"] for a in trail] == [e["seen_version"] + 1 for e in applied]
        assert [a.after["end_date"] for a in trail] == [e["free_from"].isoformat() for e in applied]
        # No two writes were applied on top of the same version (that would be a lost update).
        assert len({e["seen_version"] for e in applied}) == len(applied)
        final = session.get(Lease, lease_id)
        assert final.version == 1 + len(applied)
        assert final.end_date == applied[-1]["free_from"]
