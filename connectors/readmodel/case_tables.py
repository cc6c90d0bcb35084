"""Read-model tables of the team workflow: cases, contact attempts, outcomes, signal status, audit, counts.

Migration 0002 creates them (0005 the work queue's `case_work`). Every row is derived from the `signals` and
`case-events` topics (except `anonymous_counts`, which the retention job keeps
when it deletes a case), so a replay of the topics rebuilds them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from connectors.readmodel.tables import Base, Key, UtcDateTime

__all__ = [
    "AnonymousCount",
    "AuditEntry",
    "CaseOutcome",
    "CaseRow",
    "CaseWork",
    "ContactAttempt",
    "SignalStatusRow",
]

Text100 = String(100)


class CaseRow(Base):
    """A vroegsignaalzaak: one household's signals in one matching period, routed to one team."""

    __tablename__ = "cases"
    # The work queue filters by wijk and buurt within a team (migration 0005).
    __table_args__ = (
        Index("ix_cases_team_id_wijk_code", "team_id", "wijk_code"),
        Index("ix_cases_team_id_buurt_code", "team_id", "buurt_code"),
    )

    case_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key, index=True)
    gemeente_code: Mapped[str | None] = mapped_column(String(6), index=True)
    wijk_code: Mapped[str | None] = mapped_column(String(8))
    buurt_code: Mapped[str | None] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    first_signal_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_signal_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # 0 urgent, 1 high, 2 normal: the most urgent signal of the case.
    priority_rank: Mapped[int]


class SignalStatusRow(Base):
    """The DDAS status of one signal, and which case it belongs to ("Nog niet opgepakt" until changed)."""

    __tablename__ = "signal_status"

    signal_id: Mapped[str] = mapped_column(Key, primary_key=True)
    case_id: Mapped[str] = mapped_column(Key, index=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    status: Mapped[str] = mapped_column(Text100)
    # Null until a team changes it; the newest change wins whatever order the events arrive in.
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    changed_by: Mapped[str | None] = mapped_column(Key)
    event_id: Mapped[str | None] = mapped_column(Key)


class ContactAttempt(Base):
    """A DDAS contactpoging of a case."""

    __tablename__ = "contact_attempts"

    attempt_id: Mapped[str] = mapped_column(Key, primary_key=True)
    case_id: Mapped[str] = mapped_column(Key, index=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    actor: Mapped[str] = mapped_column(Key)
    soort: Mapped[str] = mapped_column(String(40))
    bereikt: Mapped[bool] = mapped_column(Boolean)
    datum: Mapped[date] = mapped_column(Date)
    dagdeel: Mapped[str | None] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseOutcome(Base):
    """The one final outcome (DDAS eindresultaat) of a case; the first one recorded stays."""

    __tablename__ = "case_outcomes"

    case_id: Mapped[str] = mapped_column(Key, primary_key=True)
    event_id: Mapped[str] = mapped_column(Key)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    actor: Mapped[str] = mapped_column(Key)
    resultaat: Mapped[str] = mapped_column(Text100)
    datum: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CaseWork(Base):
    """The work queue of a case: who has it and when its next action is due (issue 19).

    Kept apart from `cases` because case events and signals arrive on different topics: a
    replay may fold an assignment before the signal that makes the case row. Each half is its
    newest change by (time, event id), so the order the events arrive in does not matter.
    """

    __tablename__ = "case_work"
    __table_args__ = (
        Index("ix_case_work_team_id_assignee", "team_id", "assignee"),
        Index("ix_case_work_team_id_next_action_on", "team_id", "next_action_on"),
    )

    case_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    assignee: Mapped[str | None] = mapped_column(Key)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assigned_by: Mapped[str | None] = mapped_column(Key)
    assign_event_id: Mapped[str | None] = mapped_column(Key)
    next_action_on: Mapped[date | None] = mapped_column(Date)
    planned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    planned_by: Mapped[str | None] = mapped_column(Key)
    plan_event_id: Mapped[str | None] = mapped_column(Key)


class AuditEntry(Base):
    """Who read or changed what, when: one row per case event (reads included)."""

    __tablename__ = "audit_log"

    event_id: Mapped[str] = mapped_column(Key, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str | None] = mapped_column(Key)
    action: Mapped[str] = mapped_column(String(40))
    # Set to null by the retention job once the case's personal data is gone.
    household_key: Mapped[str | None] = mapped_column(Key, index=True)
    case_id: Mapped[str | None] = mapped_column(Key, index=True)
    signal_id: Mapped[str | None] = mapped_column(Key)


class AnonymousCount(Base):
    """What is left of deleted cases: counts per gemeente, matching period and outcome."""

    __tablename__ = "anonymous_counts"

    gemeente_code: Mapped[str] = mapped_column(String(6), primary_key=True)  # "" when unknown
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    resultaat: Mapped[str] = mapped_column(Text100, primary_key=True)
    cases: Mapped[int]
    signals: Mapped[int]
    contact_attempts: Mapped[int]
