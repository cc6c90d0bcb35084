"""Team workflow: cases, contact attempts, outcomes, signal status, audit log, anonymous counts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in case_tables.py: a migration must not change when the models do.
KEY = sa.String(200)
TS = sa.DateTime(timezone=True)
INT = sa.BigInteger()
TEXT100 = sa.String(100)


def _index(table: str, *cols: str) -> None:
    """An index named like the models' naming convention."""
    op.create_index(f"ix_{table}_{'_'.join(cols)}", table, list(cols))


def upgrade() -> None:
    """Create the team-workflow tables."""
    op.create_table(
        "cases",
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("gemeente_code", sa.String(6), nullable=True),
        sa.Column("wijk_code", sa.String(8), nullable=True),
        sa.Column("buurt_code", sa.String(10), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("first_signal_at", TS, nullable=False),
        sa.Column("last_signal_at", TS, nullable=False),
        sa.Column("priority_rank", INT, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    for col in ("household_key", "team_id", "gemeente_code"):
        _index("cases", col)
    op.create_table(
        "signal_status",
        sa.Column("signal_id", KEY, nullable=False),
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("status", TEXT100, nullable=False),
        sa.Column("changed_at", TS, nullable=True),
        sa.Column("changed_by", KEY, nullable=True),
        sa.Column("event_id", KEY, nullable=True),
        sa.PrimaryKeyConstraint("signal_id", name="pk_signal_status"),
    )
    _index("signal_status", "case_id")
    _index("signal_status", "household_key")
    _create_team_tables()
    _create_privacy_tables()


def _create_team_tables() -> None:
    """Contact attempts and outcomes."""
    op.create_table(
        "contact_attempts",
        sa.Column("attempt_id", KEY, nullable=False),
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("soort", sa.String(40), nullable=False),
        sa.Column("bereikt", sa.Boolean(), nullable=False),
        sa.Column("datum", sa.Date(), nullable=False),
        sa.Column("dagdeel", sa.String(10), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_contact_attempts"),
    )
    _index("contact_attempts", "case_id")
    _index("contact_attempts", "household_key")
    op.create_table(
        "case_outcomes",
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("resultaat", TEXT100, nullable=False),
        sa.Column("datum", sa.Date(), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_outcomes"),
    )
    _index("case_outcomes", "household_key")
    _index("case_outcomes", "recorded_at")


def _create_privacy_tables() -> None:
    """Audit log and the anonymous counts the retention job keeps."""
    op.create_table(
        "audit_log",
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("household_key", KEY, nullable=True),
        sa.Column("case_id", KEY, nullable=True),
        sa.Column("signal_id", KEY, nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_audit_log"),
    )
    for col in ("occurred_at", "actor", "household_key", "case_id"):
        _index("audit_log", col)
    op.create_table(
        "anonymous_counts",
        sa.Column("gemeente_code", sa.String(6), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("resultaat", TEXT100, nullable=False),
        sa.Column("cases", INT, nullable=False),
        sa.Column("signals", INT, nullable=False),
        sa.Column("contact_attempts", INT, nullable=False),
        sa.PrimaryKeyConstraint("gemeente_code", "period_start", "resultaat", name="pk_anonymous_counts"),
    )


def downgrade() -> None:
    """Drop the team-workflow tables."""
    for table in (
        "anonymous_counts",
        "audit_log",
        "case_outcomes",
        "contact_attempts",
        "signal_status",
        "cases",
    ):
        op.drop_table(table)
