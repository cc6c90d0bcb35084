"""One replay for every fault test: the demo history plus a burst of load, fed step by step.

The steps go through the OrderedFeeder in a fixed order, so an uninterrupted run is the
reference: a run with kill -9, a rebalance, a database outage or a SIGTERM must end with
the same effect ids on the output topics and the same read-model rows. Faults are hooks
that replace how one step is played (play it, then kill the worker, ...).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import orjson

from connectors.kafka.broker import EmbeddedBroker
from synthetic.demo_feed import days, history
from tests.integration.harness import PARTITIONS, SOURCES, OrderedFeeder, Worker, collect, create_topics
from tests.integration.runs import TAIL_DAYS, read_all

# A killed member leaves the group only when its session times out; 3 s (the least the
# 1 s heartbeat allows) shortens every takeover and restart. Production keeps its 10 s.
FAST_SESSION = {"VROEGSIGNAAL_SESSION_TIMEOUT_S": "3"}
BURST_AFTER_DAY = 5  # the burst follows the tick that closes the sixth day
BURST_SIZE = 600
# The primary id of each effect type: what a sink upserts on.
EFFECT_ID = {
    "signal": "signal_id",
    "signal_resolved": "resolution_id",
    "reminder_issued": "reminder_id",
    "costs_permitted": "decision_id",
    "cost_violation": "violation_id",
}

Effects = Counter[tuple[str, str]]
Rows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Step:
    """One move of the replay: inbound (source, value) messages, or the clock tick closing a day."""

    messages: tuple[tuple[str, bytes], ...] = ()
    tick_at: datetime | None = None

    @property
    def records(self) -> int:
        """Records ingest writes for this step when nothing is replayed (one per message or partition)."""
        return PARTITIONS if self.tick_at is not None else len(self.messages)


@dataclass(frozen=True)
class Outcome:
    """What a run left behind: effects on the output topics (with multiplicity) and the rows."""

    effects: Effects
    rows: Rows


StepRunner = Callable[[OrderedFeeder, Step], Awaitable[None]]


def steps(burst: int = BURST_SIZE) -> list[Step]:
    """The demo history day by day, each day closed by a tick, and `burst` load events after one tick."""
    per_day = dict(days(history()))
    first = day = min(per_day)
    out: list[Step] = []
    while day <= max(per_day) + timedelta(days=TAIL_DAYS):
        out += [Step(messages=((e.source, orjson.dumps(e.payload)),)) for e in per_day.get(day, [])]
        tick_at = datetime.combine(day, clock(23, 59), tzinfo=UTC)
        out.append(Step(tick_at=tick_at))
        if burst and (day - first).days == BURST_AFTER_DAY:
            out.append(Step(messages=tuple(load_messages(burst, tick_at))))
        day += timedelta(days=1)
    return out


def load_messages(n: int, at: datetime) -> list[tuple[str, bytes]]:
    """`n` arrears, each of its own household outside the routing sample, all at `at`.

    One household per event and one event time equal to the partitions' stream time (the
    tick just before): the outcome of each event depends on nothing else, so the order in
    which ingest interleaves them cannot change the outputs.
    """
    extra: dict[str, dict[str, object]] = {
        "housing": {"monthly_amount_cents": 5_000},
        "health": {"monthly_amount_cents": 5_000},
        "cjib": {"fine_kind": "wahv"},
    }
    messages = []
    for i in range(n):
        source = SOURCES[i % len(SOURCES)]
        payload = {
            "event_id": f"load-{i}",
            "type": "debt.opened",
            "source": source,
            "creditor_id": f"load-{source}",
            "creditor_name": f"Load {source}",
            "debt_ref": f"L-{i}",
            "occurred_at": at.isoformat(),
            "debtor": {"name": f"Load {i}"},
            "address": {"postcode": f"{9100 + i // 1000}LB", "house_number": 1 + i % 1000},
            "amount_cents": 12_000,
            "due_date": (at.date() - timedelta(days=40)).isoformat(),
            **extra.get(source, {}),
        }
        messages.append((source, orjson.dumps(payload)))
    return messages


def expected_records(played: Sequence[Step]) -> int:
    """Records on internal + dead-letter topics after these steps, when no input was read twice."""
    return sum(step.records for step in played)


async def play(feeder: OrderedFeeder, step: Step) -> None:
    """The default way to play a step: one event, one tick, or a burst."""
    if step.tick_at is not None:
        await feeder.tick(step.tick_at)
    elif len(step.messages) == 1:
        await feeder.event(*step.messages[0])
    else:
        await feeder.burst(step.messages)


def then(action: Callable[[OrderedFeeder], Awaitable[None]]) -> StepRunner:
    """A step runner that plays the step and then does `action` (a fault, a check)."""

    async def runner(feeder: OrderedFeeder, step: Step) -> None:
        await play(feeder, step)
        await action(feeder)

    return runner


async def feed(
    broker: EmbeddedBroker, worker: Worker, all_steps: Sequence[Step], at: Mapping[int, StepRunner] = {}
) -> None:
    """Play every step in order; step i is played by `at[i]` when given."""
    async with OrderedFeeder(broker, worker.names) as feeder:
        for index, step in enumerate(all_steps):
            await at.get(index, play)(feeder, step)


def new_worker(broker: EmbeddedBroker, data_dir: Path, database_url: str, **env: str) -> Worker:
    """A worker with its own topics and consumer group (its topics are created here)."""
    token = uuid.uuid4().hex[:8]
    worker = Worker(
        broker=broker,
        prefix=f"f{token}.",
        data_dir=data_dir,
        database_url=database_url,
        app_id=f"f{token}",
        extra_env=dict(env),
    )
    asyncio.run(create_topics(broker, worker.names))
    return worker


def twin(worker: Worker, data_dir: Path) -> Worker:
    """A second worker of the same app (consumer group, topics, read model), its own dir and port."""
    return Worker(
        broker=worker.broker,
        prefix=worker.prefix,
        data_dir=data_dir,
        database_url=worker.database_url,
        app_id=worker.app_id,
        extra_env=dict(worker.extra_env),
    )


def reference_outcome(broker: EmbeddedBroker, data_dir: Path) -> Outcome:
    """The uninterrupted run (SQLite): effects once the output topics are quiet, rows once settled."""
    worker = new_worker(broker, data_dir, f"sqlite:///{data_dir / 'reference.db'}")
    worker.start()
    try:
        worker.wait_ready()
        asyncio.run(feed(broker, worker, steps()))
        effects = read_effects(broker, worker, until=_quiet_after_last_gate())
        rows = settled_rows(worker.database_url, signals=_count(effects, "signal"))
    finally:
        worker.stop()
    return Outcome(effects, rows)


def read_effects(
    broker: EmbeddedBroker, worker: Worker, *, until: Callable[[list[Any]], bool], timeout_s: float = 60
) -> Effects:
    """Effects on the output topics, read from the beginning until `until(records)` holds (or the timeout)."""
    return effects_of(
        asyncio.run(collect(broker, worker.names.all_outputs, until=until, timeout_s=timeout_s))
    )


def effects_of(records: Iterable[Any]) -> Effects:
    """(type, id) of every effect record, counted; overviews are snapshots, compared as rows."""
    found: Effects = Counter()
    for record in records:
        message = orjson.loads(record.value)
        field = EFFECT_ID.get(message["type"])
        if field is not None:
            found[(message["type"], message[field])] += 1
    return found


def reaching(reference: Effects) -> Callable[[list[Any]], bool]:
    """Stop reading once every reference effect was seen (an extra one then shows in the compare)."""
    wanted = set(reference)
    return lambda records: wanted <= set(effects_of(records))


def _quiet_after_last_gate(quiet_s: float = 3.0) -> Callable[[list[Any]], bool]:
    """The last deadline of the history has fired and nothing more arrived for `quiet_s`."""
    state = {"size": -1, "since": time.monotonic()}

    def until(records: list[Any]) -> bool:
        if len(records) != state["size"]:
            state.update(size=len(records), since=time.monotonic())
        # The water debt charged too early gets its gate last (2026-09-22 + grace).
        last_gate = any(b'"costs_permitted"' in r.value and b"W-3301" in r.value for r in records)
        return last_gate and time.monotonic() - state["since"] > quiet_s

    return until


def _count(effects: Effects, kind: str) -> int:
    return sum(1 for k, _ in effects if k == kind)


def settled_rows(database_url: str, *, signals: int, timeout_s: float = 60) -> Rows:
    """Rows once the sink caught up: every signal is there and two reads 2 s apart agree."""
    deadline = time.monotonic() + timeout_s
    previous: Rows | None = None
    while time.monotonic() < deadline:
        rows = read_all(database_url)
        if len(rows.get("signals", [])) >= signals and rows == previous:
            return rows
        previous = rows
        time.sleep(2)
    raise AssertionError(f"read model did not settle within {timeout_s}s")


def rows_when_equal(database_url: str, expected: Rows, timeout_s: float = 60) -> Rows:
    """Poll the read model until it equals `expected`; return the last read (the caller compares)."""
    deadline = time.monotonic() + timeout_s
    rows = read_all(database_url)
    while rows != expected and time.monotonic() < deadline:
        time.sleep(1)
        rows = read_all(database_url)
    return rows


def assert_same_effects(got: Effects, expected: Effects, what: str) -> None:
    """The same effect ids (multiplicity aside: at-least-once may repeat one), kinds counted on failure."""
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    explained = (
        f"{what}: {len(missing)} effects missing {dict(Counter(k for k, _ in missing))}, "
        f"{len(extra)} extra {dict(Counter(k for k, _ in extra))}; "
        f"e.g. missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]}"
    )
    assert not missing, explained
    assert not extra, explained


def assert_same_rows(got: Rows, expected: Rows, what: str) -> None:
    """Table by table, so a failure names the table that differs."""
    assert got.keys() == expected.keys()
    for table in expected:
        missing = set(expected[table]) - set(got[table])
        extra = set(got[table]) - set(expected[table])
        assert got[table] == expected[table], (
            f"{what}: table {table} differs: {len(missing)} rows missing, {len(extra)} extra; "
            f"e.g. missing {sorted(missing, key=repr)[:2]}, extra {sorted(extra, key=repr)[:2]}"
        )
