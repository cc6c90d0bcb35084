"""Sending outputs to their topics and recording what happened in the metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

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
from signals.household import Outcome
from streams.app import Pipeline
from streams.household import Output
from streams.metrics import Metrics

OutputMessage = Annotated[
    Signal | SignalResolved | ReminderIssued | CostsPermitted | CostViolation | HouseholdOverview,
    Field(discriminator="type"),
]
OUTPUT_MESSAGE: TypeAdapter[OutputMessage] = TypeAdapter(OutputMessage)


def encode(model: Any) -> bytes:
    """One JSON encoding for every message: pydantic's, UTF-8."""
    return model.model_dump_json().encode()


async def send_raw(
    pipeline: Pipeline, topic: str, *, key: bytes, value: bytes, partition: int | None = None
) -> Awaitable[Any]:
    """Hand a record straight to the Kafka producer; returns the future of its acknowledgement.

    Faust's topic.send goes through a buffer that flushes every 100 messages;
    the agents await the acknowledgements themselves before acking their batch.
    """
    return await pipeline.app.producer.send(topic, key, value, partition, None, None)


async def send_output(pipeline: Pipeline, output: Output) -> Awaitable[Any]:
    """Enqueue one output on its topic, keyed by household; returns the delivery future."""
    key = output.household_key
    return await send_raw(
        pipeline,
        pipeline.names.output(output),
        key=key.encode(),
        value=encode(output),
        partition=pipeline.partition_of(key),
    )


async def send_intake(pipeline: Pipeline, result: AcceptedEvent | DeadLetter) -> Awaitable[Any]:
    """An accepted event to its household's partition; a rejected one to the dead-letter topic."""
    if isinstance(result, AcceptedEvent):
        key = result.household_key
        return await send_raw(
            pipeline,
            pipeline.names.events_by_household,
            key=key.encode(),
            value=encode(result),
            partition=pipeline.partition_of(key),
        )
    return await send_raw(
        pipeline, pipeline.names.dead_letter, key=result.source.encode(), value=encode(result)
    )


def record_intake(m: Metrics, source: str, result: AcceptedEvent | DeadLetter) -> None:
    """Count a dead letter; accepted events are counted by the household stage (after its dedup)."""
    if isinstance(result, DeadLetter):
        m.events_dead_lettered.labels(source, result.reason_class).inc()
        return
    lag = datetime.now(UTC) - result.event.occurred_at
    m.event_time_lag.labels(source).observe(max(0.0, lag.total_seconds()))


def record_outcomes(m: Metrics, outcomes: Sequence[tuple[str, Outcome]]) -> None:
    """Count duplicates and effects of the household stage."""
    for source, outcome in outcomes:
        if outcome.duplicate:
            m.events_duplicate.labels(source).inc()
        elif source != "tick":
            # consumed = accepted + duplicate + dead-lettered, summed over both stages.
            m.events_accepted.labels(source).inc()
        if outcome.costs_avoided_cents:
            m.costs_avoided.inc(outcome.costs_avoided_cents / 100)
        for effect in outcome.effects:
            _record_effect(m, effect)


def _record_effect(m: Metrics, effect: Any) -> None:
    if isinstance(effect, Signal):
        for kind in effect.kinds:
            m.signals_raised.labels(effect.route.team_id, effect.priority, kind).inc()
        if effect.route.fallback:
            m.signals_unrouted.inc()
    elif isinstance(effect, SignalResolved):
        m.signals_resolved.labels(effect.team_id).inc()
    elif isinstance(effect, ReminderIssued):
        m.reminders_issued.labels(effect.debt.source).inc()
    elif isinstance(effect, CostsPermitted):
        m.costs_permitted.labels(effect.debt.source).inc()
    elif isinstance(effect, CostViolation):
        m.cost_violations.labels(effect.debt.source, effect.kind).inc()
