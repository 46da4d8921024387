"""Backups an administrator can trust: `registry backup` then `registry restore` gives back every
row of every table, on both backends; a bad restore changes nothing."""
from __future__ import annotations

import json
import shutil

import pytest
from geoalchemy2.elements import WKBElement
from sqlalchemy import select

from registry.storage import backup, bulk, migrate
from registry.sample import demo
from registry.storage.db import engine_for, sessionmaker_for
from registry.core.models import Base, Building

from .conftest import TODAY, Runner


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every table's rows in key order, geometries as their WKB."""
    out = {}
    with engine_for(url).connect() as c:
        for table in Base.metadata.sorted_tables:
            rows = c.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(v.desc if isinstance(v, WKBElement) else v for v in r) for r in rows]
    return out


@pytest.fixture
def filled(db_url):
    s = sessionmaker_for(db_url)()
    s.info["actor"] = "demo"
    bulk.load(s, demo.demo_dataset(TODAY))
    s.commit()
    s.close()
    return db_url


@pytest.fixture
def empty_copy(backend, tmp_path, sqlite_template, pg_databases):
    """A second, empty database on the same backend to restore into."""
    if backend == "spatialite":
        path = tmp_path / "restored.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = pg_databases.create()
    migrate.upgrade(url)
    return url


def test_a_backup_restores_every_row_of_every_table(filled, empty_copy, tmp_path, backend):
    out = tmp_path / "backups" / f"registry{backup.SUFFIX['sqlite' if backend == 'spatialite' else 'postgresql']}"
    made = Runner(filled)("backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    manifest = json.loads(out.with_name(out.name + ".json").read_text())
    assert manifest["tables"] == backup.row_counts(filled) and manifest["tables"]["building"] == 356
    assert manifest["schema"] == migrate.head()
    assert "backed up" in made.output and f"to {out}" in made.output

    done = Runner(empty_copy)("restore", str(out), "--yes")
    assert done.exit_code == 0, done.output
    before, after = _rows(filled), _rows(empty_copy)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], table
    # The restored copy is a working registry: its spatial index answers, and it takes new writes.
    s = sessionmaker_for(empty_copy)()
    from registry.storage import spatial
    hits = s.scalars(select(Building.id).where(spatial.bbox_filter(s, Building.footprint, (108.4, 32.8, 108.6, 33.0))))
    assert len(list(hits)) > 0
    s.close()


def test_restore_asks_before_replacing(filled, tmp_path, backend):
    out = tmp_path / "b.bak"
    assert Runner(filled)("backup", "--out", str(out)).exit_code == 0
    refused = Runner(filled)("restore", str(out), input="n\n")
    assert refused.exit_code == 1 and "Replace everything in" in refused.output


def test_a_damaged_backup_changes_nothing(filled, tmp_path, backend):
    out = tmp_path / "b.bak"
    assert Runner(filled)("backup", "--out", str(out)).exit_code == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = b"\xff" * 4096
    out.write_bytes(bytes(data[: len(data) * 3 // 4]))  # damaged and cut short
    before = _rows(filled)
    result = Runner(filled)("restore", str(out), "--yes")
    assert result.exit_code == 1 and "不完整或已损坏" in result.output, result.output
    assert _rows(filled) == before

