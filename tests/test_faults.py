"""Faults, as operators meet them: PostgreSQL stopped before or in the middle of a lease update, an
import and an evaluation run; a disk that fills up during an export. The app answers 503 with a
clear message, writes nothing partial, and works again once the database is back, without a
restart."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from registry.storage import migrate
from registry.storage.db import engine_for, sessionmaker_for
from registry.core.enums import Role
from registry.core.models import AnnualIndicator, AuditRecord, Building, EvaluationRun, Lease

from . import factories as f
from .conftest import _truncate
from .pgcluster import BIN, Cluster
from .webhelpers import build_world, login_as, make_user, post


@pytest.fixture(scope="module")
def server():
    if not (BIN / "pg_ctl").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server binaries are missing; scripts/setup.sh installs postgresql")
        pytest.skip("PostgreSQL server binaries not installed")
    cluster = Cluster()
    cluster.start()
    cluster.db_url = cluster.database("registry")
    migrate.upgrade(cluster.db_url)
    yield cluster
    engine_for(cluster.db_url).dispose()
    cluster.drop()


@pytest.fixture
def pg(server):
    """The private server, running, with an empty registry; restarted afterwards whatever happened."""
    if not server.running():
        server.start()
    _truncate(server.db_url)
    yield server
    if not server.running():
        server.start()


@pytest.fixture
def setup(pg):
    from web import create_app
    s = sessionmaker_for(pg.db_url)()
    s.info["actor"] = "tester"
    w = build_world(s)
    w.lease_a_id, w.building_a_id, w.park_a_name = w.lease_a.id, w.building_a.id, w.park_a.name
    app = create_app({"TESTING": True, "DATABASE_URL": pg.db_url, "SECRET_KEY": "t"})
    yield app, s, w
    s.close()


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_a_stopped_database_gives_503_and_the_app_recovers_without_a_restart(pg, setup):
    app, session, w = setup
    client = app.test_client()
    login_as(client, w.manager_a)
    assert client.get(f"/buildings/{w.building_a_id}").status_code == 200  # the pool holds live connections
    audits, leases = _count(session, AuditRecord), _count(session, Lease)
    session.close()

    pg.stop()
    r = post(client, f"/leases/{w.lease_a_id}/renew", {"end_date": "2030-01-01"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "30"
    assert "数据库暂时无法连接" in r.get_data(as_text=True) and "未写入任何内容" in r.get_data(as_text=True)
    api = client.get("/api/parks")
    assert api.status_code == 503 and api.get_json()["code"] == "database_unreachable"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "database unreachable"

    pg.start()
    assert client.get("/healthz").status_code == 200
    again = post(client, f"/leases/{w.lease_a_id}/renew", {"end_date": "2030-01-01"})
    assert again.status_code == 302, again.get_data(as_text=True)
    # One renewal (a new lease from the old end date), audited; the refused attempt left no trace.
    assert _count(session, Lease) == leases + 1
    assert _count(session, AuditRecord) > audits


def test_database_stopped_in_the_middle_of_a_lease_update(pg, setup, monkeypatch):
    """The renewal is flushed (new end date, audit row) but not committed when the server stops."""
    from registry.occupancy import leasing
    app, session, w = setup
    client = app.test_client()
    login_as(client, w.manager_a)
    audits = _count(session, AuditRecord)
    session.close()
    original = leasing.renew_lease

    def renew_then_lose_the_server(db, *args, **kwargs):
        result = original(db, *args, **kwargs)
        db.flush()
        pg.stop()
        return result
    monkeypatch.setattr(leasing, "renew_lease", renew_then_lose_the_server)
    r = post(client, f"/leases/{w.lease_a_id}/renew", {"end_date": "2031-01-01"})
    assert r.status_code == 503
    monkeypatch.setattr(leasing, "renew_lease", original)

    pg.start()
    assert session.get(Lease, w.lease_a_id).end_date.isoformat() == "2027-01-01"
    assert _count(session, AuditRecord) == audits
    assert post(client, f"/leases/{w.lease_a_id}/renew", {"end_date": "2031-01-01"}).status_code == 302


def _staged_import(setup, tmp_path):
    """An administrator's client with a GIS upload staged for commit, its token, and how many
    buildings there are before it."""
    from .test_gis_web import gbk_zip, upload
    app, session, w = setup
    client = app.test_client()
    login_as(client, w.admin)
    token = upload(client, gbk_zip(tmp_path), park=w.park_a_name).headers["Location"].rsplit("/", 1)[1]
    buildings = _count(session, Building)
    session.close()
    return client, token, buildings


def test_database_stopped_in_the_middle_of_an_import(pg, setup, monkeypatch, tmp_path):
    from registry.storage import bulk
    client, token, buildings = _staged_import(setup, tmp_path)
    session = setup[1]
    original = bulk.insert_columns

    def insert_then_lose_the_server(*args, **kwargs):
        result = original(*args, **kwargs)
        pg.stop()  # the buildings are in; the audit record and the commit are not
        return result
    monkeypatch.setattr(bulk, "insert_columns", insert_then_lose_the_server)
    r = post(client, f"/import/{token}/commit", {})
    assert r.status_code == 503 and "数据库暂时无法连接" in r.get_data(as_text=True)
    monkeypatch.setattr(bulk, "insert_columns", original)

    pg.start()
    assert _count(session, Building) == buildings
    assert post(client, f"/import/{token}/commit", {}).status_code == 303  # the same preview, committed
    assert _count(session, Building) == buildings + 4


def test_database_stopped_during_the_copy_itself_is_a_503(pg, setup, monkeypatch, tmp_path):
    """The server goes away while COPY streams the rows (the driver's own error, below SQLAlchemy):
    503 like any other statement's, nothing written (issue 19)."""
    from registry.storage import bulk
    client, token, buildings = _staged_import(setup, tmp_path)
    session = setup[1]
    original = bulk._columns
    stopped = []

    def columns_then_lose_the_server(*args, **kwargs):
        if not stopped:
            stopped.append(pg.stop())
        return original(*args, **kwargs)
    monkeypatch.setattr(bulk, "_columns", columns_then_lose_the_server)
    r = post(client, f"/import/{token}/commit", {})
    assert stopped and r.status_code == 503 and "数据库暂时无法连接" in r.get_data(as_text=True)
    monkeypatch.setattr(bulk, "_columns", original)
    pg.start()
    assert _count(session, Building) == buildings


def test_database_stopped_in_the_middle_of_an_evaluation_run(pg, setup, monkeypatch):
    from registry.evaluation import runs
    app, session, w = setup
    bureau = make_user(session, "bureau", Role.BUREAU)
    firm = w.lease_a.enterprise
    f.plot(session, w.park_a, holder=firm, certificate_area_m2=6667)
    session.add(AnnualIndicator(enterprise=firm, year=2025, tax_paid_wan=100, revenue_wan=1000,
                                value_added_wan=200, energy_tce=10, employees_avg=10))
    session.commit()
    session.close()
    client = app.test_client()
    login_as(client, bureau)
    original = runs.records_from_registry

    def read_then_lose_the_server(*args, **kwargs):
        result = original(*args, **kwargs)
        pg.stop()  # inputs read; the run and its results are about to be written
        return result
    monkeypatch.setattr(runs, "records_from_registry", read_then_lose_the_server)
    r = post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "2025"})
    assert r.status_code == 503
    monkeypatch.setattr(runs, "records_from_registry", original)

    pg.start()
    assert _count(session, EvaluationRun) == 0
    assert post(client, "/evaluation", {"ruleset": "huaian-2024", "year": "2025"}).status_code == 302
    assert _count(session, EvaluationRun) == 1


def test_the_command_line_says_the_database_is_down(pg, capsys):
    from registry.cli import main
    pg.stop()
    with pytest.raises(SystemExit) as exit_:
        main(["--database", pg.db_url, "summary"])
    assert exit_.value.code == 75
    assert "the database cannot be reached; nothing was written" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "xlsx"])
def test_a_full_disk_during_an_export_leaves_no_file_to_mistake_for_complete(runner, many_buildings, small_disk, fmt):
    """The disk fills up while the file is written: the command fails with the reason, and neither
    the file nor a partial one is left where the user asked for it."""
    target = small_disk / f"楼栋.{fmt}"
    result = runner("export", "buildings", "--format", fmt, "--out", str(target))
    assert result.exit_code != 0 and "No space left on device" in result.output, result.output
    assert list(small_disk.iterdir()) == []


def test_a_full_disk_during_a_download_is_a_clear_error(client, world, many_buildings, small_disk, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    login_as(client, world.viewer)
    r = client.get("/export/buildings.gpkg")
    assert r.status_code == 507 and "磁盘空间已满" in r.get_data(as_text=True)
    assert list(small_disk.iterdir()) == []
