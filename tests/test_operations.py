"""What an operator relies on: the health endpoint, request ids in the logs, and a clear, retryable
answer when the database is busy or gone, with nothing half-written."""
from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from sqlalchemy import func, select

from registry.storage.db import engine_for
from registry.core.models import AuditRecord, Lease

from .webhelpers import login_as, post


def test_health_reports_the_database_and_its_schema(client, backend):
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["database"] == ("postgresql" if backend == "postgis" else "sqlite")
    assert body["schema"] == body["expected_schema"] and body["database_ms"] >= 0


def test_health_says_when_the_schema_is_behind(app, db_url, backend):
    if backend == "postgis":
        pytest.skip("the shared PostGIS test database stays at head; the SpatiaLite copy shows the case")
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as c:
        c.execute("UPDATE alembic_version SET version_num = '0001'")
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "schema not current" and body["detail"] == "run: registry db upgrade"


def test_every_response_names_its_request_and_the_log_line_says_who_did_what(client, world, caplog):
    login_as(client, world.viewer)
    with caplog.at_level(logging.INFO, logger="registry.access"):
        r = client.get(f"/parks/{world.park_a.id}")
        kept = client.get("/api/parks", headers={"X-Request-Id": "nginx-4f2a9c01"})
    rid = r.headers["X-Request-Id"]
    assert len(rid) == 32 and kept.headers["X-Request-Id"] == "nginx-4f2a9c01"
    assert client.get("/", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"] != "<script>"
    from web.operations import JsonFormatter
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records if rec.name == "registry.access"]
    mine = next(line for line in lines if line.get("request_id") == rid)
    assert mine["method"] == "GET" and mine["path"] == f"/parks/{world.park_a.id}" and mine["status"] == 200
    assert mine["user"] == "viewer" and mine["ms"] >= 0 and mine["level"] == "INFO"
    assert any(line.get("request_id") == "nginx-4f2a9c01" for line in lines)


def test_a_locked_spatialite_file_gives_a_retryable_busy_answer(app, db_url, world, session, monkeypatch, backend):
    """Another program holds the write lock: the manager's renewal waits briefly, then is told to
    retry; nothing is written and the file stays sound. Once the lock is gone the retry succeeds."""
    if backend == "postgis":
        pytest.skip("a file lock is SpatiaLite's; PostgreSQL locks rows and waits")
    monkeypatch.setenv("REGISTRY_SQLITE_BUSY_MS", "300")
    session.close()
    engine_for(db_url).dispose()  # connections opened from now on wait 0.3 s, not 10 s
    client = app.test_client()
    login_as(client, world.manager_a)
    audits = session.scalar(select(func.count(AuditRecord.id)))
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    other.execute("BEGIN IMMEDIATE")  # another writer, e.g. a long import from the command line
    try:
        r = post(client, f"/leases/{world.lease_a.id}/renew", {"end_date": "2030-01-01"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert "数据库正忙" in r.get_data(as_text=True) and "未写入任何内容" in r.get_data(as_text=True)
        api = client.get("/api/parks")  # readers are not blocked (WAL)
        assert api.status_code == 200
    finally:
        other.rollback()
        other.close()
    session.expire_all()
    assert session.scalar(select(func.count(AuditRecord.id))) == audits
    assert session.get(Lease, world.lease_a.id).end_date.isoformat() == "2027-01-01"
    assert post(client, f"/leases/{world.lease_a.id}/renew", {"end_date": "2030-01-01"}).status_code == 302
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
