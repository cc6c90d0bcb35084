"""Work queue (issue 19): who has a case and when its next action is due, folded from case events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in case_tables.py: a migration must not change when the models do.
KEY = sa.String(200)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the case_work table and the indexes the work queue filters on."""
    op.create_table(
        "case_work",
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("household_key", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("assignee", KEY, nullable=True),
        sa.Column("assigned_at", TS, nullable=True),
        sa.Column("assigned_by", KEY, nullable=True),
        sa.Column("assign_event_id", KEY, nullable=True),
        sa.Column("next_action_on", sa.Date(), nullable=True),
        sa.Column("planned_at", TS, nullable=True),
        sa.Column("planned_by", KEY, nullable=True),
        sa.Column("plan_event_id", KEY, nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_work"),
    )
    op.create_index("ix_case_work_household_key", "case_work", ["household_key"])
    op.create_index("ix_case_work_team_id_assignee", "case_work", ["team_id", "assignee"])
    op.create_index("ix_case_work_team_id_next_action_on", "case_work", ["team_id", "next_action_on"])
    # The inbox's filters by wijk and buurt within a team.
    op.create_index("ix_cases_team_id_wijk_code", "cases", ["team_id", "wijk_code"])
    op.create_index("ix_cases_team_id_buurt_code", "cases", ["team_id", "buurt_code"])


def downgrade() -> None:
    """Drop the work queue's table and indexes."""
    op.drop_index("ix_cases_team_id_buurt_code", table_name="cases")
    op.drop_index("ix_cases_team_id_wijk_code", table_name="cases")
    op.drop_table("case_work")
