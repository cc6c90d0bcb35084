"""The read-model sink: output topics -> SQL, in batches, acknowledged only after the write."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust

from connectors.readmodel import ReadModel, write_with_retry
from streams.app import Pipeline
from streams.batching import crash_on_error
from streams.outputs import OUTPUT_MESSAGE


def register_sink(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the sink agent; the database is opened and migrated when the worker starts."""
    s, m = pipeline.settings, pipeline.metrics
    topic = app.topic(
        *pipeline.names.all_outputs, partitions=s.partitions, key_serializer="raw", value_serializer="raw"
    )

    @app.task
    async def open_read_model() -> None:
        read_model = await ReadModel.open(s.effective_database_url)
        await read_model.migrate()
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
            m.sink_up.set(1)
            m.sink_batch_latency.observe(time.perf_counter() - started)
            for output in outputs:
                m.sink_rows.labels(output.type).inc()

    app.agent(topic, name="sink")(crash_on_error("sink", sink))


def _opened(pipeline: Pipeline) -> asyncio.Event:
    return pipeline.state.setdefault("read_model_opened", asyncio.Event())


async def _ready(pipeline: Pipeline) -> ReadModel:
    await _opened(pipeline).wait()
    return pipeline.state["read_model"]
