"""model calls and trace context

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CARRIERS = ('inbox_events', 'outbox', 'approvals')


def upgrade() -> None:
    op.create_table('model_calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('turn', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('response_model', sa.String(length=200), nullable=True),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('model_calls', schema=None) as batch_op:
        batch_op.create_index(
            'ix_model_calls_created_at',
            ['created_at', 'channel', 'agent', 'model', 'input_tokens', 'output_tokens', 'cost_usd'],
            unique=False,
        )
        batch_op.create_index(
            'ix_model_calls_channel_at', ['channel', 'created_at', 'cost_usd'], unique=False
        )
        batch_op.create_index(
            'ix_model_calls_thread', ['channel', 'thread_ts', 'cost_usd'], unique=False
        )
    for table in _CARRIERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('trace_context', sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in reversed(_CARRIERS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('trace_context')
    with op.batch_alter_table('model_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_model_calls_thread')
        batch_op.drop_index('ix_model_calls_channel_at')
        batch_op.drop_index('ix_model_calls_created_at')
    op.drop_table('model_calls')
