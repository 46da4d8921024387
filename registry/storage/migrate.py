"""Schema migrations (Alembic) run from Python: ``registry db upgrade`` and the tests use this."""
from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from . import config
from .db import make_engine

MIGRATIONS = config.PROJECT_ROOT / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url or config.database_url()
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str | None = None) -> str | None:
    engine = make_engine(url or config.database_url())
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@functools.lru_cache(maxsize=1)
def head() -> str:
    """The newest revision in migrations/ (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
