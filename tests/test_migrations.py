"""Migrations create the whole schema on both backends, and go down and up again."""
import pytest
from alembic import command
from sqlalchemy import inspect

from registry import migrate
from registry.db import make_engine
from registry.models import Base


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
