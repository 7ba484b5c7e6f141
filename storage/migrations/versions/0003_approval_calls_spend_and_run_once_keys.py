"""approval calls, spend totals and run-once keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('spend',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'scope', name='uq_spend_key_scope')
    )
    with op.batch_alter_table('spend', schema=None) as batch_op:
        batch_op.create_index('ix_spend_scope_at', ['scope', 'created_at'], unique=False)

    # Plain ADD COLUMN and unique indexes, not batch mode: on SQLite batch mode rebuilds the
    # table, and dropping the old approvals table would cascade-delete approval_decisions.
    op.add_column('approvals', sa.Column('calls', sa.JSON(), nullable=True))
    op.add_column('approvals', sa.Column('request_key', sa.String(length=200), nullable=True))
    op.create_index('uq_approvals_request_key', 'approvals', ['request_key'], unique=True)
    op.add_column('tickets', sa.Column('idempotency_key', sa.String(length=200), nullable=True))
    op.create_index('uq_tickets_idempotency_key', 'tickets', ['idempotency_key'], unique=True)
    op.add_column('incidents', sa.Column('idempotency_key', sa.String(length=200), nullable=True))
    op.create_index('uq_incidents_idempotency_key', 'incidents', ['idempotency_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_incidents_idempotency_key', table_name='incidents')
    op.drop_index('uq_tickets_idempotency_key', table_name='tickets')
    op.drop_index('uq_approvals_request_key', table_name='approvals')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('idempotency_key')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('idempotency_key')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_column('request_key')
        batch_op.drop_column('calls')
    with op.batch_alter_table('spend', schema=None) as batch_op:
        batch_op.drop_index('ix_spend_scope_at')
    op.drop_table('spend')
