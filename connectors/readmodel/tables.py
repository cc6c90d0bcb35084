"""Typed ORM tables of the SQL read model: what teams and the demo query.

The migrations in `migrations/versions/` create these tables; a test compares
the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Index,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can name what they create and drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON().with_variant(JSONB(), "postgresql")
Key = String(200)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; SQLite keeps no zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and normalise to UTC, so text comparison on SQLite orders correctly."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the read model stores aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend gave."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Cents can pass 2**31 in totals; one integer type keeps the migration simple.
    type_annotation_map = {int: BigInteger}  # noqa: RUF012 (SQLAlchemy reads this class attribute)


class Household(Base):
    """The latest integrated overview of one household (its debts are in `debts`)."""

    __tablename__ = "households"

    household_key: Mapped[str] = mapped_column(Key, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
    team_id: Mapped[str] = mapped_column(Key, index=True)
    buurt_code: Mapped[str | None] = mapped_column(String(10))
    total_principal_cents: Mapped[int]
    total_costs_cents: Mapped[int]
    open_creditors: Mapped[int]
    source_kinds: Mapped[int]
    open_signal_id: Mapped[str | None] = mapped_column(Key)
    # Wall-clock time of the last write, for operators; the only column a replay changes.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class Debt(Base):
    """One debt of a household as of the household's latest overview."""

    __tablename__ = "debts"

    household_key: Mapped[str] = mapped_column(Key, primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    creditor_id: Mapped[str] = mapped_column(Key, primary_key=True)
    debt_ref: Mapped[str] = mapped_column(Key, primary_key=True)
    # Order of the debt in the overview, so a read-back equals what was written.
    position: Mapped[int]
    creditor_name: Mapped[str] = mapped_column(String(400))
    principal_cents: Mapped[int]
    costs_cents: Mapped[int]
    paid_cents: Mapped[int]
    due_date: Mapped[date | None] = mapped_column(Date)
    days_overdue: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    close_reason: Mapped[str | None] = mapped_column(String(40))
    reminders: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    pay_by: Mapped[date | None] = mapped_column(Date)
    costs_permitted: Mapped[bool] = mapped_column(Boolean)
    last_event_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The arrears episode the reminders, pay-by and gate above belong to; earlier ones kept apart.
    episode: Mapped[int] = mapped_column(default=1)
    earlier_episodes: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)


class SignalRow(Base):
    """An early-warning signal; `resolved_at` is filled from `signal_resolutions`."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_team_id_raised_at", "team_id", "raised_at"),)

    signal_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    buurt_code: Mapped[str | None] = mapped_column(String(10))
    wijk_code: Mapped[str | None] = mapped_column(String(8))
    gemeente_code: Mapped[str | None] = mapped_column(String(6))
    map_version: Mapped[str] = mapped_column(Key)
    route_fallback: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[str] = mapped_column(String(20))
    kinds: Mapped[list[str]] = mapped_column(Json)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    debts: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    total_cents: Mapped[int]
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution_id: Mapped[str | None] = mapped_column(Key)


class SignalResolution(Base):
    """A resolution as received, kept even when its signal is not (yet) in `signals`."""

    __tablename__ = "signal_resolutions"

    resolution_id: Mapped[str] = mapped_column(Key, primary_key=True)
    signal_id: Mapped[str] = mapped_column(Key, index=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Reminder(Base):
    """A free reminder the pipeline told a creditor to send, with the debtor's contact details."""

    __tablename__ = "reminders"

    reminder_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    source: Mapped[str] = mapped_column(String(20))
    creditor_id: Mapped[str] = mapped_column(Key)
    debt_ref: Mapped[str] = mapped_column(Key)
    # Personal data: teams and creditors need it to reach the debtor. There is no BSN here.
    contact_name: Mapped[str] = mapped_column(String(400))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_street: Mapped[str | None] = mapped_column(String(400))
    contact_house: Mapped[str] = mapped_column(String(40))
    contact_postcode: Mapped[str] = mapped_column(String(6))
    contact_city: Mapped[str | None] = mapped_column(String(200))
    amount_cents: Mapped[int]
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pay_by: Mapped[date] = mapped_column(Date)


class CostGateDecision(Base):
    """A debt whose free-reminder term ran out unpaid: costs up to the maximum are permitted."""

    __tablename__ = "cost_gate_decisions"

    decision_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    source: Mapped[str] = mapped_column(String(20))
    creditor_id: Mapped[str] = mapped_column(Key)
    debt_ref: Mapped[str] = mapped_column(Key)
    reminder_id: Mapped[str | None] = mapped_column(Key)
    principal_cents: Mapped[int]
    max_costs_cents: Mapped[int]
    permitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    costs_from: Mapped[date | None] = mapped_column(Date)  # the first local day costs may be charged
    vat_cents: Mapped[int] = mapped_column(default=0)  # included in max_costs_cents (BIK art. 2 lid 3)


class CostViolationRow(Base):
    """Costs charged too early or above the scale (or a winter end of supply), with the basis judged on;
    linked to a signal that reported it, if any."""

    __tablename__ = "cost_violations"

    violation_id: Mapped[str] = mapped_column(Key, primary_key=True)
    household_key: Mapped[str] = mapped_column(Key, index=True)
    source: Mapped[str] = mapped_column(String(20))
    creditor_id: Mapped[str] = mapped_column(Key)
    debt_ref: Mapped[str] = mapped_column(Key)
    kind: Mapped[str] = mapped_column(String(40))
    basis: Mapped[str | None] = mapped_column(String(100))
    charged_cents: Mapped[int]
    permitted_cents: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    signal_id: Mapped[str | None] = mapped_column(Key, index=True)


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as a Table for INSERT/UPDATE/DELETE."""
    return Base.metadata.tables[model.__tablename__]
