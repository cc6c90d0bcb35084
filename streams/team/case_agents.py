"""The agent of the team workflow: the case sink (case events -> SQL, then creditor feedback).

A case's one outcome is decided here, where it is stored: the first outcome event of the
case in its partition's order is stored (a conditional insert), and only that one gives
feedback to the creditors; a replay of the topic decides the same.

It acknowledges a batch only after its effects are durable (rows committed, then
feedback acknowledged by the broker), so a crash re-processes it; rows and feedback
ids are deterministic, so that changes nothing downstream. Signals reach the case
tables through the read-model sink (streams/worker/sink.py), which already reads them:
every topic has exactly one agent, because Faust's stop and rebalance wait forever
for a message of which it dropped the copy meant for a second agent (README, "Agents").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import faust

from connectors.readmodel.case_rows import CaseItem
from connectors.readmodel.case_writer import write_cases_with_retry
from schemas.cases_v1 import CASE_EVENT, CreditorFeedback, OutcomeRecorded
from schemas.outputs_v1 import Signal
from signals.cases import conflicting_outcomes, decided_feedback
from streams.worker.batching import batches, crash_on_error
from streams.worker.pipeline import Pipeline

__all__ = ["register_case_agents", "signals_topic"]

RAW: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}


def signals_topic(pipeline: Pipeline) -> str:
    """The name of the signals output topic."""
    return pipeline.names.signals


def register_case_agents(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the case sink, the one agent of the case-events topic."""
    s, names = pipeline.settings, pipeline.names
    events = app.topic(names.case_events, partitions=s.partitions, **RAW)
    app.agent(events, name="case_sink")(crash_on_error("case_sink", _case_sink(pipeline)))


def decode(topic: str, value: bytes, signals: str) -> CaseItem:
    """A signal from the signals topic, else a case event."""
    if topic == signals:
        return Signal.model_validate_json(value)
    return CASE_EVENT.validate_json(value)


def _case_sink(pipeline: Pipeline) -> Any:
    s, m = pipeline.settings, pipeline.metrics
    signals = signals_topic(pipeline)

    def on_retry(attempt: int, exc: BaseException) -> None:
        m.sink_retries.inc()
        m.sink_errors.inc()

    async def case_sink(stream: faust.StreamT[Any]) -> None:
        async for batch in batches(stream, s.batch_max_events, s.batch_within_s):
            read_model = await pipeline.read_model.ready()
            items = [decode(e.message.topic, e.value, signals) for e in batch]
            # Not acknowledged (offsets not committed) until the database has the batch.
            stored = await write_cases_with_retry(
                read_model, items, period_months=s.case_period_months, on_retry=on_retry
            )
            # Then the creditors' feedback, acknowledged by the broker: only of the outcome each
            # case has stored (the first one recorded); a losing outcome gives none.
            outcomes = [item for item in items if isinstance(item, OutcomeRecorded)]
            m.conflicts.labels("outcome").inc(conflicting_outcomes(stored, outcomes))
            pending: list[Awaitable[Any]] = [
                await _send(pipeline, fb) for fb in decided_feedback(stored, outcomes)
            ]
            await asyncio.gather(*pending)

    return case_sink


async def _send(pipeline: Pipeline, fb: CreditorFeedback) -> Awaitable[Any]:
    """To its source's feedback topic, keyed by creditor, so each creditor reads its own in order."""
    topic = pipeline.topic(pipeline.names.creditor_feedback_for(fb.debt.source))
    key = f"{fb.debt.source}:{fb.debt.creditor_id}".encode()
    future: Awaitable[Any] = await topic.send(key=key, value=fb.model_dump_json().encode())
    return future
