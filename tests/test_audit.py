"""The audit trail names every record it speaks of: a record's history begins with its creation, however
it was created (a form, a bulk load, a GIS import), and older records are repaired by migration 0009."""
from __future__ import annotations

import datetime as dt

import pytest
import shapely
from sqlalchemy import func, select, text

from registry.core import audit
from registry.core.models import AuditRecord, Building, Floor, Lease, Unit
from registry.storage import bulk, migrate
from registry.storage.db import make_engine, sessionmaker_for

from . import factories as f
from .conftest import TODAY
from .webhelpers import post


def _records(session, entity, ident):
    return audit.record_history(session, entity, str(ident))


def test_a_lease_signed_through_the_form_has_its_creation_in_its_history(manager, world, session):
    unit = world.building_a.units[3]
    start = TODAY + dt.timedelta(days=10)
    resp = post(manager, f"/buildings/{world.building_a.id}/leases", {
        "unit_id": [unit.id], "uscc": world.lease_a.enterprise.uscc, "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=365)).isoformat(), "rent": "12"})
    assert resp.status_code == 302
    session.expire_all()
    lease = session.scalar(select(Lease).where(Lease.unit_id == unit.id))
    created = _records(session, "lease", lease.id)
    assert [r.action for r in created] == ["insert"] and created[0].actor == "mgr_a"
    assert created[0].after["start_date"] == start.isoformat() and created[0].after["id"] == lease.id
    page = manager.get(f"/history/lease/{lease.id}").get_data(as_text=True)
    assert "无记录" not in page and start.isoformat() in page


def test_every_row_the_orm_writes_is_named_insert_update_and_delete(session):
    park = f.park(session)
    b = f.building(session, park, floors=1, units_per_floor=1)
    unit = b.units[0]
    unit.leasable_area_m2 = 123.0
    session.flush()
    floor = Floor(level=2, storey_height_m=4.5)  # a storey with no units, added and then taken away
    b.floors.append(floor)
    session.flush()
    b.floors.remove(floor)
    session.flush()
    assert [r.action for r in _records(session, "unit", unit.id)] == ["insert", "update"]
    assert [r.action for r in _records(session, "floor", floor.id)] == ["insert", "delete"]
    assert session.scalar(select(func.count(AuditRecord.id)).where(
        (AuditRecord.entity_id.is_(None)) | (AuditRecord.entity_id == ""))) == 0


def test_a_bulk_write_records_the_same_values_as_a_save_through_the_orm(session, backend):
    """One audit record per row, holding what the ORM path would hold for the same row."""
    park = f.park(session)
    saved = f.building(session, park, floors=1, units_per_floor=1)
    geom = shapely.MultiPolygon([f.square(0.003, 0, 0.0005)])  # the storage form
    ids = bulk.reserve_ids(session, Building.__table__, 1)
    data = {"id": ids, "version": [1], "park_id": [park.id], "code": ["BULK-1"], "footprint": [geom],
            "footprint_area_m2": [saved.footprint_area_m2], "type": ["standard_factory"], "status": ["completed"],
            "floors_above": [1], "gfa_m2": [6000.0], "completion_date": [dt.date(2020, 1, 1)]}
    bulk.insert_columns(session, Building.__table__, data, "footprint")
    bulk.audit_inserted(session, Building.__table__, "id", ids, list(data), note="测试批量写入")
    by_orm = _records(session, "building", saved.id)[0].after
    by_bulk = _records(session, "building", ids[0])[0].after
    for key in data:
        if key == "footprint":
            assert shapely.from_wkt(by_bulk[key]).equals(geom)
        elif isinstance(by_orm[key], float):  # SQLite's JSON keeps 15 significant digits
            assert by_bulk[key] == pytest.approx(by_orm[key], rel=1e-14), key
        elif key not in ("id", "code"):
            assert by_bulk[key] == by_orm[key], key
    units = {"id": [bulk.reserve_ids(session, Unit.__table__, 1)[0]], "version": [1], "building_id": [saved.id],
             "floor_level": [1], "code": ["1-99"], "leasable_area_m2": [10.0], "leasable": [False]}
    bulk.insert_columns(session, Unit.__table__, units, None)
    bulk.audit_inserted(session, Unit.__table__, "id", units["id"], list(units))
    assert _records(session, "unit", units["id"][0])[0].after["leasable"] is False


@pytest.fixture(params=["spatialite", "postgis"])
def at_0008(request, tmp_path):
    """An empty database at revision 0008 (before the repair), on each backend."""
    if request.param == "spatialite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        url = request.getfixturevalue("pg_databases").create()
    migrate.upgrade(url, "0008")
    return url


def test_the_migration_names_old_insert_records_and_gives_bulk_rows_their_own(at_0008):
    """Before 0009: inserts recorded with an empty id, and bulk writes as one record per table."""
    engine = make_engine(at_0008)
    with engine.begin() as c:
        c.execute(text("INSERT INTO jurisdiction (code, name) VALUES ('610902', '汉滨区')"))
        c.execute(text("INSERT INTO park (id, version, name, level, jurisdiction_code, hide_rents) "
                       "VALUES (1, 1, '甲园区', 'county', '610902', false)"))
        c.execute(text("INSERT INTO enterprise (id, version, uscc, name, above_scale) VALUES "
                       "(1, 1, '91610902000000010X', '甲公司', false), (2, 2, '91610902000000029X', '乙公司', true), "
                       "(3, 1, '91610902000000037X', '丙公司', false)"))
        at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
        rows = [("insert", "park", "", None, '{"id": 1, "name": "甲园区"}', None),
                ("bulk_insert", "enterprise", None, None, None, "3 rows, ids 1–3"),
                ("update", "enterprise", "2", '{"above_scale": false, "version": 1}',
                 '{"above_scale": true, "version": 2}', None),
                ("bulk_insert", "enterprise_tag", None, None, None, "2 rows")]
        for n, (action, entity, ident, before, after, note) in enumerate(rows):
            c.execute(text("INSERT INTO audit_record (at, actor, action, entity, entity_id, before, after, note) "
                           "VALUES (:at, 'demo', :a, :e, :i, :b, :f, :n)"),
                      {"at": at + dt.timedelta(minutes=n), "a": action, "e": entity, "i": ident, "b": before,
                       "f": after, "n": note})
    engine.dispose()
    migrate.upgrade(at_0008)
    s = sessionmaker_for(at_0008)()
    try:
        assert [r.action for r in _records(s, "park", 1)] == ["insert"]
        unchanged = _records(s, "enterprise", 1)
        assert [r.action for r in unchanged] == ["insert"] and unchanged[0].actor == "demo"
        assert unchanged[0].after["name"] == "甲公司" and unchanged[0].after["above_scale"] is False
        changed = _records(s, "enterprise", 2)
        assert [r.action for r in changed] == ["insert", "update"]
        assert changed[0].after is None and "此后已修改" in changed[0].note
        # A bulk record that names no rows is left as it was; the bulk records are kept.
        assert s.scalar(select(func.count(AuditRecord.id)).where(AuditRecord.action == "bulk_insert")) == 2
        history = audit.record_history(s, "enterprise", "3")
        assert len(history) == 1 and "审计记录" in history[0].note
    finally:
        s.close()
