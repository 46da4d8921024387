"""indexes for the vacancy map (issue #4): leases by (unit_id, start_date, end_date); leasable units

The composite lease index replaces the single-column one on lease.unit_id: it serves every lookup
the old one did, and "the unit's lease on a day" as one ordered, index-only probe. The partial
index of leasable units answers "does this building have space to let?" from the index alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.create_index('ix_lease_unit_interval', ['unit_id', 'start_date', 'end_date'], unique=False)
        batch_op.drop_index('ix_lease_unit_id')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index('ix_unit_leasable_building', ['building_id'], unique=False,
                              postgresql_where=sa.text('leasable'), sqlite_where=sa.text('leasable'))


def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_leasable_building')
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.create_index('ix_lease_unit_id', ['unit_id'], unique=False)
        batch_op.drop_index('ix_lease_unit_interval')
