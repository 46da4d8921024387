"""Alembic environment for both backends. The URL comes from the registry's configuration unless
the caller (``registry db upgrade`` or a test) passes one in ``config.attributes["url"]``."""
from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import pool

from registry.storage import config as registry_config
from registry.storage.db import make_engine  # imports the spatial wheels first (see registry/storage/db.py)
from registry.core.models import Base

target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # SpatiaLite's own tables (SpatialIndex, KNN, ElementaryGeometries, data_licenses,
    # sql_statements_log) are not filtered by alembic_helpers; autogenerate would drop them.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_offline() -> None:
    context.configure(url=context.config.attributes.get("url") or registry_config.database_url(),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.attributes.get("url") or registry_config.database_url(),
                         poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch migrations rebuild tables (copy, drop, rename); with foreign keys on, dropping a
        # referenced table would fail or cascade. The pragma only works outside a transaction.
        # Set on the driver's connection, before SQLAlchemy begins a transaction on it (the
        # registry's engine begins every transaction itself, registry/storage/db.py).
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
