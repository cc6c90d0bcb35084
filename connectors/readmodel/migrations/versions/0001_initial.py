"""Initial read model: households, debts, signals, resolutions, reminders, cost gate, violations.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a migration must not change when the models do.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KEY = sa.String(200)
TS = sa.DateTime(timezone=True)
INT = sa.BigInteger()


def _debt_cols() -> list[sa.Column[str]]:
    """The three columns that name a debt."""
    return [
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("creditor_id", KEY, nullable=False),
        sa.Column("debt_ref", KEY, nullable=False),
    ]


def _index(table: str, *cols: str) -> None:
    """An index named like the models' naming convention."""
    op.create_index(f"ix_{table}_{'_'.join(cols)}", table, list(cols))


def upgrade() -> None:
    """Create the read-model tables."""
    op.create_table(
        "households",
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("buurt_code", sa.String(10), nullable=True),
        sa.Column("total_principal_cents", INT, nullable=False),
        sa.Column("total_costs_cents", INT, nullable=False),
        sa.Column("open_creditors", INT, nullable=False),
        sa.Column("source_kinds", INT, nullable=False),
        sa.Column("open_signal_id", KEY, nullable=True),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("household_key", name="pk_households"),
    )
    _index("households", "team_id")
    op.create_table(
        "debts",
        sa.Column("household_key", KEY, nullable=False),
        *_debt_cols(),
        sa.Column("position", INT, nullable=False),
        sa.Column("creditor_name", sa.String(400), nullable=False),
        sa.Column("principal_cents", INT, nullable=False),
        sa.Column("costs_cents", INT, nullable=False),
        sa.Column("paid_cents", INT, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("days_overdue", INT, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("close_reason", sa.String(40), nullable=True),
        sa.Column("reminders", JSON, nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=True),
        sa.Column("costs_permitted", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("household_key", "source", "creditor_id", "debt_ref", name="pk_debts"),
    )
    _create_signal_tables()
    _create_cost_tables()


def _create_signal_tables() -> None:
    """Signals and their resolutions."""
    op.create_table(
        "signals",
        sa.Column("signal_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("buurt_code", sa.String(10), nullable=True),
        sa.Column("wijk_code", sa.String(8), nullable=True),
        sa.Column("gemeente_code", sa.String(6), nullable=True),
        sa.Column("map_version", KEY, nullable=False),
        sa.Column("route_fallback", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("kinds", JSON, nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("debts", JSON, nullable=False),
        sa.Column("violations", JSON, nullable=False),
        sa.Column("total_cents", INT, nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolution_id", KEY, nullable=True),
        sa.PrimaryKeyConstraint("signal_id", name="pk_signals"),
    )
    _index("signals", "household_key")
    _index("signals", "team_id", "raised_at")
    op.create_table(
        "signal_resolutions",
        sa.Column("resolution_id", KEY, nullable=False),
        sa.Column("signal_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("resolved_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("resolution_id", name="pk_signal_resolutions"),
    )
    _index("signal_resolutions", "signal_id")
    _index("signal_resolutions", "household_key")


def _create_cost_tables() -> None:
    """Reminders, cost-gate decisions and cost violations."""
    op.create_table(
        "reminders",
        sa.Column("reminder_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        *_debt_cols(),
        sa.Column("contact_name", sa.String(400), nullable=False),
        sa.Column("contact_phone", sa.String(40), nullable=True),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("contact_street", sa.String(400), nullable=True),
        sa.Column("contact_house", sa.String(40), nullable=False),
        sa.Column("contact_postcode", sa.String(6), nullable=False),
        sa.Column("contact_city", sa.String(200), nullable=True),
        sa.Column("amount_cents", INT, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("reminder_id", name="pk_reminders"),
    )
    _index("reminders", "household_key")
    op.create_table(
        "cost_gate_decisions",
        sa.Column("decision_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        *_debt_cols(),
        sa.Column("reminder_id", KEY, nullable=True),
        sa.Column("principal_cents", INT, nullable=False),
        sa.Column("max_costs_cents", INT, nullable=False),
        sa.Column("permitted_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_cost_gate_decisions"),
    )
    _index("cost_gate_decisions", "household_key")
    op.create_table(
        "cost_violations",
        sa.Column("violation_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        *_debt_cols(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("charged_cents", INT, nullable=False),
        sa.Column("permitted_cents", INT, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("signal_id", KEY, nullable=True),
        sa.PrimaryKeyConstraint("violation_id", name="pk_cost_violations"),
    )
    _index("cost_violations", "household_key")
    _index("cost_violations", "signal_id")


def downgrade() -> None:
    """Drop the read-model tables."""
    for table in (
        "cost_violations",
        "cost_gate_decisions",
        "reminders",
        "signal_resolutions",
        "signals",
        "debts",
        "households",
    ):
        op.drop_table(table)
