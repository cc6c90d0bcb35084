"""Contract 1.1 outputs: a violation's basis (and longer kinds); costs_from and VAT of a gate decision;
a debt's arrears episode and its earlier episodes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a column's type in place.
    with op.batch_alter_table("cost_violations") as batch:
        batch.alter_column("kind", existing_type=sa.String(20), type_=sa.String(40), existing_nullable=False)
        batch.add_column(sa.Column("basis", sa.String(100), nullable=True))
    with op.batch_alter_table("cost_gate_decisions") as batch:
        batch.add_column(sa.Column("costs_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("vat_cents", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("debts") as batch:
        batch.add_column(sa.Column("episode", sa.BigInteger(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("earlier_episodes", JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("debts") as batch:
        batch.drop_column("earlier_episodes")
        batch.drop_column("episode")
    with op.batch_alter_table("cost_gate_decisions") as batch:
        batch.drop_column("vat_cents")
        batch.drop_column("costs_from")
    with op.batch_alter_table("cost_violations") as batch:
        batch.drop_column("basis")
        batch.alter_column("kind", existing_type=sa.String(40), type_=sa.String(20), existing_nullable=False)
