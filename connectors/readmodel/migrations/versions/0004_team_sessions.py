"""Team sign-in sessions, shared by every worker so a logout ends the session everywhere.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in sessions.py: a migration must not change when the models do.
KEY = sa.String(200)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the sessions table."""
    op.create_table(
        "team_sessions",
        sa.Column("session_sha256", KEY, nullable=False),
        sa.Column("member_id", KEY, nullable=False),
        sa.Column("team_id", KEY, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_team_sessions"),
    )
    op.create_index("ix_team_sessions_member_id", "team_sessions", ["member_id"])
    op.create_index("ix_team_sessions_expires_at", "team_sessions", ["expires_at"])


def downgrade() -> None:
    """Drop the sessions table."""
    op.drop_table("team_sessions")
