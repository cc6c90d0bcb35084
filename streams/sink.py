"""The read-model sink: output topics -> SQL (and signals -> cases), acknowledged only after the write."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import faust

from connectors.readmodel import ReadModel, is_transient, write_with_retry
from connectors.readmodel.case_writer import write_cases_with_retry
from connectors.readmodel.retry import backoff_s
from schemas.outputs_v1 import Signal
from streams.app import Pipeline
from streams.batching import crash_on_error
from streams.outputs import OUTPUT_MESSAGE

log = logging.getLogger(__name__)

# Enough for a racing replica to finish the migration (the backoff sums to ~8 s by then).
MIGRATE_ATTEMPTS = 5


def register_sink(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the sink agent; the database is opened and migrated when the worker starts."""
    s, m = pipeline.settings, pipeline.metrics
    topic = app.topic(
        *pipeline.names.all_outputs, partitions=s.partitions, key_serializer="raw", value_serializer="raw"
    )

    @app.task
    async def open_read_model() -> None:
        read_model = await ReadModel.open(s.effective_database_url)
        await _migrate(read_model)
        pipeline.state["read_model"] = read_model
        _opened(pipeline).set()
        m.sink_up.set(1)

    @app.timer(5.0)
    async def ping_read_model() -> None:
        read_model = pipeline.state.get("read_model")
        if read_model is not None:
            m.sink_up.set(1 if await read_model.ping() else 0)

    def on_retry(attempt: int, exc: BaseException) -> None:
        m.sink_retries.inc()
        m.sink_errors.inc()
        m.sink_up.set(0)

    async def sink(stream: faust.StreamT[Any]) -> None:
        async for batch in stream.take_events(  # type: ignore[attr-defined]  # missing from StreamT stubs
            s.batch_max_events, s.batch_within_s
        ):
            read_model = await _ready(pipeline)
            started = time.perf_counter()
            outputs = [OUTPUT_MESSAGE.validate_json(e.value) for e in batch]
            # Retries forever with backoff: the batch is not acknowledged (so its
            # offsets are not committed) until the database has it.
            await write_with_retry(read_model, outputs, on_retry=on_retry)
            # The teams' cases too: this agent is the signals topic's only reader (see
            # streams/case_agents.py for why a topic never has two).
            if signals := [o for o in outputs if isinstance(o, Signal)]:
                await write_cases_with_retry(
                    read_model, signals, period_months=s.case_period_months, on_retry=on_retry
                )
            m.sink_up.set(1)
            m.sink_batch_latency.observe(time.perf_counter() - started)
            for output in outputs:
                m.sink_rows.labels(output.type).inc()

    app.agent(topic, name="sink")(crash_on_error("sink", sink))


async def _migrate(read_model: ReadModel, rng: random.Random | None = None) -> None:
    """Migrate at start-up, waiting out a database that is down and a migration racing ours.

    A worker must start (and consume; the sink waits) while the database is unreachable:
    transient errors are retried for as long as that lasts. Replicas started together on a
    fresh PostgreSQL migrate at once, and the loser's CREATE fails (duplicate type or
    relation); after a few attempts the schema is at head and the migration does nothing. Any
    other error is a bug and still stops the worker, after MIGRATE_ATTEMPTS.
    """
    jitter = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            await read_model.migrate()
            return
        except Exception as exc:
            if attempt >= MIGRATE_ATTEMPTS and not is_transient(exc):
                raise
            log.warning("read model migration failed (attempt %d), retrying: %r", attempt, exc)
            await asyncio.sleep(backoff_s(attempt, 0.5, 30.0, jitter))


def _opened(pipeline: Pipeline) -> asyncio.Event:
    return pipeline.state.setdefault("read_model_opened", asyncio.Event())


async def _ready(pipeline: Pipeline) -> ReadModel:
    await _opened(pipeline).wait()
    return pipeline.state["read_model"]
