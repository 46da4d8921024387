"""Several park managers change the same leases at the same moment, over real HTTP: no update is
lost. Each write is either applied or refused with a conflict (409), never silently overwritten,
and the audit trail tells exactly the story the clients' own logs tell. Under gunicorn's worker
processes, on both backends: a unit is never let twice at once, a lease is never renewed and ended
early on the same view of it, and an Excel upload is applied once however often it is committed."""
from __future__ import annotations

import datetime as dt
import io
import random
import re
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from registry.core.models import AuditRecord, Enterprise, Lease
from registry.core.validation import make_uscc

from . import factories as f
from .conftest import TODAY
from .webhelpers import build_world, csrf_of, race, signed_in

CLIENTS = 6
ROUNDS = 8


def _lease_form(html: str, lease_id: int) -> tuple[int, dt.date, str]:
    """What the manager sees on the unit page: the lease's version, its last day, and the form token."""
    row = re.search(rf'<tr data-lease-id="{lease_id}">(.*?)</tr>', html, re.S).group(1)
    last_day = dt.date.fromisoformat(re.findall(r"<td>(\d{4}-\d{2}-\d{2})", row)[1])
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
    seen = threading.Barrier(CLIENTS, timeout=120)  # a client that fails breaks it, never hangs the rest

    def client(i: int) -> None:
        rnd = random.Random(i)
        for round_ in range(ROUNDS):
            lease_id = list(leases)[(i + round_) % len(leases)]
            page = clients[i].get(f"{live_app_server}/units/{leases[lease_id]}").text
            version, last_day, token = _lease_form(page, lease_id)
            free_from = last_day + dt.timedelta(days=1) - dt.timedelta(days=rnd.randint(1, 3))
            seen.wait()  # everyone has read; now everyone saves at once
            r = clients[i].post(f"{live_app_server}/leases/{lease_id}/terminate", allow_redirects=False,
                                data={"version": version, "last_day": (free_from - dt.timedelta(days=1)).isoformat(),
                                      "reason": "mutual", "confirm": "1", "csrf_token": token})
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


def _chain(session, unit_id: int) -> list[Lease]:
    session.expire_all()
    leases = session.scalars(select(Lease).where(Lease.unit_id == unit_id).order_by(Lease.start_date)).all()
    for before, after in zip(leases, leases[1:]):
        assert before.end_date <= after.start_date, f"leases {before.id} and {after.id} overlap"
    return leases


@pytest.mark.slow
def test_eight_managers_letting_one_unit_at_once_under_gunicorn(gunicorn_server, session):
    """Eight firms signed for the same vacant unit, for overlapping years, at the same instant: one
    lease is written; each other manager gets the form back (the period overlaps: 400; or another
    writer took it a moment ago: 409); no firm of a refused signing is registered."""
    w = build_world(session)
    unit = w.building_a.units[3]
    clients = [signed_in(gunicorn_server, "mgr_a") for _ in range(8)]
    tokens = [csrf_of(c.get(f"{gunicorn_server}/buildings/{w.building_a.id}").text) for c in clients]

    def send(i, c):
        start = dt.date(2030, 1, 1) + dt.timedelta(days=i)
        return c.post(f"{gunicorn_server}/buildings/{w.building_a.id}/leases", allow_redirects=False, data={
            "csrf_token": tokens[i], "unit_id": str(unit.id), "uscc": make_uscc("610902", f"MA0LET{i:02d}"),
            "name": f"同时签约{i}号有限公司", "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=364)).isoformat()})

    codes = [r.status_code for r in race(clients, send)]
    assert codes.count(302) == 1 and set(codes) <= {302, 400, 409}, codes
    leases = _chain(session, unit.id)
    assert len(leases) == 1 and leases[0].start_date == dt.date(2030, 1, 1) + dt.timedelta(days=codes.index(302))
    assert session.scalar(select(func.count(Enterprise.id)).where(Enterprise.name.like("同时签约%"))) == 1


@pytest.mark.slow
def test_a_renewal_and_an_early_end_of_one_lease_at_once_under_gunicorn(gunicorn_server, session):
    """Two managers look at the same lease; one renews it, the other ends it early, at the same
    instant: one is applied and the other refused (409), so the tenant is never both renewed and
    gone, and the unit's leases still follow one another without overlapping."""
    w = build_world(session)
    unit = w.building_a.units[4]
    lease = f.lease(session, unit, w.lease_a.enterprise, TODAY - dt.timedelta(days=100), TODAY + dt.timedelta(days=200))
    session.commit()
    clients = [signed_in(gunicorn_server, "mgr_a") for _ in range(2)]
    seen = [_lease_form(c.get(f"{gunicorn_server}/units/{unit.id}").text, lease.id) for c in clients]

    def send(i, c):
        version, last_day, token = seen[i]
        if i == 0:
            return c.post(f"{gunicorn_server}/leases/{lease.id}/renew", allow_redirects=False, data={
                "csrf_token": token, "version": version, "end_date": (last_day + dt.timedelta(days=730)).isoformat()})
        return c.post(f"{gunicorn_server}/leases/{lease.id}/terminate", allow_redirects=False, data={
            "csrf_token": token, "version": version, "last_day": (TODAY + dt.timedelta(days=29)).isoformat(),
            "reason": "mutual", "confirm": "1"})

    codes = [r.status_code for r in race(clients, send)]
    assert sorted(codes) == [302, 409], codes
    leases = _chain(session, unit.id)
    if codes[0] == 302:  # renewed: the old lease runs to its end and the renewal follows it
        assert len(leases) == 2 and leases[0].end_date == TODAY + dt.timedelta(days=200)
    else:  # ended early, and not renewed
        assert len(leases) == 1 and leases[0].end_date == TODAY + dt.timedelta(days=30)


@pytest.mark.slow
def test_one_excel_upload_committed_twice_at_once_under_gunicorn(gunicorn_server, session):
    """A manager double-clicks 确认提交 while a colleague commits the same upload: its changes are
    written once; the other commit is told the file was already committed."""
    w = build_world(session)
    unit = w.building_a.units[5]
    c = signed_in(gunicorn_server, "mgr_a")
    base = f"{gunicorn_server}/parks/{w.park_a.id}/excel"
    wb = load_workbook(io.BytesIO(c.get(f"{base}/template?as_of={TODAY}").content))
    row = next(r for r in wb["房源租约"].iter_rows(min_row=2) if r[1].value == unit.code and r[0].value == w.building_a.code)
    row[5].value, row[6].value, row[7].value = "新签", make_uscc("610902", "MA0XLDBL"), "重复提交有限公司"
    row[8].value, row[9].value = "2030-01-01", "2030-12-31"
    buf = io.BytesIO()
    wb.save(buf)
    page = c.get(base).text
    preview = c.post(f"{base}/preview", data={"csrf_token": csrf_of(page)},
                     files={"file": ("edited.xlsx", buf.getvalue())})
    assert preview.status_code == 200, preview.text[-2000:]
    token = re.search(r'name="token" value="([0-9a-f]{32})"', preview.text)[1]
    clients = [c, signed_in(gunicorn_server, "mgr_a")]
    csrf = [csrf_of(page), csrf_of(clients[1].get(base).text)]

    codes = [r.status_code for r in race(clients, lambda i, cl: cl.post(
        f"{base}/commit", data={"csrf_token": csrf[i], "token": token}, allow_redirects=False))]
    assert sorted(codes) in ([302, 400], [302, 409]), codes
    assert len(_chain(session, unit.id)) == 1
    assert session.scalar(select(func.count(AuditRecord.id)).where(
        AuditRecord.entity == "lease", AuditRecord.action == "insert", AuditRecord.actor == "mgr_a")) == 1
