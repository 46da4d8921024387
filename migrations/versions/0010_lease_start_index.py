"""an index of leases by start date (issue #17): the units' states ask, for a whole park or province,
which units have a lease starting after the day (signed for later, or renewed); the few such
leases are found from this index instead of a scan of every lease

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.create_index('ix_lease_start_date', ['start_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.drop_index('ix_lease_start_date')
