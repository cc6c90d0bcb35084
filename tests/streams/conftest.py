"""A broker-free stand-in for the household agent, and a generated multi-household history.

`Worker` does what streams/worker/agents.py does around `HouseholdProcessor.process`: one call
per partition batch, the batch's outputs "sent" (collected) before its states and stream
time are written to plain dicts standing in for the Faust tables; `run_in` as the agent does
it, with the fold in a FoldThread.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from connectors.kafka.partitions import partition_of_household
from connectors.routing_files import default_routing
from schemas.contract_v1 import Source
from schemas.internal_v1 import AcceptedEvent, ClockTick, HouseholdMessage
from schemas.outputs_v1 import CostsPermitted, CostViolation, ReminderIssued, Signal, SignalResolved
from signals.policy import Policy
from streams.worker.fold_thread import FoldThread
from streams.worker.household import BatchResult, HouseholdProcessor, Output
from tests.unit.factories import PREMIUM_CENTS, RENT_CENTS, T0, event

PARTITIONS = 4
EFFECT_TYPES = (Signal, SignalResolved, ReminderIssued, CostsPermitted, CostViolation)
ROUTING = default_routing()

Routed = tuple[int, HouseholdMessage]
"""A message on the internal topic with the partition it lands on."""


def partition_of(household_key: str) -> int:
    """Kafka's default partitioner, as `Pipeline.partition_of` with 4 partitions."""
    return partition_of_household(household_key, PARTITIONS)


def effect_id(output: Output) -> str:
    """The deterministic id a sink upserts on."""
    if isinstance(output, Signal):
        return output.signal_id
    if isinstance(output, SignalResolved):
        return output.resolution_id
    if isinstance(output, ReminderIssued):
        return output.reminder_id
    if isinstance(output, CostsPermitted):
        return output.decision_id
    if isinstance(output, CostViolation):
        return output.violation_id
    raise TypeError(f"{type(output).__name__} is not an effect")


def effects(outputs: Sequence[Output]) -> list[Output]:
    """The effects among the outputs (no household-overview snapshots), in order."""
    return [o for o in outputs if isinstance(o, EFFECT_TYPES)]


def as_json(outputs: Sequence[Output]) -> list[str]:
    """Outputs as the bytes-to-be that go on the topics."""
    return [o.model_dump_json() for o in outputs]


def effects_by_partition(outputs: Sequence[Output]) -> dict[int, list[str]]:
    """Each partition's effects as JSON, in emission order (order across partitions is free)."""
    grouped: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    for output in effects(outputs):
        grouped[partition_of(output.household_key)].append(output.model_dump_json())
    return grouped


@dataclass
class Worker:
    """One household-agent process: a processor over the (shared, persisted) tables."""

    states: dict[str, bytes] = field(default_factory=dict)
    stream_times: dict[int, datetime | None] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy.default)
    forget_after_days: int | None = None
    processor: HouseholdProcessor = field(init=False)

    def __post_init__(self) -> None:
        self.processor = HouseholdProcessor(
            states=self.states,
            policy=self.policy,
            route=ROUTING.route,
            partition_of=partition_of,
            forget_after_days=self.forget_after_days,
        )

    def restarted(self) -> Worker:
        """A new process after a crash: same tables, fresh in-memory index, nothing sent yet."""
        return replace(self, outputs=[])

    def process(self, partition: int, messages: Sequence[HouseholdMessage]) -> BatchResult:
        """Fold one batch from the persisted stream time; writes nothing."""
        return self.processor.process(partition, messages, self.stream_times.get(partition))

    def commit(self, partition: int, result: BatchResult) -> None:
        """After the broker acknowledged the outputs: write states and stream time."""
        self.states.update(result.states)
        for key in result.forgotten:
            self.states.pop(key, None)
        if result.stream_time is not None:
            self.stream_times[partition] = result.stream_time

    def run(self, partition: int, messages: Sequence[HouseholdMessage]) -> BatchResult:
        """One batch as the agent does it: process, send, then write."""
        result = self.process(partition, messages)
        self.outputs.extend(result.outputs)
        self.commit(partition, result)
        return result

    async def run_in(
        self, fold: FoldThread, partition: int, messages: Sequence[HouseholdMessage]
    ) -> BatchResult:
        """One batch as the agent does it: the fold in `fold`'s thread, send (an await), then write."""
        with self.processor.until_written([partition]):
            result = await fold.run(self.process, partition, messages)
            await asyncio.sleep(0)  # the broker acknowledging the outputs
            self.outputs.extend(result.outputs)
            self.commit(partition, result)
        return result

    def feed(self, routed: Sequence[Routed], batch_size: int | None = None) -> None:
        """Consume the topic: each partition in batches of `batch_size` (None: all at once)."""
        for partition, batch in batches(routed, batch_size):
            self.run(partition, batch)


def batches(routed: Sequence[Routed], batch_size: int | None) -> Iterator[tuple[int, list[HouseholdMessage]]]:
    """Per-partition batches in round-robin order over the partitions, as a consumer would fetch."""
    queues: dict[int, list[HouseholdMessage]] = {p: [] for p in range(PARTITIONS)}
    for partition, message in routed:
        queues[partition].append(message)
    size = batch_size or max(1, *(len(q) for q in queues.values()))
    for start in range(0, max(len(q) for q in queues.values()), size):
        for partition in range(PARTITIONS):
            if chunk := queues[partition][start : start + size]:
                yield partition, chunk


# -- messages ---------------------------------------------------------------------------------------


def midnight(days: int) -> datetime:
    """00:00 UTC, `days` after T0's date."""
    return datetime.combine(T0.date() + timedelta(days=days), time(), tzinfo=T0.tzinfo)


def tick(moment: datetime) -> ClockTick:
    """A clock tick carrying stream time `moment`."""
    return ClockTick(at=moment)


def ticks_everywhere(moment: datetime) -> list[Routed]:
    """The clock topic's tick, forwarded into every household partition."""
    return [(p, tick(moment)) for p in range(PARTITIONS)]


def creditor_event(
    kind: str, *, household: str, source: Source, debt_ref: str, occurred_at: datetime, **fields: Any
) -> AcceptedEvent:
    """An accepted event whose address matches its household key (e.g. '1011AB-1')."""
    postcode, number = household.split("-")
    address = {"postcode": postcode, "house_number": int(number), "street": "Teststraat", "city": "Amsterdam"}
    return event(
        kind,
        household_key=household,
        source=source,
        debt_ref=debt_ref,
        occurred_at=occurred_at,
        address=address,
        **fields,
    )


def routed(message: AcceptedEvent) -> Routed:
    """The event on its household's partition."""
    return partition_of(message.household_key), message


# -- a generated history ------------------------------------------------------------------------------

HOUSEHOLDS = ("1011AB-1", "1012EF-1", "1011AB-4", "1011CD-1", "1091GH-2", "1011AB-2", "1102LM-3", "1092JK-4")
SOURCES: tuple[Source, ...] = ("housing", "energy", "water", "health", "cjib")
HISTORY_DAYS = 90


@dataclass
class _Story:
    """One debt's events as (arrival time, event) while it is being written."""

    rng: random.Random
    household: str
    source: Source
    debt_ref: str
    principal: int
    arrivals: list[tuple[datetime, AcceptedEvent]] = field(default_factory=list)

    def add(self, kind: str, moment: datetime, **fields: Any) -> None:
        number = len(self.arrivals) + 1
        accepted = creditor_event(
            kind,
            household=self.household,
            source=self.source,
            debt_ref=self.debt_ref,
            occurred_at=moment,
            event_id=f"{self.household}-{self.debt_ref}-{number}",
            amount_cents=self.principal,
            **fields,
        )
        # Most events arrive at once; some days late, so they land behind later events and ticks.
        arrival = moment + timedelta(days=self.rng.choice((0, 0, 0, 0, 0.5, 2, 5)))
        self.arrivals.append((arrival, accepted))
        if self.rng.random() < 0.1:  # at-least-once delivery: the same event again, later
            self.arrivals.append((arrival + timedelta(hours=30), accepted))


def _terms(story: _Story, moment: datetime) -> dict[str, Any]:
    """Oldest unpaid due date (some already weeks overdue) and the monthly rent or premium."""
    due: date = moment.date() - timedelta(days=story.rng.choice((0, 0, 10, 25, 40)))
    monthly = {"housing": RENT_CENTS, "health": PREMIUM_CENTS}.get(story.source)
    return {"due_date": due, "monthly_amount_cents": monthly}


def _next_step(story: _Story, moment: datetime) -> bool:
    """Add one follow-up event at `moment`; False when the debt is closed."""
    rng = story.rng
    kind = rng.choice(("reminder", "costs", "payment", "payment", "update", "pause", "close", "supply"))
    if kind == "reminder" and story.source != "cjib":
        story.add("reminder.sent", moment, reminder_kind="free", term_days=rng.choice((7, 14, 14)))
    elif kind == "costs":
        story.add("costs.charged", moment, costs_cents=rng.choice((4_000, 15_000, 90_000)))
    elif kind == "payment":
        paid = rng.choice((story.principal, story.principal // 2 or story.principal))
        story.principal -= paid
        story.add("payment.received", moment, paid_cents=paid)
        return story.principal > 0
    elif kind == "update":
        story.principal += story.principal // 2
        story.add("debt.updated", moment, **_terms(story, moment))
    elif kind == "pause":
        story.add("collection.paused", moment, until=moment.date() + timedelta(days=rng.randint(3, 20)))
    elif kind == "close":
        story.principal = 0
        story.add("debt.closed", moment, reason=rng.choice(("paid", "arrangement", "written_off")))
        return False
    elif kind == "supply" and story.source == "energy":
        story.add("supply.ending", moment, supply_end_date=moment.date() + timedelta(days=30))
    return True


def _debt_arrivals(rng: random.Random, household: str, debt_ref: str) -> list[tuple[datetime, AcceptedEvent]]:
    source = rng.choice(SOURCES)
    story = _Story(rng, household, source, debt_ref, principal=rng.choice((12_000, 48_000, 260_000)))
    if source in ("housing", "health"):
        story.principal = (RENT_CENTS if source == "housing" else PREMIUM_CENTS) * rng.choice((1, 2, 3))
    moment = T0 + timedelta(days=rng.uniform(0, 25))
    extra = {"fine_kind": "wahv"} if source == "cjib" else {}
    story.add("debt.opened", moment, **_terms(story, moment), **extra)
    for _ in range(rng.randint(1, 6)):
        moment += timedelta(days=rng.uniform(1, 12), hours=rng.randint(0, 23))
        if not _next_step(story, moment):
            break
    return story.arrivals


def generated_history(seed: int = 2) -> list[Routed]:
    """Several households with several creditors each, late and repeated events, daily ticks.

    A pure function of the seed (explicit event ids), so two calls give equal messages.
    """
    rng = random.Random(seed)
    arrivals: list[tuple[datetime, int, list[Routed]]] = []
    for household in HOUSEHOLDS:
        for debt_number in range(rng.randint(2, 4)):
            for arrival, accepted in _debt_arrivals(rng, household, f"D{debt_number}"):
                arrivals.append((arrival, len(arrivals), [routed(accepted)]))
    for days in range(HISTORY_DAYS):
        arrivals.append((midnight(days), len(arrivals), ticks_everywhere(midnight(days))))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [message for _, _, messages in arrivals for message in messages]
