"""The household fold in a thread of its own: the event loop runs during a catch-up; stops and revokes stay safe."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.internal_v1 import AcceptedEvent, HouseholdMessage
from schemas.outputs_v1 import CostsPermitted
from streams.worker.fold_thread import FoldThread
from tests.streams.conftest import Worker, as_json, creditor_event, midnight, partition_of, tick

# Enough households that their fold spans many of the interpreter's 5-ms switch intervals.
HOUSEHOLDS = 400
PARTITION = 0


class CountingStates(dict[str, bytes]):
    """The state table, counting the households the fold reads: how far a running fold has come."""

    reads = 0
    _reading: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        if self._reading is not None:
            loop, reading = self._reading
            loop.call_soon_threadsafe(reading.set)  # from the fold thread
        return super().get(key, default)

    async def under_way(self, folding: asyncio.Task[Any]) -> None:
        """Once `folding` has read a household (or ended)."""
        reading = asyncio.Event()
        self._reading = asyncio.get_running_loop(), reading
        await asyncio.wait(
            [folding, asyncio.create_task(reading.wait())], return_when=asyncio.FIRST_COMPLETED
        )


def _households(count: int) -> list[str]:
    """Household keys (unique addresses) on PARTITION."""
    keys = (f"{1000 + n // 40}AB-{n % 40 + 1}" for n in range(count * 8))
    return [key for key in keys if partition_of(key) == PARTITION][:count]


def _opened(household: str, days: int, debt_ref: str = "E1") -> AcceptedEvent:
    """An energy debt 10 days overdue: a reminder at once, costs permitted once its term has run out."""
    return creditor_event(
        "debt.opened",
        household=household,
        source="energy",
        debt_ref=debt_ref,
        occurred_at=midnight(days),
        event_id=f"{household}-{debt_ref}-opened",
        amount_cents=20_000,
        due_date=midnight(days - 10).date(),
    )


def _with_open_debts() -> Worker:
    """Every household's deadline pending, the partition's stream time at day 5."""
    worker = Worker(states=CountingStates())
    worker.run(PARTITION, [_opened(h, 0) for h in _households(HOUSEHOLDS)] + [tick(midnight(5))])
    return worker


def _states(worker: Worker) -> CountingStates:
    assert isinstance(worker.states, CountingStates)
    return worker.states


def _reads(worker: Worker) -> int:
    return _states(worker).reads


@pytest.fixture
def fold() -> Iterator[FoldThread]:
    thread = FoldThread()
    yield thread
    thread.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("household-fold")]


async def test_the_event_loop_runs_while_a_deadline_catch_up_folds(fold: FoldThread) -> None:
    worker, reference = _with_open_debts(), _with_open_debts()
    catch_up = [tick(midnight(60))]  # every household's deadline fires in this one batch
    start = _reads(worker)
    folding = asyncio.create_task(worker.run_in(fold, PARTITION, catch_up))
    seen: set[int] = set()
    while not folding.done():  # a coroutine on the loop, as /healthz is
        seen.add(_reads(worker) - start)
        await asyncio.sleep(0)
    result = await folding
    # It ran after the fold had read some households and before it had read them all.
    assert any(0 < reads < HOUSEHOLDS for reads in seen), sorted(seen)[:5]
    assert sum(isinstance(o, CostsPermitted) for o in result.outputs) == HOUSEHOLDS
    # The same batch folded on the loop gives the same outputs and states.
    assert as_json(result.outputs) == as_json(reference.run(PARTITION, catch_up).outputs)
    assert worker.states == reference.states


async def test_a_revoke_during_the_fold_waits_for_it_and_the_index_is_rebuilt(fold: FoldThread) -> None:
    worker, reference = _with_open_debts(), _with_open_debts()
    catch_up: list[HouseholdMessage] = [tick(midnight(60))]
    later: list[HouseholdMessage] = [tick(midnight(61)), _opened(_households(1)[0], 61, debt_ref="E2")]
    start = _reads(worker)
    folding = asyncio.create_task(worker.run_in(fold, PARTITION, catch_up))
    await _states(worker).under_way(folding)
    worker.processor.forget_partitions([PARTITION])  # on the loop, as the revoke signal calls it
    assert _reads(worker) - start == HOUSEHOLDS  # returned only once the fold had ended
    await folding
    assert worker.processor.pending_wakeups() == 0  # forgotten after the fold, not before
    for batch in (catch_up, later):
        reference.run(PARTITION, batch)
    await worker.run_in(fold, PARTITION, later)  # rebuilds the index from the stored states
    assert as_json(worker.outputs) == as_json(reference.outputs)
    assert worker.states == reference.states
    assert worker.processor.pending_wakeups() == reference.processor.pending_wakeups()
    assert worker.processor.households_tracked() == reference.processor.households_tracked() == HOUSEHOLDS


async def test_an_agent_cancelled_mid_fold_writes_nothing_and_the_redelivered_batch_counts_once(
    fold: FoldThread,
) -> None:
    worker = Worker(states=CountingStates())
    worker.run(PARTITION, [tick(midnight(10))])
    # Late events only: the batch does not move the partition's stream time.
    late = [_opened(h, 3) for h in _households(HOUSEHOLDS)]
    folding = asyncio.create_task(worker.run_in(fold, PARTITION, late))
    await _states(worker).under_way(folding)
    folding.cancel()  # a shutdown or rebalance cancelling the agent mid-fold
    with pytest.raises(asyncio.CancelledError):
        await folding
    assert _reads(worker) == HOUSEHOLDS  # the cancellation went on only once the fold had ended
    assert dict(worker.states) == {}  # nothing written
    assert worker.outputs == []  # nothing sent
    # Kafka delivers the uncommitted batch again; the stage ends as if it had run once.
    reference = Worker()
    reference.run(PARTITION, [tick(midnight(10))])
    reference.run(PARTITION, late)
    await worker.run_in(fold, PARTITION, late)
    assert as_json(worker.outputs) == as_json(reference.outputs)
    assert worker.states == reference.states
    assert worker.processor.households_tracked() == len(worker.states) == HOUSEHOLDS
    assert worker.processor.pending_wakeups() == reference.processor.pending_wakeups()


async def test_a_cancelled_run_goes_on_only_once_the_fold_has_ended(fold: FoldThread) -> None:
    # A thread cannot be stopped: what handles the cancellation (forgetting the partitions,
    # Faust stopping the tables) must find no fold running.
    loop, started = asyncio.get_running_loop(), asyncio.Event()
    release, ended = threading.Event(), threading.Event()

    def folding() -> None:
        loop.call_soon_threadsafe(started.set)
        release.wait(timeout=30)  # a guard: a fold run on the loop itself would wait here forever
        ended.set()

    run = asyncio.create_task(fold.run(folding))
    try:
        await started.wait()
        run.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        run.cancel()  # cancelled again: still waits
        for _ in range(5):
            await asyncio.sleep(0)
        assert not run.done()
    finally:
        release.set()  # the thread ends either way
    with pytest.raises(asyncio.CancelledError):
        await run
    assert ended.is_set()
