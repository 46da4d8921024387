"""evaluation outputs (issue #5): the inputs, bonus and penalty of each result, park figures per run, the bureau role

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ROLES = ('admin', 'park_manager', 'investment', 'viewer')


def _role_check(batch_op, roles) -> None:
    batch_op.drop_constraint('role', type_='check')
    batch_op.create_check_constraint('role', sa.column('role').in_(roles))


def upgrade() -> None:
    with op.batch_alter_table('evaluation_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('bonus', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('penalty', sa.Float(), nullable=True))
    with op.batch_alter_table('evaluation_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parks', sa.JSON(), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        _role_check(batch_op, ROLES + ('bureau',))


def downgrade() -> None:
    op.execute("DELETE FROM user_park_scope WHERE user_id IN (SELECT id FROM app_user WHERE role = 'bureau')")
    op.execute("DELETE FROM app_user WHERE role = 'bureau'")
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        _role_check(batch_op, ROLES)
    with op.batch_alter_table('evaluation_run', schema=None) as batch_op:
        batch_op.drop_column('parks')
    with op.batch_alter_table('evaluation_result', schema=None) as batch_op:
        batch_op.drop_column('penalty')
        batch_op.drop_column('bonus')
        batch_op.drop_column('inputs')
