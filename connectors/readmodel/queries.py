"""Read-side queries of the read model, returning the output contracts again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from connectors.readmodel.rows import overview_from_rows, signal_from_row
from connectors.readmodel.tables import Base, Debt, Household, SignalRow, table_of
from connectors.readmodel.writer import ReadModel
from schemas.outputs_v1 import HouseholdOverview, Signal


@dataclass(frozen=True)
class SignalRecord:
    """A stored signal and, once every debt is settled, its resolution."""

    signal: Signal
    resolved_at: datetime | None
    resolution_id: str | None


async def overview(rm: ReadModel, household_key: str) -> HouseholdOverview | None:
    """The household's latest stored overview, or None if none was written."""
    households, debts = table_of(Household), table_of(Debt)
    async with rm.reading() as conn:
        household = (
            (await conn.execute(select(households).where(households.c.household_key == household_key)))
            .mappings()
            .one_or_none()
        )
        if household is None:
            return None
        rows = (await conn.execute(select(debts).where(debts.c.household_key == household_key))).mappings()
        return overview_from_rows(household, rows.all())


async def signals_for(rm: ReadModel, household_key: str) -> list[SignalRecord]:
    """The household's signals, oldest first."""
    table = table_of(SignalRow)
    stmt = (
        select(table)
        .where(table.c.household_key == household_key)
        .order_by(table.c.raised_at, table.c.signal_id)
    )
    async with rm.reading() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [SignalRecord(signal_from_row(r), r["resolved_at"], r["resolution_id"]) for r in rows]


async def count_rows(rm: ReadModel) -> dict[str, int]:
    """Rows per read-model table."""
    counts: dict[str, int] = {}
    async with rm.engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            counts[name] = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
    return counts
