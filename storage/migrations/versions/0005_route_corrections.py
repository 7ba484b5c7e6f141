"""route corrections

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-29 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('route_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('from_route', sa.String(length=32), nullable=False),
    sa.Column('to_route', sa.String(length=32), nullable=False),
    sa.Column('corrected_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', name='uq_correction_message')
    )
    with op.batch_alter_table('route_corrections', schema=None) as batch_op:
        batch_op.create_index('ix_route_corrections_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('route_corrections', schema=None) as batch_op:
        batch_op.drop_index('ix_route_corrections_created_at')
    op.drop_table('route_corrections')
