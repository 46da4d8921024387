"""The demo and benchmark data: deterministic, valid, and laid out like a real park."""
import datetime as dt
import re
import sqlite3

import numpy as np
import pytest
import shapely
from shapely import STRtree
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from registry.storage import bulk
from registry.sample import demo
from registry.core.models import AuditRecord, Building, Enterprise, Lease, Park
from registry.core.validation import ValidationError

from .conftest import TODAY


@pytest.fixture(scope="module")
def ds():
    return demo.demo_dataset(TODAY)


def test_the_same_date_gives_the_same_dataset(ds):
    again = demo.demo_dataset(TODAY)
    assert again.counts() == ds.counts()
    assert [e["uscc"] for e in again.enterprises] == [e["uscc"] for e in ds.enterprises]
    assert all(a["footprint"].equals(b["footprint"]) for a, b in zip(again.buildings, ds.buildings))


def test_demo_data_passes_every_validator(ds):
    bulk.validate(ds)


def test_buildings_stand_inside_their_plots_inside_the_park_and_never_overlap(ds):
    plots = {p["id"]: p["geom"] for p in ds.plots}
    parks = {p["id"]: p["boundary"] for p in ds.parks}
    for b in ds.buildings:
        assert plots[b["plot_id"]].buffer(1e-7).contains(b["footprint"])
    for p in ds.plots:
        assert parks[p["park_id"]].contains(p["geom"])
    footprints = np.array([b["footprint"] for b in ds.buildings], dtype=object)
    left, right = STRtree(footprints).query(footprints, predicate="intersects")
    assert all(i == j for i, j in zip(left, right)), "two buildings overlap"


def test_buildings_are_rectangles_aligned_with_their_plots(ds):
    from geodata import crs
    to_m = crs.transformer(4490, 4545)  # CGCS2000 / CM 108E, metres
    plots = {p["id"]: p["geom"] for p in ds.plots}
    for b in ds.buildings[:60]:
        g = shapely.transform(b["footprint"].geoms[0], to_m.transform, interleaved=False)
        plot = shapely.transform(plots[b["plot_id"]].geoms[0], to_m.transform, interleaved=False)
        assert shapely.minimum_rotated_rectangle(g).area == pytest.approx(g.area, rel=1e-4)
        edge = np.diff(np.asarray(g.exterior.coords)[:2], axis=0)[0]
        plot_edge = np.diff(np.asarray(plot.exterior.coords)[:2], axis=0)[0]
        cross = edge[0] * plot_edge[1] - edge[1] * plot_edge[0]
        assert abs(cross) / (np.linalg.norm(edge) * np.linalg.norm(plot_edge)) < 1e-3
        assert 200 < b["footprint_area_m2"] < 20000


def test_unit_areas_add_up_to_each_building(ds):
    by_building = {}
    for u in ds.units:
        by_building[u["building_id"]] = by_building.get(u["building_id"], 0) + u["leasable_area_m2"]
    gfa = {b["id"]: b["gfa_m2"] for b in ds.buildings}
    for bid, total in by_building.items():
        assert total == pytest.approx(gfa[bid], abs=0.05)


def test_leases_never_overlap_and_some_expire_within_90_days(ds):
    by_unit = {}
    for le in ds.leases:
        by_unit.setdefault(le["unit_id"], []).append((le["start_date"], le["end_date"]))
    for spans in by_unit.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    current = [le for le in ds.leases if le["start_date"] <= TODAY < le["end_date"]]
    soon = [le for le in current if le["end_date"] <= TODAY + dt.timedelta(days=90)]
    ended = [le for le in ds.leases if le["end_date"] <= TODAY]
    assert current and soon and ended
    assert len({le["unit_id"] for le in current}) < len(ds.units)  # some units vacant


def test_three_years_of_indicators_and_above_scale_firms_earn_above_20_million(ds):
    years = {i["year"] for i in ds.indicators}
    assert years == {TODAY.year - 3, TODAY.year - 2, TODAY.year - 1}
    above = {e["id"] for e in ds.enterprises if e["above_scale"]}
    for i in ds.indicators:
        if i["enterprise_id"] in above:
            assert i["revenue_wan"] >= 2000


def test_the_generator_scales(ds):
    big = demo.scaled_dataset(2000, 5, TODAY)
    assert 1800 <= len(big.buildings) <= 2300 and len(big.parks) == 5
    bulk.validate(big)


def test_a_bad_row_writes_nothing_and_is_named(session, ds):
    bad = demo.demo_dataset(TODAY)
    bad.enterprises[7]["uscc"] = bad.enterprises[7]["uscc"][:-1] + ("0" if bad.enterprises[7]["uscc"][-1] != "0" else "1")
    with pytest.raises(ValidationError, match=r"enterprises\[7\]\.uscc"):
        bulk.load(session, bad)
    session.rollback()
    assert session.scalar(select(func.count(Park.id))) == 0


def test_a_failure_midway_leaves_the_database_unchanged(session):
    bad = demo.demo_dataset(TODAY)
    bad.leases.append(dict(bad.leases[0]))  # a duplicate primary key, discovered by the database
    with pytest.raises(Exception):
        bulk.load(session, bad)
    session.rollback()
    assert session.scalar(select(func.count(Enterprise.id))) == 0
    assert session.scalar(select(func.count(AuditRecord.id))) == 0


def test_bulk_load_records_the_creation_of_every_row(demo_session):
    ds = demo.demo_dataset(TODAY)
    counted = dict(demo_session.execute(select(AuditRecord.entity, func.count(AuditRecord.id))
                                        .where(AuditRecord.action == "insert").group_by(AuditRecord.entity)).all())
    for name, model in bulk.TABLES:
        assert counted.get(model.__tablename__, 0) == len(getattr(ds, name)), name
    unnamed = demo_session.scalar(select(func.count(AuditRecord.id)).where(
        (AuditRecord.entity_id.is_(None)) | (AuditRecord.entity_id == "")))
    assert unnamed == 0


def test_overlapping_leases_in_a_bulk_load_are_refused(session):
    bad = demo.demo_dataset(TODAY)
    first = bad.leases[0]
    bad.leases.append({**first, "id": 10**6, "start_date": first["start_date"] + dt.timedelta(days=1)})
    with pytest.raises(ValidationError, match=r"overlaps leases\[0\]") as exc:
        bulk.load(session, bad)
    assert re.fullmatch(r"leases\[\d+\]\.start_date", exc.value.problems[0].field)


def test_chunks_continue_each_others_ids():
    chunks = list(demo.scaled_chunks(300, 3, TODAY))
    ids = [b["id"] for c in chunks for b in c.buildings]
    assert ids == list(range(1, len(ids) + 1))
    usccs = [e["uscc"] for c in chunks for e in c.enterprises]
    assert len(set(usccs)) == len(usccs)


def test_a_dataset_loads_into_a_registry_that_already_has_data(session):
    from registry.core.models import Building, Lease
    bulk.load(session, demo.scaled_dataset(60, 1, TODAY, seed=1))
    session.flush()
    first = session.scalar(select(func.count(Building.id)))
    second = demo.scaled_dataset(60, 1, TODAY, seed=2)
    bulk.load(session, second)
    session.commit()
    assert session.scalar(select(func.count(Building.id))) == first + len(second.buildings)
    lease = session.get(Lease, second.leases[0]["id"])  # ids were shifted, references follow them
    assert lease.unit.building.park_id == second.parks[0]["id"]


def _keys_and_indexes(session, backend) -> list:
    if backend == "postgis":
        return sorted(session.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace UNION ALL "
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")).all())
    return sorted(session.execute(text("SELECT tbl_name, name, sql FROM sqlite_master "
                                       "WHERE type IN ('index', 'table', 'trigger')")).all())


def test_a_load_in_chunks_keeps_every_key_and_index(session, backend):
    before = _keys_and_indexes(session, backend)
    chunks = list(demo.scaled_chunks(300, 3, TODAY))
    counts = bulk.load_chunks(session, chunks)
    session.commit()
    assert _keys_and_indexes(session, backend) == before
    assert counts["buildings"] == sum(len(c.buildings) for c in chunks)
    assert session.scalar(select(func.count(Building.id))) == counts["buildings"]
    assert session.scalar(select(func.count(Lease.id))) == counts["leases"] > 0


def test_a_key_broken_across_chunks_refuses_the_whole_load(session, backend):
    before = _keys_and_indexes(session, backend)
    first, second = demo.scaled_chunks(200, 2, TODAY)
    second.parks[0]["name"] = first.parks[0]["name"]  # each chunk is valid on its own
    # SQLite refuses the second park as it is written; PostgreSQL when the key is put back.
    with pytest.raises((IntegrityError, sqlite3.IntegrityError), match=r"park_name_key|UNIQUE constraint failed: park\.name"):
        bulk.load_chunks(session, [first, second])
    session.rollback()
    assert bulk.is_empty(session) and session.scalar(select(func.count(Building.id))) == 0
    assert _keys_and_indexes(session, backend) == before
