"""Sending outputs to their topics and recording what happened in the metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from connectors.kafka.partitions import partition_of_key
from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import (
    CostsPermitted,
    CostViolation,
    HouseholdOverview,
    ReminderIssued,
    Signal,
    SignalResolved,
)
from streams.errors import StreamsError
from streams.faust_fixes.producer import kafka_producer
from streams.worker.household import Counted, Output
from streams.worker.metrics import Metrics
from streams.worker.pipeline import Pipeline

OutputMessage = Annotated[
    Signal | SignalResolved | ReminderIssued | CostsPermitted | CostViolation | HouseholdOverview,
    Field(discriminator="type"),
]
OUTPUT_MESSAGE: TypeAdapter[OutputMessage] = TypeAdapter(OutputMessage)


def encode(model: Any) -> bytes:
    """One JSON encoding for every message: pydantic's, UTF-8."""
    return model.model_dump_json().encode()


class OutboxError(StreamsError, RuntimeError):
    """A record could not be queued for sending (the agent exits and re-processes its batch)."""


class Outbox:
    """One batch's records, sent per topic partition as one Kafka record batch each.

    A record sent on its own costs the Kafka client a future, a partitioner call and an
    accumulator lookup; Faust's `producer.send` adds its own sensors on top. Appending to
    a record batch per partition and sending that costs a fraction (BROKER-NOTES.md).
    Records keep their order within a partition, which is all Kafka promises anyway.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._records: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}

    def __len__(self) -> int:
        return sum(len(records) for records in self._records.values())

    def add(self, topic: str, *, key: bytes, value: bytes, partition: int | None = None) -> None:
        """Queue a record; without a partition it goes where Kafka's default partitioner puts its key."""
        if partition is None:
            partition = partition_of_key(key, self._pipeline.settings.partitions)
        self._records.setdefault((topic, partition), []).append((key, value))

    def add_output(self, output: Output) -> None:
        """An output to its topic, keyed by household, on the household's partition."""
        key = output.household_key
        self.add(
            self._pipeline.names.output(output),
            key=key.encode(),
            value=encode(output),
            partition=self._pipeline.partition_of(key),
        )

    def add_intake(self, result: AcceptedEvent | DeadLetter) -> None:
        """An accepted event to its household's partition; a rejected one to its source's dead-letter topic."""
        names = self._pipeline.names
        if isinstance(result, AcceptedEvent):
            key = result.household_key
            partition = self._pipeline.partition_of(key)
            self.add(names.events_by_household, key=key.encode(), value=encode(result), partition=partition)
        else:
            self.add(names.dead_letter_for(result.source), key=result.source.encode(), value=encode(result))

    async def send(self) -> None:
        """Send everything queued and wait until the broker has acknowledged all of it."""
        # Faust's own Kafka producer (its `send` wrapper has no batch API): the same
        # connection, started before and stopped after the agents.
        producer = kafka_producer(self._pipeline.app)
        delivered = []
        for (topic, partition), records in self._records.items():
            batch = producer.create_batch()
            for key, value in records:
                # A full batch refuses the record (an empty one takes any size): send, start anew.
                if batch.append(key=key, value=value, timestamp=None) is None:
                    delivered.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        raise OutboxError(f"a record of {len(value)} bytes does not fit a batch for {topic}")
            delivered.append(await producer.send_batch(batch, topic, partition=partition))
        self._records.clear()
        await asyncio.gather(*delivered)


def record_intake(m: Metrics, source: str, result: AcceptedEvent | DeadLetter) -> None:
    """Count a dead letter; accepted events are counted by the household stage (after its dedup)."""
    if isinstance(result, DeadLetter):
        m.events_dead_lettered.labels(source, result.reason_class).inc()
        return
    lag = datetime.now(UTC) - result.event.occurred_at
    m.event_time_lag.labels(source).observe(max(0.0, lag.total_seconds()))


def record_counts(m: Metrics, *, consumed: Mapping[str, int], duplicates: Mapping[str, int]) -> None:
    """Count what the ingest stage consumed and dropped as recently seen, per source."""
    for source, n in consumed.items():
        m.events_consumed.labels(source).inc(n)
    for source, n in duplicates.items():
        m.events_duplicate.labels(source).inc(n)


def record_outcomes(m: Metrics, outcomes: Sequence[tuple[str, Counted]]) -> None:
    """Count duplicates and effects of the household stage.

    Summed per label set first: a `labels()` lookup per event cost ~2% of the household stage.
    """
    counts: Counter[tuple[Any, tuple[str, ...]]] = Counter()
    avoided_cents = 0
    for source, outcome in outcomes:
        if outcome.withheld_signals:
            counts[m.household_limit, (source, "signals_per_case")] += outcome.withheld_signals
        if outcome.duplicate:
            counts[m.events_duplicate, (source,)] += 1
        elif outcome.refused is not None:
            continue  # counted as dead-lettered by the agent
        elif source != "tick":
            # consumed = accepted + duplicate + dead-lettered, summed over both stages.
            counts[m.events_accepted, (source,)] += 1
        avoided_cents += outcome.costs_avoided_cents
        for effect in outcome.effects:
            if isinstance(effect, Signal) and effect.signal_id in outcome.updated_signals:
                continue  # a coalesced update of a signal already counted as raised
            _count_effect(m, effect, counts)
    for (metric, labels), n in counts.items():
        (metric.labels(*labels) if labels else metric).inc(n)
    if avoided_cents:
        m.costs_avoided.inc(avoided_cents / 100)


def _count_effect(m: Metrics, effect: Any, counts: Counter[tuple[Any, tuple[str, ...]]]) -> None:
    if isinstance(effect, Signal):
        for kind in effect.kinds:
            counts[m.signals_raised, (effect.route.team_id, effect.priority, kind)] += 1
        if effect.route.fallback:
            counts[m.signals_unrouted, ()] += 1
    elif isinstance(effect, SignalResolved):
        counts[m.signals_resolved, (effect.team_id,)] += 1
    elif isinstance(effect, ReminderIssued):
        counts[m.reminders_issued, (effect.debt.source,)] += 1
    elif isinstance(effect, CostsPermitted):
        counts[m.costs_permitted, (effect.debt.source,)] += 1
    elif isinstance(effect, CostViolation):
        counts[m.cost_violations, (effect.debt.source, effect.kind, effect.basis)] += 1
