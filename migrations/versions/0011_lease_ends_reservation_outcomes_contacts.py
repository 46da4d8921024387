"""why a lease ended early, what became of a reservation, and enterprise contacts (issue #18)

- lease.end_reason (a list) and lease.end_note: a termination records its reason;
- reservation.outcome (cancelled, converted to a lease); a closed reservation's end moves to the
  day it closed, which may be its start (never held), so its interval check becomes end >= start;
- enterprise.contact_name, contact_phone: whom to call about an expiring lease.

Existing rows keep every value: the new columns start empty, and no stored date changes (periods
stay half-open inside; people read and type the last day, inclusive).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

END_REASONS = ('relocation', 'difficulty', 'mutual', 'breach', 'moved_in_park', 'other')
OUTCOMES = ('cancelled', 'converted')


def upgrade() -> None:
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sa.Enum(*END_REASONS, name='endreason', native_enum=False,
                                                            create_constraint=True, length=24), nullable=True))
        batch_op.add_column(sa.Column('end_note', sa.Text(), nullable=True))
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.Enum(*OUTCOMES, name='reservationoutcome', native_enum=False,
                                                         create_constraint=True, length=24), nullable=True))
        batch_op.drop_constraint('reservation_interval', type_='check')
        batch_op.create_check_constraint('reservation_interval', 'end_date >= start_date')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_name')
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        # The interval check stays end >= start: reservations closed before they began keep their
        # record (an empty period) rather than being changed or dropped.
        batch_op.drop_constraint('reservationoutcome', type_='check')
        batch_op.drop_column('outcome')
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.drop_constraint('endreason', type_='check')
        batch_op.drop_column('end_note')
        batch_op.drop_column('end_reason')
