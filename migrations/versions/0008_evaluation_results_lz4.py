"""evaluation results' JSON compressed with lz4 on PostgreSQL (issue #5)

A 100,000-enterprise run writes 140 MB of explained results; PostgreSQL compresses each document
with pglz by default, the larger part of the server's work while the results are copied in. lz4
compresses about as well at a fraction of the CPU (measured: 2.8 → 2.5 s of COPY for 100k rows).
Only rows written afterwards are compressed with lz4; older ones stay readable as they are.
Nothing changes on SQLite, or on a PostgreSQL server built without lz4.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ('items', 'reasons', 'inputs')


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    methods = bind.scalar(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
    return bool(methods) and 'lz4' in methods


def _set(method: str) -> None:
    op.execute('ALTER TABLE evaluation_result '
               + ', '.join(f'ALTER COLUMN {c} SET COMPRESSION {method}' for c in COLUMNS))


def upgrade() -> None:
    if _lz4_available():
        _set('lz4')


def downgrade() -> None:
    if _lz4_available():
        _set('pglz')
