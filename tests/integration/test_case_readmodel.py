"""The team-workflow tables on real SQLite and PostgreSQL: idempotent, order-free writes and retention."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from connectors.readmodel import ReadModel
from connectors.readmodel.case_queries import audit_entries, case_detail, open_cases
from connectors.readmodel.case_rows import CaseItem
from connectors.readmodel.case_tables import AnonymousCount, SignalStatusRow
from connectors.readmodel.case_writer import write_case_batch
from connectors.readmodel.retention import purge_closed_cases
from connectors.readmodel.tables import table_of
from schemas.outputs_v1 import Signal
from signals.cases import StoredOutcome
from tests.integration.runs import table_rows
from tests.unit import case_examples as ex
from tests.unit import readmodel_examples as rx

pytestmark = pytest.mark.integration
CASE_TABLES = ("cases", "signal_status", "contact_attempts", "case_outcomes", "audit_log")


def history() -> list[CaseItem]:
    """Two months of signals for one household, one for another, and a team's work on the first case."""
    oct1 = ex.later(ex.SEPT, 30)
    return [
        ex.signal("s1", priority="normal"),
        ex.signal("s2", ex.later(ex.SEPT, 10), priority="urgent"),
        ex.signal("s9", household=ex.OTHER),
        ex.viewed("v1", ex.later(ex.SEPT, 11)),
        ex.attempt("r1", ex.later(ex.SEPT, 11)),
        ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 11), "q1"),
        ex.status("s1", "Niet opgepakt: andere reden", ex.later(ex.SEPT, 12), "q2"),
        ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 12)),
        ex.outcome("Inwoner is overleden", ex.later(ex.SEPT, 13)),
        ex.signal("s3", oct1),
    ]


async def _snapshot(rm: ReadModel) -> dict[str, Any]:
    rows = await table_rows(rm)
    return {t: rows[t] for t in CASE_TABLES}


async def _fresh(rm: ReadModel) -> None:
    from sqlalchemy import delete

    from connectors.readmodel.tables import Base

    async with rm.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            await conn.execute(delete(table))


async def test_rows_do_not_depend_on_batching_order_or_repetition(rm: ReadModel) -> None:
    items = history()
    await write_case_batch(rm, items)
    expected = await _snapshot(rm)
    await write_case_batch(rm, items)  # a replay
    assert await _snapshot(rm) == expected
    await _fresh(rm)
    # Signals after the events about them (a replay may read the case-events partition first), one per batch.
    for item in [i for i in items if i.type != "signal"] + [i for i in items if i.type == "signal"][::-1]:
        await write_case_batch(rm, [item])
    assert await _snapshot(rm) == expected


async def _write_all(rm: ReadModel, items: list[CaseItem]) -> None:
    """As the worker does: the sink writes the signals, the case sink the cases."""
    await rm.write([i for i in items if isinstance(i, Signal)])
    await write_case_batch(rm, items)


async def test_the_inbox_holds_open_cases_by_priority_and_a_case_shows_its_work(rm: ReadModel) -> None:
    await _write_all(rm, history())
    inbox = await open_cases(rm, ex.TEAM)
    assert [(c.household_key, c.priority, c.period_start) for c in inbox] == [
        (ex.OTHER, "high", date(2026, 9, 1)),  # equal priority: the oldest signal first
        (ex.HOUSEHOLD, "high", date(2026, 10, 1)),
    ]
    detail = await case_detail(rm, ex.case_of())
    assert detail is not None
    assert detail.summary.priority == "urgent"
    assert detail.summary.outcome is not None
    assert detail.summary.outcome.resultaat.startswith("Vervolghulp")
    assert [s.status for s in detail.summary.signals] == ["Niet opgepakt: andere reden", "Nog niet opgepakt"]
    assert [(a.soort, a.bereikt) for a in detail.attempts] == [("Telefoon", False)]
    audited = await audit_entries(rm, member="centrum-01", household=ex.HOUSEHOLD)
    assert {r["action"] for r in audited} == {
        "overview_viewed",
        "contact_attempt_recorded",
        "signal_status_changed",
        "outcome_recorded",
    }
    assert await audit_entries(rm, member="someone-else") == []
    assert await audit_entries(rm, since=datetime(2027, 1, 1, tzinfo=UTC)) == []


async def test_retention_deletes_closed_cases_keeps_counts_and_is_idempotent(rm: ReadModel) -> None:
    await rm.write(
        [
            rx.overview(rx.T0, rx.debt_view(rx.RENT, principal_cents=1, days_overdue=31)).model_copy(
                update={"household_key": ex.OTHER}
            )
        ]
    )
    await _write_all(rm, history())
    before = await table_rows(rm)
    cutoff = datetime(2026, 9, 20, tzinfo=UTC)
    dry = await purge_closed_cases(rm, cutoff=cutoff, dry_run=True)
    assert (dry.cases, dry.signals, dry.contact_attempts) == (1, 2, 1)
    assert await table_rows(rm) == before  # a dry run changes nothing
    done = await purge_closed_cases(rm, cutoff=cutoff)
    assert (done.cases, done.signals) == (1, 2)
    rows = await table_rows(rm)
    assert ex.case_of() not in repr(rows["cases"])
    assert not rows["case_outcomes"]
    assert not rows["contact_attempts"]
    assert {r[0] for r in rows["signal_status"]} == {"s3", "s9"}
    assert {r[0] for r in rows["signals"]} == {"s3", "s9"}
    # The household still has its October case, so its overview stays; the audit keeps who/when/what only.
    assert all(r[5] is None for r in rows["audit_log"] if r[6] == ex.case_of())
    assert await _counts(rm) == [
        ("GM0363", date(2026, 9, 1), "Vervolghulp en/of verwijzing financieel", 1, 2, 1)
    ]
    again = await purge_closed_cases(rm, cutoff=cutoff)
    assert again.cases == 0
    assert await _counts(rm) == [
        ("GM0363", date(2026, 9, 1), "Vervolghulp en/of verwijzing financieel", 1, 2, 1)
    ]


async def test_retention_keeps_cases_closed_after_the_cutoff_and_open_cases(rm: ReadModel) -> None:
    await write_case_batch(rm, history())
    result = await purge_closed_cases(rm, cutoff=datetime(2026, 9, 1, tzinfo=UTC))
    assert result.cases == 0
    assert len((await table_rows(rm))["cases"]) == 3


async def _counts(rm: ReadModel) -> list[tuple[Any, ...]]:
    table = table_of(AnonymousCount)
    async with rm.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(select(table))]


async def test_retention_removes_the_household_data_once_no_case_is_left(rm: ReadModel) -> None:
    overview = rx.overview(rx.T0, rx.debt_view(rx.RENT, principal_cents=1, days_overdue=31))
    await rm.write(
        [
            overview.model_copy(update={"household_key": ex.OTHER}),
            rx.reminder().model_copy(update={"household_key": ex.OTHER}),
        ]
    )
    closed = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 12), household=ex.OTHER)
    await _write_all(rm, [*history(), closed, ex.viewed("v9", ex.later(ex.SEPT, 12), household=ex.OTHER)])
    result = await purge_closed_cases(rm, cutoff=datetime(2026, 9, 20, tzinfo=UTC))
    assert (result.cases, result.households) == (2, 1)
    rows = await table_rows(rm)
    assert ex.OTHER not in repr(rows["households"]) + repr(rows["debts"]) + repr(rows["reminders"])
    assert ex.OTHER not in repr(rows["audit_log"])
    assert ex.OTHER not in repr(rows["signals"])
    assert ex.HOUSEHOLD in repr(rows["cases"])  # its October case is still open


async def test_the_first_outcome_stored_decides_and_a_reused_id_changes_nothing_in_a_later_batch(
    rm: ReadModel,
) -> None:
    first = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 3))
    rival = first.model_copy(
        update={"resultaat": "Inwoner is overleden", "occurred_at": ex.later(ex.SEPT, 4)}
    )
    applied = ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 2), "r1")
    reused = applied.model_copy(
        update={"status": "Niet opgepakt: andere reden", "occurred_at": ex.later(ex.SEPT, 5)}
    )

    decided = await write_case_batch(rm, [ex.signal("s1"), first, applied])
    again = await write_case_batch(rm, [rival, reused])  # the rivals come in a later batch

    assert decided == again == {first.case_id: StoredOutcome.of(first)}
    detail = await case_detail(rm, ex.case_of())
    assert detail is not None
    assert detail.summary.outcome is not None
    assert detail.summary.outcome.resultaat == first.resultaat
    status = table_of(SignalStatusRow)
    async with rm.engine.connect() as conn:
        rows = (await conn.execute(select(status.c.status, status.c.event_id))).all()
    assert [tuple(r) for r in rows] == [("Opgepakt", applied.event_id)]
