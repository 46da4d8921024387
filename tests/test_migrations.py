"""Migrations create the whole schema on both backends, and go down and up again."""
import pytest
from alembic import command
from sqlalchemy import inspect

from registry.storage import migrate
from registry.storage.db import make_engine
from registry.core.models import Base


@pytest.fixture(params=["spatialite", "postgis"])
def empty_url(request, tmp_path):
    if request.param == "spatialite":
        return f"sqlite:///{tmp_path / 'm.sqlite'}"
    return request.getfixturevalue("pg_databases").create()


def _tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_up_down_up(empty_url):
    wanted = {t.name for t in Base.metadata.sorted_tables}
    migrate.upgrade(empty_url)
    assert wanted <= _tables(empty_url) and migrate.current(empty_url) == migrate.head()
    migrate.downgrade(empty_url, "base")
    assert not (wanted & _tables(empty_url)) and migrate.current(empty_url) is None
    migrate.upgrade(empty_url)
    assert wanted <= _tables(empty_url)
    # The models and the migrations agree: autogenerate finds nothing to do.
    command.check(migrate.alembic_config(empty_url))


def test_upgrading_keeps_the_data(empty_url):
    """Data loaded under the first schema survives every later migration, on both backends."""
    import datetime as dt

    from sqlalchemy import func, select

    from registry.storage import bulk
    from registry.sample import demo
    from registry.storage.db import sessionmaker_for
    migrate.upgrade(empty_url, "0001")
    engine = make_engine(empty_url)
    ds = demo.demo_dataset(dt.date(2026, 11, 23))
    # Only the columns revision 0001 has.
    have = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in inspect(engine).get_table_names()}
    for name, model in bulk.TABLES:
        for row in getattr(ds, name):
            for key in [k for k in row if not k.startswith("_") and k not in have[model.__tablename__]]:
                del row[key]
    with engine.begin() as conn:
        from sqlalchemy.orm import Session
        s = Session(bind=conn)
        bulk.load(s, ds)
        s.flush()
    engine.dispose()
    migrate.upgrade(empty_url)
    s = sessionmaker_for(empty_url)()
    from registry.core.models import Lease, Unit
    assert s.scalar(select(func.count(Lease.id))) == len(ds.leases)
    assert s.scalar(select(func.count(Unit.id)).where(Unit.leasable)) == len(ds.units)
    assert s.scalar(select(func.count(Lease.id)).where(Lease.kind == "lease")) == len(ds.leases)
    s.close()


def test_evaluation_results_are_compressed_with_lz4_on_postgis_and_back_after_a_downgrade(pg_databases):
    from sqlalchemy import text
    url = pg_databases.create()
    migrate.upgrade(url)

    def methods():
        engine = make_engine(url)
        try:
            with engine.connect() as c:
                if "lz4" not in c.scalar(text("SELECT enumvals FROM pg_settings "
                                              "WHERE name = 'default_toast_compression'")):
                    pytest.skip("this PostgreSQL is built without lz4: the migration leaves pglz")
                return dict(c.execute(text("SELECT attname, attcompression FROM pg_attribute WHERE attrelid = "
                                           "'evaluation_result'::regclass AND attname IN ('items', 'reasons', 'inputs')")
                                      ).all())
        finally:
            engine.dispose()

    assert methods() == {"items": "l", "reasons": "l", "inputs": "l"}
    migrate.downgrade(url, "0007")
    assert methods() == {"items": "p", "reasons": "p", "inputs": "p"}
