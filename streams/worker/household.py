"""Fold a batch of one partition's messages into household states; no Faust here, so it is testable.

The agent (streams/worker/agents.py) hands over each partition's messages in order,
sends the returned effects, waits until the broker has them, and only then
writes the changed states. A crash between the two re-processes the batch:
the effects go out again with the same ids (sinks upsert), never lost.

The agent runs `process` in a thread of its own (streams/worker/fold_thread.py), so the
event loop answers /healthz and /metrics during a long fold; everything else is called on
the loop. A lock keeps the two apart (see `HouseholdProcessor.__init__`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from schemas.internal_v1 import AcceptedEvent, ClockTick, HouseholdMessage
from schemas.outputs_v1 import Effect, HouseholdOverview, Route, Signal
from signals.household import Outcome, Refusal, advance, handle_event, next_wakeup
from signals.limits import HouseholdLimits
from signals.overview import HouseholdState
from signals.policy import Policy
from signals.retention import state_forget_at
from signals.view import build_overview
from streams.worker.deadlines import WakeupIndex
from streams.worker.state_codec import decode_state, encode_state

Output = Effect | HouseholdOverview


@contextmanager
def _collection_deferred() -> Iterator[None]:
    """Run one batch without the cyclic garbage collector, then restore it.

    A batch allocates many acyclic objects (states, effects) that live until it ends;
    each collection during the batch promotes them, and every few promotions force a
    full collection over the whole heap, which took about half of a batch's time.
    Refcounting still frees everything a batch drops; cycles wait for the next collection.
    Only around this synchronous fold: held across the agent's awaits as well, it kept the
    cyclic garbage of every other task (web requests, Kafka futures) alive meanwhile, and
    a worker's RSS per household more than doubled (README "Performance"). The switch is
    process-wide: with the fold in its own thread (streams/worker/fold_thread.py) the loop's
    cyclic garbage waits for the fold's end as well, which measured within the noise of RSS
    per household (README "Performance").
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Counted:
    """What the metrics read of an event's or tick's Outcome: everything but the state.

    A batch keeps one per message until it ends; keeping the Outcome would keep every
    intermediate HouseholdState alive too, for the collection at the batch's end to scan
    (README "Performance"; +10-20% for the household stage alone, measured by the fold work).
    """

    effects: tuple[Effect, ...]
    duplicate: bool = False
    costs_avoided_cents: int = 0
    withheld_signals: int = 0
    refused: Refusal | None = None
    updated_signals: tuple[str, ...] = ()

    @classmethod
    def of(cls, outcome: Outcome) -> Counted:
        return cls(**{name: getattr(outcome, name) for name in _COUNTED_FIELDS})


_COUNTED_FIELDS = tuple(f.name for f in fields(Counted))


@dataclass
class BatchResult:
    """What one partition's batch produced: outputs to send, then states to write."""

    outputs: list[Output] = field(default_factory=list)
    states: dict[str, bytes] = field(default_factory=dict)
    stream_time: datetime | None = None
    outcomes: list[tuple[str, Counted]] = field(default_factory=list)  # (source or 'tick', outcome)
    # Households to delete from the table (a tombstone on its changelog): quiet past the retention period.
    forgotten: list[str] = field(default_factory=list)
    # Valid events not folded in (beyond a household's bounds): the agent dead-letters them.
    refused: list[tuple[AcceptedEvent, Refusal]] = field(default_factory=list)


def _last_versions(outputs: list[Output]) -> list[Output]:
    """Coalesce within a batch: of a signal updated in place (same id, signals.limits), only the last version.

    Every sink upserts on the id, so the read model ends the same however the messages were
    cut into batches; a burst of events for one address sends one signal per batch.
    """
    last = {o.signal_id: i for i, o in enumerate(outputs) if isinstance(o, Signal)}
    if len(last) == sum(isinstance(o, Signal) for o in outputs):
        return outputs
    return [o for i, o in enumerate(outputs) if not isinstance(o, Signal) or last[o.signal_id] == i]


class HouseholdProcessor:
    """Owns the per-partition stream time and wakeup index; folds messages through signals/."""

    def __init__(
        self,
        *,
        states: MutableMapping[str, bytes],
        policy: Policy,
        route: Callable[[str], Route],
        partition_of: Callable[[str], int],
        forget_after_days: int | None = None,
        limits: HouseholdLimits | None = None,
    ) -> None:
        self._states = states
        self._policy = policy
        self._limits = limits if limits is not None else HouseholdLimits()
        self._forget_after_days = forget_after_days  # None: households are never forgotten
        self._route = route
        self._partition_of = partition_of
        self._indexes: dict[int, WakeupIndex] = {}
        # Households stored per indexed partition, counted when its index is built and kept up to
        # date per batch: a RocksDB table's len() reads every key, which per batch made the
        # stage's cost grow with the households tracked (tests/bench/memory_curve.py).
        self._tracked: dict[int, int] = {}
        self._ended_at: dict[int, datetime | None] = {}
        self._routes: dict[str, Route] = {}  # per batch: a household is routed once, not per message
        self._stored: dict[str, bytes] = {}  # per batch: each household's state as read from the table
        # `process` runs in the agent's fold thread, the rest on the event loop. Faust signals a
        # revoke (forget_partitions) only once the batch in flight is acknowledged, so the two
        # meet only when a stop cut that wait short; then forgetting waits for the fold to end
        # instead of changing the indexes under it. Held per batch, never contended in a fold.
        self._lock = threading.Lock()

    def forget_partitions(self, partitions: Sequence[int]) -> None:
        """After a rebalance, or a batch whose states were not written: the index is rebuilt when next used."""
        with self._lock:
            for partition in partitions:
                self._indexes.pop(partition, None)
                self._tracked.pop(partition, None)
                self._ended_at.pop(partition, None)

    @contextmanager
    def until_written(self, partitions: Sequence[int]) -> Iterator[None]:
        """Around a batch from its fold to its written states: left by an exception, the partitions are forgotten.

        A batch abandoned in between (a cancelled agent: shutdown, rebalance) wrote no state, but
        its fold moved the indexes on. The re-processed batch is recognised by its stream time
        (`_process`), except when the abandoned batch did not move the stream time (late events
        only); forgetting covers every case. Enter it on the thread that writes the states; a fold
        still running in another thread must have ended before the exception arrives here.
        """
        try:
            yield
        except BaseException:
            self.forget_partitions(partitions)
            raise

    def households_tracked(self) -> int:
        """Households in the table, over the partitions indexed here (each is, from its first batch on)."""
        with self._lock:
            return sum(self._tracked.values())

    def pending_wakeups(self) -> int:
        """Households with a pending deadline (a quiet one's forget time counts), over the partitions indexed here."""
        with self._lock:
            return sum(len(index) for index in self._indexes.values())

    def process(
        self, partition: int, messages: Sequence[HouseholdMessage], stream_time: datetime | None
    ) -> BatchResult:
        """Fold messages in order; fire deadlines as soon as stream time passes them."""
        with self._lock, _collection_deferred():
            return self._process(partition, messages, stream_time)

    def _process(
        self, partition: int, messages: Sequence[HouseholdMessage], stream_time: datetime | None
    ) -> BatchResult:
        if self._ended_at.get(partition, stream_time) != stream_time:
            # The last batch of this partition was not persisted (its stream time
            # is not the one we ended at): it is being re-processed, so the index,
            # which already moved on, must be rebuilt from the persisted states.
            self._indexes.pop(partition, None)
            self._tracked.pop(partition, None)
        index = self._index(partition)
        self._routes.clear()
        self._stored.clear()
        result = BatchResult(stream_time=stream_time)
        cache: dict[str, HouseholdState | None] = {}  # None: forgotten in this batch
        for message in messages:
            if isinstance(message, AcceptedEvent):
                self._handle(message, cache, index, result)
                moment = message.event.occurred_at
            else:
                assert isinstance(message, ClockTick)
                moment = message.at
            if result.stream_time is None or moment > result.stream_time:
                result.stream_time = moment
                self._fire_due(index, cache, result)
        self._ended_at[partition] = result.stream_time
        result.outputs = _last_versions(result.outputs)
        for key, state in cache.items():
            if state is None:
                result.forgotten.append(key)
                continue
            raw = encode_state(state)
            if raw == self._stored.get(key):
                # Unchanged (a deadline that moved nothing): the table has this state and the
                # overview it gives was sent when it was written, so neither is sent again.
                continue
            result.states[key] = raw
            # One overview per household per batch, of its state at the end of the batch.
            result.outputs.append(build_overview(state, self._route_of(key), self._policy))
        self._count(partition, cache, result)
        return result

    def _handle(
        self,
        message: AcceptedEvent,
        cache: dict[str, HouseholdState | None],
        index: WakeupIndex,
        result: BatchResult,
    ) -> None:
        key = message.household_key
        state = self._load(key, cache)
        moment = max(message.event.occurred_at, result.stream_time or message.event.occurred_at)
        if state is not None and self._forgettable(state, moment):
            # Quiet past its period before this event, with no tick in between: forgotten first,
            # as a tick would have done, so the event starts a new household either way.
            state = cache[key] = None
            index.set(key, None)
        outcome = handle_event(
            state,
            message,
            policy=self._policy,
            route=self._route_of(key),
            stream_time=result.stream_time,
            limits=self._limits,
        )
        result.outcomes.append((message.event.source, Counted.of(outcome)))
        if outcome.refused is not None:
            result.refused.append((message, outcome.refused))
        elif not outcome.duplicate:
            self._store(key, outcome, cache, index, result)

    def _fire_due(
        self, index: WakeupIndex, cache: dict[str, HouseholdState | None], result: BatchResult
    ) -> None:
        assert result.stream_time is not None
        for key in index.pop_due(result.stream_time):
            state = self._load(key, cache)
            if state is None:
                continue
            outcome = advance(
                state,
                stream_time=result.stream_time,
                policy=self._policy,
                route=self._route_of(key),
                limits=self._limits,
            )
            result.outcomes.append(("tick", Counted.of(outcome)))
            self._store(key, outcome, cache, index, result)
            if self._forgettable(outcome.state, result.stream_time):
                cache[key] = None
                index.set(key, None)

    def _store(
        self,
        key: str,
        outcome: Outcome,
        cache: dict[str, HouseholdState | None],
        index: WakeupIndex,
        result: BatchResult,
    ) -> None:
        cache[key] = outcome.state
        result.outputs.extend(outcome.effects)
        index.set(key, self._wakeup(outcome.state))

    def _forget_at(self, state: HouseholdState) -> datetime | None:
        days = self._forget_after_days
        return state_forget_at(state, days) if days is not None else None

    def _forgettable(self, state: HouseholdState, stream_time: datetime) -> bool:
        """The retention rule of signals/retention.py at stream time (the table holds no cases)."""
        days = self._forget_after_days
        if days is None or stream_time - state.as_of < timedelta(days=days - 2):
            return False  # well before the boundary (day starts and DST move it by hours): skip the debts
        forget_at = self._forget_at(state)
        return forget_at is not None and stream_time >= forget_at

    def _wakeup(self, state: HouseholdState) -> datetime | None:
        """The next deadline's wakeup, or the household's forget time if that comes first."""
        times = [t for t in (next_wakeup(state, self._policy), self._forget_at(state)) if t is not None]
        return min(times) if times else None

    def _route_of(self, key: str) -> Route:
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._route(key)
        return route

    def _load(self, key: str, cache: dict[str, HouseholdState | None]) -> HouseholdState | None:
        if key in cache:
            return cache[key]  # None once forgotten: a later event starts a new household
        raw = self._states.get(key)
        if raw is None:
            return None
        self._stored[key] = raw
        return decode_state(raw)

    def _index(self, partition: int) -> WakeupIndex:
        index = self._indexes.get(partition)
        if index is None:
            # Rebuilt from the persisted states: after a restart or rebalance the
            # deadlines of this partition are all still there.
            index = self._indexes[partition] = WakeupIndex()
            tracked = 0
            for key, raw in list(self._states.items()):
                if self._partition_of(key) == partition:
                    index.set(key, self._wakeup(decode_state(raw)))
                    tracked += 1
            self._tracked[partition] = tracked
        return index

    def _count(self, partition: int, cache: dict[str, HouseholdState | None], result: BatchResult) -> None:
        """The partition's households after this batch is written: new keys in, forgotten stored keys out."""
        # A key the batch never read from the table was not there (every household it touches is loaded).
        added = sum(1 for key, state in cache.items() if state is not None and key not in self._stored)
        removed = sum(1 for key in result.forgotten if key in self._stored)
        self._tracked[partition] = self._tracked.get(partition, 0) + added - removed
