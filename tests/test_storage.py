"""The registry stores what users record, on SpatiaLite and PostGIS alike, and refuses bad records
whole, with messages that name the field."""
import datetime as dt
import json

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select, text

from registry.storage import spatial
from registry.storage.db import sessionmaker_for
from registry.core.models import AuditRecord, Building, Enterprise, Jurisdiction, Lease, Park, Plot, Unit
from registry.core.conflicts import Conflict
from registry.core.validation import ValidationError

from . import factories as f

D = dt.date


def test_a_park_with_plots_buildings_and_units_round_trips(session):
    p = f.park(session, planned_area_mu=3200)
    holder = f.enterprise(session, "汉阴魔芋食品有限公司", above_scale=True, industry="1370")
    pl = f.plot(session, p, holder=holder, certificate_area_m2=40_000, certificate_no="陕(2019)汉阴县不动产权第0000001号")
    b = f.building(session, p, pl, gfa=8800, floors=4)
    session.commit()

    s2 = sessionmaker_for(str(session.get_bind().url.render_as_string(hide_password=False)))()
    b2 = s2.get(Building, b.id)
    assert b2.plot.holder.name == "汉阴魔芋食品有限公司"
    assert [fl.level for fl in b2.floors] == [1, 2, 3, 4]
    assert len(b2.units) == 8 and sum(u.leasable_area_m2 for u in b2.units) == pytest.approx(8800)
    assert b2.floors[0].floor_load_t_m2 == pytest.approx(2.04, abs=0.01)
    assert to_shape(b2.footprint).geom_type == "MultiPolygon"
    plot2 = s2.get(Plot, pl.id)
    assert plot2.computed_area_m2 == pytest.approx(pl.computed_area_m2)
    assert plot2.area_mu == pytest.approx(40_000 / 666.6667, rel=1e-4)  # the certificate's area wins
    s2.close()


@pytest.mark.parametrize("make, field", [
    (lambda s, p: Enterprise(uscc="91110108551385082R", name="x"), "Enterprise.uscc"),
    (lambda s, p: Enterprise(uscc="91110108551385082Q", name="x", industry_code="98"), "Enterprise.industry_code"),
    (lambda s, p: Unit(building_id=1, floor_level=1, code="1", leasable_area_m2=-5), "Unit.leasable_area_m2"),
    (lambda s, p: Plot(park=p, code="X", geom=box(32.66, 108.95, 32.67, 108.96)), "Plot.geom"),
    (lambda s, p: Park(name="y", level="county", jurisdiction_code="610902", planned_area_mu=0), "Park.planned_area_mu"),
    (lambda s, p: Jurisdiction(code="61092", name="z"), "Jurisdiction.code"),
    (lambda s, p: Building(park=p, code="B", gfa_m2=-100), "Building.gfa_m2"),
])
def test_invalid_records_are_refused_before_anything_is_written(session, make, field):
    p = f.park(session)
    session.commit()
    with pytest.raises(ValidationError) as exc:
        make(session, p)
    assert [pr.field for pr in exc.value.problems] == [field] and exc.value.problems[0].expected
    assert str(exc.value).startswith(exc.value.problems[0].name + "：") and "应为" in str(exc.value)
    session.rollback()
    assert session.scalar(select(func.count(Plot.id))) == 0
    assert session.scalar(select(func.count(Enterprise.id))) == 0


def test_overlapping_leases_are_refused_naming_the_conflict(session):
    p = f.park(session)
    b = f.building(session, p)
    unit = b.units[0]
    first = f.lease(session, unit, f.enterprise(session, "先租企业有限公司"), D(2024, 1, 1), D(2026, 1, 1))
    session.commit()
    with pytest.raises(ValidationError) as exc:
        f.lease(session, unit, f.enterprise(session), D(2025, 6, 1), D(2027, 6, 1))
    msg = str(exc.value)
    assert f"租约 #{first.id}" in msg and "先租企业有限公司" in msg and "2024-01-01 至 2025-12-31" in msg
    session.rollback()
    assert session.scalar(select(func.count(Lease.id))) == 1


def test_a_new_lease_may_start_on_the_day_the_old_one_ends(session):
    p = f.park(session)
    unit = f.building(session, p).units[0]
    f.lease(session, unit, f.enterprise(session), D(2024, 1, 1), D(2025, 1, 1))
    f.lease(session, unit, f.enterprise(session), D(2025, 1, 1), D(2026, 1, 1))
    session.commit()
    assert session.scalar(select(func.count(Lease.id))) == 2


def test_ending_a_lease_early_and_relettting_in_one_transaction(session):
    p = f.park(session)
    unit = f.building(session, p).units[0]
    old = f.lease(session, unit, f.enterprise(session), D(2024, 1, 1), D(2027, 1, 1))
    session.commit()
    old.end_date = D(2025, 3, 1)  # terminate early: the end moves, nothing is deleted
    f.lease(session, unit, f.enterprise(session), D(2025, 3, 1), D(2028, 3, 1))
    session.commit()
    assert [le.end_date for le in session.scalars(select(Lease).order_by(Lease.start_date))] == [D(2025, 3, 1), D(2028, 3, 1)]


@pytest.mark.parametrize("db_url", ["postgis"], indirect=True)  # SpatiaLite has one writer at a time
def test_the_database_itself_refuses_overlaps_on_postgis(session):
    p = f.park(session)
    unit = f.building(session, p).units[0]
    e = f.enterprise(session)
    session.commit()
    params = {"u": unit.id, "e": e.id}
    session.execute(text("INSERT INTO lease (unit_id, enterprise_id, start_date, end_date, rent_free_months, version) "
                         "VALUES (:u, :e, '2024-01-01', '2025-01-01', 0, 1)"), params)
    with pytest.raises(Exception, match="lease_no_overlap"):
        session.execute(text("INSERT INTO lease (unit_id, enterprise_id, start_date, end_date, rent_free_months, version) "
                             "VALUES (:u, :e, '2024-06-01', '2025-06-01', 0, 1)"), params)


def test_a_lease_must_end_after_it_starts(session):
    p = f.park(session)
    unit = f.building(session, p).units[0]
    with pytest.raises(ValidationError, match="^到期日") as exc:
        f.lease(session, unit, f.enterprise(session), D(2025, 1, 1), D(2025, 1, 1))
    assert exc.value.problems[0].field == "Lease.end_date"


def test_every_write_leaves_an_audit_record_with_before_and_after(session):
    p = f.park(session, name="审计园区")
    session.commit()
    p.operator = "园区运营公司"
    session.commit()
    records = session.scalars(select(AuditRecord).where(AuditRecord.entity == "park").order_by(AuditRecord.id)).all()
    assert [r.action for r in records] == ["insert", "update"]
    assert records[0].actor == "tester" and records[0].after["name"] == "审计园区"
    assert records[1].before == {"operator": None, "version": 1}
    assert records[1].after == {"operator": "园区运营公司", "version": 2}
    session.delete(session.get(Park, p.id))
    session.commit()
    deleted = session.scalars(select(AuditRecord).where(AuditRecord.action == "delete")).one()
    assert deleted.before["name"] == "审计园区" and deleted.after is None


def test_audit_record_is_rolled_back_with_the_write(session):
    f.park(session)
    session.rollback()
    assert session.scalar(select(func.count(AuditRecord.id))) == 0


def test_a_stale_save_is_rejected_not_silently_overwritten(session, db_url):
    p = f.park(session)
    unit = f.building(session, p).units[0]
    session.commit()
    other = sessionmaker_for(db_url)()
    theirs = other.get(Unit, unit.id)
    unit.leasable_area_m2 = 900.0
    session.commit()
    theirs.leasable_area_m2 = 1200.0
    with pytest.raises(Conflict) as refused:  # with the newer values, nothing of theirs written
        other.commit()
    assert refused.value.current["leasable_area_m2"] == 900.0 and refused.value.current["version"] == 2
    assert refused.value.seen_version == 1
    other.close()
    session.refresh(unit)
    assert unit.leasable_area_m2 == 900.0


def test_bbox_filter_uses_the_spatial_index_and_finds_the_right_buildings(session, backend):
    p = f.park(session)
    near = f.building(session, p, dx=0.0)
    far = f.building(session, p, dx=0.01)
    session.commit()
    bbox = (f.LON - 0.001, f.LAT - 0.001, f.LON + 0.002, f.LAT + 0.002)
    q = select(Building.id).where(spatial.bbox_filter(session, Building.footprint, bbox))
    assert session.scalars(q).all() == [near.id]
    assert far.id not in session.scalars(q).all()
    compiled = str(q.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN "
    if backend == "postgis":
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a two-row table would be scanned anyway
        explain = "EXPLAIN "
    plan = " ".join(str(r) for r in session.execute(text(explain + compiled)))
    if backend == "spatialite":
        assert "VIRTUAL TABLE INDEX" in plan  # the R*Tree, not a scan of building
    else:
        assert "idx_building_footprint" in plan


def test_geojson_output_is_the_same_on_both_backends(session):
    p = f.park(session)
    b = f.building(session, p)
    session.commit()
    gj = json.loads(session.scalar(select(spatial.as_geojson(Building.footprint)).where(Building.id == b.id)))
    assert gj["type"] == "MultiPolygon" and "crs" not in gj
    assert gj["coordinates"][0][0][0] == pytest.approx([f.LON + 0.0005, f.LAT], abs=1e-9)


def test_bulk_writes_store_every_value_as_given_binary_or_text(session, backend):
    """Bulk inserts (imports, loads) keep every value exactly: on PostgreSQL in the binary COPY the
    registry's tables allow, and in the text COPY a table with other column types falls back to."""
    from sqlalchemy import Column, Date, Float, Integer, MetaData, String, Table
    from sqlalchemy.dialects.postgresql import JSONB

    from registry.storage import bulk
    p = f.park(session)
    session.flush()
    geoms = [box(f.LON + i * 0.001, f.LAT, f.LON + i * 0.001 + 0.0004, f.LAT + 0.0004) for i in range(3)]
    bulk.insert_columns(session, Building.__table__, {
        "id": [901, 902, 903], "park_id": [p.id] * 3, "code": ["B-1", "B-2", "厂房三"], "name": ["甲", None, "丙"],
        "type": ["standard_factory"] * 3, "status": ["completed"] * 3, "floors_above": [1, 2, 3],
        "gfa_m2": [1000.5, 2000.25, 3e3], "completion_date": [D(2020, 1, 2), None, D(2024, 12, 31)],
        "footprint": [MultiPolygon([g]) for g in geoms], "footprint_area_m2": [1600.0] * 3, "version": [1] * 3},
        "footprint")
    session.expire_all()
    got = session.scalars(select(Building).where(Building.id >= 901).order_by(Building.id)).all()
    assert [(b.code, b.name, b.floors_above, b.gfa_m2, b.completion_date) for b in got] == [
        ("B-1", "甲", 1, 1000.5, D(2020, 1, 2)), ("B-2", None, 2, 2000.25, None), ("厂房三", "丙", 3, 3000.0, D(2024, 12, 31))]
    assert [to_shape(b.footprint).equals(g) for b, g in zip(got, geoms)] == [True] * 3
    if backend == "postgis":
        # Every table bulk loads and imports write takes the binary form.
        raw = session.connection().connection.driver_connection
        assert all(bulk._wire_types(raw, model.__tablename__, [c.name for c in model.__table__.columns])
                   for _name, model in bulk.TABLES)
        extra = Table("bulk_text_fallback", MetaData(), Column("id", Integer), Column("doc", JSONB),
                      Column("day", Date), Column("x", Float), Column("label", String))
        extra.create(session.connection())
        bulk.insert_columns(session, extra, {"id": [1, 2], "doc": [{"a": "一"}, None], "day": [D(2026, 1, 1), None],
                                             "x": [0.1, None], "label": ["x\ty", None]}, None)
        assert session.execute(text("SELECT id, doc, day, x, label FROM bulk_text_fallback ORDER BY id")).all() == [
            (1, {"a": "一"}, D(2026, 1, 1), 0.1, "x\ty"), (2, None, None, None, None)]


def test_a_missing_spatialite_is_explained_with_the_install_command(tmp_path, monkeypatch):
    from registry.storage.db import SpatiaLiteUnavailable, make_engine
    monkeypatch.setenv("SPATIALITE_LIBRARY_PATH", str(tmp_path / "no_such_mod_spatialite.so"))
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(SpatiaLiteUnavailable, match="apt-get install -y libsqlite3-mod-spatialite"):
        engine.connect()
