"""The household stage forgets a quiet household on the clock: its state goes, its debts do not come back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import HouseholdOverview
from signals.retention import state_forget_at
from streams.worker.state_codec import decode_state
from tests.streams.conftest import (
    Worker,
    creditor_event,
    generated_history,
    midnight,
    partition_of,
    tick,
    ticks_everywhere,
)

QUIET, STILL_OWING = "1011AB-1", "1012EF-1"  # one partition, so one clock drives both
FORGET_DAYS = 365


def _energy(kind: str, household: str, days: int, *, debt_ref: str = "E1", **fields: Any) -> AcceptedEvent:
    return creditor_event(
        kind, household=household, source="energy", debt_ref=debt_ref, occurred_at=midnight(days), **fields
    )


def _worker_with_history() -> tuple[Worker, int]:
    worker, partition = Worker(forget_after_days=FORGET_DAYS), partition_of(QUIET)
    assert partition_of(STILL_OWING) == partition
    due = midnight(-10).date()
    worker.run(
        partition,
        [
            _energy("debt.opened", QUIET, 0, amount_cents=20_000, due_date=due),
            _energy("debt.opened", STILL_OWING, 0, amount_cents=20_000, due_date=due),
            _energy("payment.received", QUIET, 5, amount_cents=0, paid_cents=20_000),
            _energy("debt.closed", QUIET, 6, reason="paid"),
        ],
    )
    worker.run(partition, [tick(midnight(60))])  # every deadline of the first weeks has fired
    return worker, partition


def test_a_quiet_household_is_deleted_from_the_table_at_the_forget_boundary_and_no_earlier() -> None:
    worker, partition = _worker_with_history()
    boundary = state_forget_at(decode_state(worker.states[QUIET]), FORGET_DAYS)
    assert boundary is not None
    assert state_forget_at(decode_state(worker.states[STILL_OWING]), FORGET_DAYS) is None

    before = worker.run(partition, [tick(boundary - timedelta(seconds=1))])
    assert before.forgotten == []
    assert QUIET in worker.states

    at = worker.run(partition, [tick(boundary)])
    assert at.forgotten == [QUIET]
    assert QUIET not in worker.states  # the agent deletes the key: a tombstone on the changelog
    assert STILL_OWING in worker.states  # an open debt keeps its household however long it lasts
    assert not [o for o in at.outputs if isinstance(o, HouseholdOverview) and o.household_key == QUIET]

    after = worker.run(partition, [tick(boundary + timedelta(days=1))])
    assert after.forgotten == []


def test_a_restarted_worker_does_not_bring_a_forgotten_household_back() -> None:
    worker, partition = _worker_with_history()
    boundary = state_forget_at(decode_state(worker.states[QUIET]), FORGET_DAYS)
    assert boundary is not None
    worker.run(partition, [tick(boundary)])
    restarted = worker.restarted()  # the wakeup index is rebuilt from the table
    restarted.run(partition, [tick(boundary + timedelta(days=30))])
    assert QUIET not in restarted.states
    # A new debt of the same address starts a household with nothing of the old one.
    restarted.run(partition, [_energy("debt.opened", QUIET, 500, amount_cents=5_000, debt_ref="E2")])
    state = decode_state(restarted.states[QUIET])
    assert [d.debt_ref for d in state.debts] == ["E2"]
    assert state.signals_raised == 0


def test_without_a_forget_period_nothing_is_forgotten() -> None:
    worker, partition = Worker(), partition_of(QUIET)
    worker.run(
        partition, [_energy("debt.opened", QUIET, 0, amount_cents=20_000, due_date=midnight(-10).date())]
    )
    worker.run(partition, [_energy("debt.closed", QUIET, 6, reason="paid")])
    result = worker.run(partition, [tick(midnight(3650))])
    assert result.forgotten == []
    assert QUIET in worker.states


def test_an_event_after_the_boundary_without_a_tick_between_finds_the_household_forgotten() -> None:
    worker, partition = _worker_with_history()
    boundary = state_forget_at(decode_state(worker.states[QUIET]), FORGET_DAYS)
    assert boundary is not None
    late = _energy("debt.opened", QUIET, 0, amount_cents=5_000, debt_ref="E2")
    late = late.model_copy(update={"event": late.event.model_copy(update={"occurred_at": boundary})})
    worker.run(partition, [late])
    assert [d.debt_ref for d in decode_state(worker.states[QUIET]).debts] == ["E2"]


def _tracked_per_partition(worker: Worker) -> dict[int, int]:
    counts: dict[int, int] = {}
    for key in worker.states:
        counts[partition_of(key)] = counts.get(partition_of(key), 0) + 1
    return counts


NEIGHBOUR = "1012AB-4"  # the same partition as QUIET


def test_households_tracked_follows_the_table_without_reading_it_per_batch() -> None:
    # The gauge once read len() of the table per batch, which a RocksDB store answers by reading every
    # key; the processor now counts new and forgotten keys. Checked against the table at each step.
    worker, partition = _worker_with_history()
    assert partition_of(NEIGHBOUR) == partition
    assert worker.processor.households_tracked() == len(worker.states) == 2
    worker.run(
        partition, [_energy("debt.opened", NEIGHBOUR, 61, amount_cents=9_000, due_date=midnight(50).date())]
    )
    assert worker.processor.households_tracked() == len(worker.states) == 3

    boundary = state_forget_at(decode_state(worker.states[QUIET]), FORGET_DAYS)
    assert boundary is not None
    worker.run(partition, [tick(boundary)])
    assert QUIET not in worker.states
    assert worker.processor.households_tracked() == len(worker.states) == 2

    # Forgotten and back within one batch: one household, counted once.
    again = _energy("debt.opened", QUIET, 0, amount_cents=5_000, debt_ref="E3")
    worker.run(
        partition,
        [again.model_copy(update={"event": again.event.model_copy(update={"occurred_at": boundary})})],
    )
    assert worker.processor.households_tracked() == len(worker.states) == 3

    restarted = worker.restarted()  # a new process counts the table once, when the partition's index is built
    assert restarted.processor.households_tracked() == 0
    restarted.run(partition, [tick(boundary + timedelta(days=1))])
    assert restarted.processor.households_tracked() == _tracked_per_partition(restarted)[partition] == 3

    restarted.processor.forget_partitions([partition])  # revoked: no longer this worker's households
    assert restarted.processor.households_tracked() == 0


def test_households_tracked_equals_the_table_after_a_generated_history_in_any_batching() -> None:
    history = generated_history() + ticks_everywhere(
        midnight(900)
    )  # long enough for quiet ones to be forgotten
    households = {m.household_key for _, m in history if isinstance(m, AcceptedEvent)}
    for batch_size in (None, 7):
        worker = Worker(forget_after_days=FORGET_DAYS)
        worker.feed(history, batch_size)
        assert 0 < len(worker.states) < len(households)  # some were forgotten, some not
        assert worker.processor.households_tracked() == len(worker.states)
