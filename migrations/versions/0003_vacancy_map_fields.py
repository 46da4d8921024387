"""vacancy map fields: asking rent, industry suitability, photo, parks hiding rents (issue #4)

On SQLite these are plain ADD COLUMNs (no table rebuild), which keeps SpatiaLite's geometry
registration and spatial-index triggers of park and building intact.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asking_rent_yuan_m2_month', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('industries_allowed', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('industries_excluded', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('photo', sa.String(length=128), nullable=True))

    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hide_rents', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.drop_column('hide_rents')

    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_column('photo')
        batch_op.drop_column('industries_excluded')
        batch_op.drop_column('industries_allowed')
        batch_op.drop_column('asking_rent_yuan_m2_month')

