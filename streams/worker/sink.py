"""The read-model sink: output topics -> SQL (and signals -> cases), committed only after the write."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping

import faust
from aiokafka import TopicPartition
from prometheus_client import Gauge

from connectors.kafka.admin import bootstrap_of
from connectors.kafka.batches import BatchConsumer, ConsumerOptions
from connectors.readmodel import ReadModel, is_transient, write_with_retry
from connectors.readmodel.case_writer import write_cases_with_retry
from connectors.readmodel.retry import backoff_s
from schemas.outputs_v1 import Signal
from streams.worker.batching import exit_hard
from streams.worker.lag import remove_series
from streams.worker.metrics import Metrics
from streams.worker.outputs import OUTPUT_MESSAGE
from streams.worker.pipeline import Pipeline
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames
from streams.worker.web_security import serve_metrics

log = logging.getLogger(__name__)

# Enough for a racing replica to finish the migration (the backoff sums to ~8 s by then).
MIGRATE_ATTEMPTS = 5


def register_sink(app: faust.App, pipeline: Pipeline) -> None:
    """Open the read model when the worker starts; run the sink in the worker unless told not to."""
    s, m = pipeline.settings, pipeline.metrics

    @app.task
    async def open_read_model() -> None:
        read_model = await ReadModel.open(
            s.effective_database_url,
            read_timeout_s=s.read_timeout_s,
            pool_size=s.db_pool_size,
            max_overflow=s.db_max_overflow,
        )
        await _migrate(read_model)
        pipeline.read_model.open_with(read_model)
        m.record_sink_up(True)
        # The readiness probe (streams/worker/readiness.py) pings it from now on.

    if not s.sink_in_worker:
        return  # `vroegsignaal sink` runs it as a process of its own

    @app.task
    async def sink() -> None:
        await _consume(
            await pipeline.read_model.ready(), sink_consumer(s, pipeline.names), settings=s, metrics=m
        )


def sink_consumer(settings: Settings, names: TopicNames) -> BatchConsumer:
    """The sink's consumer of every output topic, in its own group (`sink_group`), not a Faust agent.

    A Faust agent costs two tasks and a queue hop per record, more than the SQL of the
    record (README "Performance"); a sink keeps no table, so it needs none of that.
    """
    return BatchConsumer(
        bootstrap_of(settings.broker_url),
        settings.sink_group,
        names.all_outputs,
        ConsumerOptions(
            max_records=settings.batch_max_events,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            session_timeout_s=settings.session_timeout_s,
            heartbeat_interval_s=settings.heartbeat_interval_s,
        ),
        security=settings.kafka_security.client,
    )


async def run_sink(
    read_model: ReadModel, consumer: BatchConsumer, *, settings: Settings, metrics: Metrics
) -> None:
    """Forever: a batch of outputs -> SQL (and signals -> cases), then commit its offsets."""
    m = metrics
    lag = SinkLag(m.consumer_lag)

    def on_retry(attempt: int, exc: BaseException) -> None:
        m.sink_retries.inc()
        m.sink_errors.inc()
        m.record_sink_up(False)

    while True:
        batch = await consumer.next_batch(timeout_s=1.0)
        if batch:
            started = time.perf_counter()
            outputs = [OUTPUT_MESSAGE.validate_json(r.value) for r in batch]
            # Retries forever with backoff: the batch is not committed until the database has it.
            await write_with_retry(read_model, outputs, on_retry=on_retry)
            # The teams' cases too: this sink is the signals topic's only reader.
            if signals := [o for o in outputs if isinstance(o, Signal)]:
                await write_cases_with_retry(
                    read_model, signals, period_months=settings.case_period_months, on_retry=on_retry
                )
            await consumer.commit(batch)
            m.record_sink_up(True)
            m.sink_batch_latency.observe(time.perf_counter() - started)
            for output in outputs:
                m.sink_rows.labels(output.type).inc()
        lag.record(await consumer.lag())


async def run_standalone(settings: Settings) -> None:
    """`vroegsignaal sink`: the sink as a process of its own, with /metrics on web_bind:web_port.

    For a worker started with sink_in_worker=false: the SQL writes then use a core of
    their own, and a database outage never touches the stream processing.
    """
    metrics = Metrics()
    listener = await serve_metrics(
        metrics.registry,
        host=settings.web_bind,
        port=settings.web_port,
        header_timeout_s=settings.web_header_timeout_s,
    )
    read_model = await ReadModel.open(settings.effective_database_url)
    consumer = sink_consumer(settings, TopicNames(settings.topic_prefix))
    try:
        await _migrate(read_model)
        metrics.record_sink_up(True)
        await _consume(read_model, consumer, settings=settings, metrics=metrics)
    finally:
        await read_model.close()
        await listener.cleanup()


async def _consume(
    read_model: ReadModel, consumer: BatchConsumer, *, settings: Settings, metrics: Metrics
) -> None:
    """Run the sink until cancelled; an unknown error exits hard, never past a batch not written."""
    await consumer.start()
    try:
        await run_sink(read_model, consumer, settings=settings, metrics=metrics)
    except asyncio.CancelledError:
        raise
    except BaseException:
        exit_hard("the read-model sink")
    finally:
        await consumer.stop()


class SinkLag:
    """The sink group's lag on the consumer-lag gauge; partitions it no longer owns are removed."""

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._owned: set[tuple[str, str]] = set()

    def record(self, lags: Mapping[TopicPartition, int]) -> None:
        owned = {(tp.topic, str(tp.partition)) for tp in lags}
        remove_series(self._gauge, self._owned - owned)
        for tp, n in lags.items():
            self._gauge.labels(tp.topic, str(tp.partition)).set(n)
        self._owned = owned


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
