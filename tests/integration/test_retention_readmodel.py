"""The read model's side of retention on real SQLite and PostgreSQL: open cases' activity, quiet households."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.readmodel import ReadModel
from connectors.readmodel.case_rows import CaseItem
from connectors.readmodel.case_writer import write_case_batch
from connectors.readmodel.retention import forget_quiet_households, open_cases_with_activity
from schemas.outputs_v1 import Signal
from signals.retention import household_forget_at
from tests.integration.runs import table_rows
from tests.unit import case_examples as ex
from tests.unit import readmodel_examples as rx

pytestmark = pytest.mark.integration
DAYS = 365


async def _write(rm: ReadModel, items: list[CaseItem]) -> None:
    await rm.write([i for i in items if isinstance(i, Signal)])
    await write_case_batch(rm, items)


async def test_an_open_case_s_last_activity_is_its_newest_signal_attempt_or_status_change(
    rm: ReadModel,
) -> None:
    reached = ex.attempt("r2", ex.later(ex.SEPT, 5)).model_copy(update={"bereikt": True})
    await _write(
        rm,
        [
            ex.signal("s1"),
            ex.attempt("r1", ex.later(ex.SEPT, 11)),
            reached,
            ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 12), "q1"),
            ex.viewed("v1", ex.later(ex.SEPT, 20)),  # reading is no activity
            ex.signal("s9", household=ex.OTHER),
            ex.signal("s8", ex.later(ex.SEPT, 1), household=ex.OTHER),
            ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 2), household=ex.OTHER),
        ],
    )
    [case] = await open_cases_with_activity(rm)  # the other household's case has its outcome
    assert case.case_id == ex.case_of()
    assert case.last_activity_at == ex.later(ex.SEPT, 12)
    assert case.reached
    assert case.debts == (ex.RENT,)  # the signal-worthy debts only: the creditors that signalled


async def test_a_quiet_household_leaves_the_read_model_at_its_boundary_and_no_earlier(rm: ReadModel) -> None:
    quiet_at = rx.T0
    paid = rx.debt_view(rx.RENT, principal_cents=0, days_overdue=0)
    await rm.write(
        [rx.overview(quiet_at, paid, signal_id=None).model_copy(update={"open_creditors": 0}), rx.reminder()]
    )
    boundary = household_forget_at(quiet_at, DAYS)
    before = await forget_quiet_households(rm, now=boundary - timedelta(seconds=1), days=DAYS)
    assert before == []
    dry = await forget_quiet_households(rm, now=boundary, days=DAYS, dry_run=True)
    assert dry == [rx.HOUSEHOLD]
    assert (await table_rows(rm))["reminders"]  # a dry run deletes nothing
    assert await forget_quiet_households(rm, now=boundary, days=DAYS) == [rx.HOUSEHOLD]
    rows = await table_rows(rm)
    for table in ("households", "debts", "reminders"):
        assert rx.HOUSEHOLD not in repr(rows[table]), table


async def test_an_open_debt_an_open_signal_or_an_open_case_keeps_the_household(rm: ReadModel) -> None:
    owing = rx.debt_view(rx.RENT, principal_cents=50_000, days_overdue=40)
    paid = rx.debt_view(rx.RENT, principal_cents=0, days_overdue=0)
    quiet = {"open_creditors": 0}
    await rm.write(
        [
            rx.overview(rx.T0, owing, key="1011AB-7", signal_id=None),
            rx.overview(rx.T0, paid, key="1011AB-8", signal_id="sig-2").model_copy(update=quiet),
            rx.overview(rx.T0, paid, key=ex.HOUSEHOLD, signal_id=None).model_copy(update=quiet),
            rx.overview(rx.T0, paid, signal_id=None).model_copy(update=quiet),  # quiet, no case: goes
        ]
    )
    await _write(rm, [ex.signal("s1")])  # ex.HOUSEHOLD's case, without an outcome
    later = rx.T0 + timedelta(days=10 * DAYS)
    assert await forget_quiet_households(rm, now=later, days=DAYS) == [rx.HOUSEHOLD]
