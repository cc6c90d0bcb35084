"""The agents: thin loops that decode, call signals/, send, and acknowledge only after delivery.

The household fold runs in a thread of its own (streams/worker/fold_thread.py), so the event
loop answers /healthz, /metrics and the broker while a long batch folds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from faust.types import EventT
from pydantic import ValidationError

from schemas.internal_v1 import HOUSEHOLD_MESSAGE, AcceptedEvent, ClockTick, HouseholdMessage
from signals.household import Refusal
from signals.intake import IntakeLimits, Origin, dead_letter, refused_letter
from streams.faust_fixes.current_event import set_current_event
from streams.worker import outputs
from streams.worker.batching import batches, by_partition, crash_on_error
from streams.worker.fold_thread import FoldThread
from streams.worker.household import BatchResult, HouseholdProcessor
from streams.worker.ingest import CLOCK_KEY, InboundRecord, IngestProcessor
from streams.worker.lag import register_lag, remove_series
from streams.worker.pipeline import Pipeline
from streams.worker.sink import register_sink
from streams.worker.tables import TextKeys, raw_table, read_time, rocksdb_options


def register(app: faust.App, pipeline: Pipeline, *, fold: FoldThread) -> None:
    """Declare topics and tables and attach the agents to the app; the household fold runs in `fold`."""
    s, names = pipeline.settings, pipeline.names
    inbound = app.topic(
        *names.all_inbound, names.clock, partitions=s.partitions, key_serializer="raw", value_serializer="raw"
    )
    internal = pipeline.topic(names.events_by_household)
    store = (
        rocksdb_options(
            write_buffer_mib=s.rocksdb_write_buffer_mib, block_cache_mib=s.rocksdb_block_cache_mib
        )
        if s.store == "rocksdb://"
        else None
    )
    states = TextKeys(raw_table(app, "state_by_household", partitions=s.partitions, options=store))
    stream_times = TextKeys(
        raw_table(app, "stream_time_by_partition", partitions=s.partitions, options=store)
    )
    clock_times = TextKeys(raw_table(app, "clock_time_by_partition", partitions=s.partitions, options=store))
    processor = HouseholdProcessor(
        states=states,
        policy=s.rules,
        route=pipeline.routing.route,
        partition_of=pipeline.partition_of,
        forget_after_days=s.household_forget_days,
        limits=s.household_limits,
    )
    ingest = IngestProcessor(
        names=names,
        limits=IntakeLimits(
            max_message_bytes=s.max_message_bytes, future_tolerance=timedelta(seconds=s.future_tolerance_s)
        ),
        clock_times=clock_times,
    )

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub wants a sync signature
    async def _on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        pipeline.metrics.rebalances.inc()
        processor.forget_partitions(sorted({tp.partition for tp in revoked}))
        remove_series(pipeline.metrics.stream_time, ((str(tp.partition),) for tp in revoked))

    app.agent(inbound, name="ingest")(_ingest_agent(pipeline, ingest))
    app.agent(internal, name="household")(_household_agent(pipeline, processor, fold, states, stream_times))
    register_sink(app, pipeline)
    register_lag(app, pipeline)
    if s.clock == "wall":
        app.timer(s.tick_interval_s, on_leader=True)(_clock(pipeline))


def _ingest_agent(pipeline: Pipeline, ingest: IngestProcessor) -> Any:
    s, m = pipeline.settings, pipeline.metrics

    async def agent(stream: faust.StreamT[Any]) -> None:
        async for batch in batches(stream, s.batch_max_events, s.batch_within_s):
            started = time.perf_counter()
            outbox = outputs.Outbox(pipeline)
            for (topic, partition), events in by_partition(batch).items():
                set_current_event(events[-1])
                result = ingest.process(topic, partition, [_inbound(e) for e in events])
                for tick in result.ticks:
                    outbox.add(
                        pipeline.names.events_by_household, key=CLOCK_KEY, value=tick, partition=partition
                    )
                for source, intake in result.intake:
                    outbox.add_intake(intake)
                    outputs.record_intake(m, source, intake)
                outputs.record_counts(m, consumed=result.consumed, duplicates=result.duplicates)
            await outbox.send()
            m.processing_latency.labels("ingest").observe(time.perf_counter() - started)

    return crash_on_error("ingest", agent)


def _inbound(event: EventT) -> InboundRecord:
    return InboundRecord(offset=event.message.offset, key=event.key, value=event.value)


def _household_agent(
    pipeline: Pipeline,
    processor: HouseholdProcessor,
    fold: FoldThread,
    states: TextKeys,
    stream_times: TextKeys,
) -> Any:
    s, m = pipeline.settings, pipeline.metrics

    async def household(stream: faust.StreamT[Any]) -> None:
        async for batch in batches(stream, s.batch_max_events, s.batch_within_s):
            groups = by_partition(batch)
            # Cancelled at an await (the fold or the send: before any state was written, and
            # only once the fold has ended, FoldThread.run), the partitions' indexes are rebuilt.
            with processor.until_written(sorted({partition for _, partition in groups})):
                await _household_batch(groups)

    async def _household_batch(groups: dict[tuple[str, int], list[EventT]]) -> None:
        started = time.perf_counter()
        results = []
        outbox = outputs.Outbox(pipeline)
        for (_, partition), events in groups.items():
            # Table reads of a RocksDB store go to the current event's partition.
            set_current_event(events[-1])
            offsets: dict[int, int] = {}
            messages = _decode_internal(pipeline, events, outbox, offsets)
            before = read_time(stream_times, str(partition))
            # In the fold thread, in a copy of this context (the current event just set): the
            # loop answers /healthz, /metrics and the broker meanwhile (streams/worker/fold_thread.py).
            result = await fold.run(processor.process, partition, messages, before)
            for accepted, refusal in result.refused:
                _dead_letter_refused(pipeline, accepted, refusal, partition, offsets[id(accepted)], outbox)
            results.append((partition, events[-1], result))
        # Effects first, acknowledged by the broker; states after. A crash in
        # between re-sends the same effect ids, it never loses one. Encoded in the fold
        # thread too: a catch-up's tens of thousands of outputs took most of a second.
        await fold.run(_queue_outputs, outbox, [result for _, _, result in results])
        await outbox.send()
        # No await from here on: the states, stream times and metrics of the batch are written whole.
        for partition, last_event, result in results:
            set_current_event(last_event)
            for key, raw in result.states.items():
                states[key] = raw
            for key in result.forgotten:
                states.pop(key, None)  # a tombstone on the changelog: compaction drops the household
            if result.stream_time is not None:
                stream_times[str(partition)] = result.stream_time.isoformat().encode()
                m.stream_time.labels(str(partition)).set(result.stream_time.timestamp())
            outputs.record_outcomes(m, result.outcomes)
        m.pending_deadlines.set(processor.pending_wakeups())
        m.households_tracked.set(processor.households_tracked())
        m.processing_latency.labels("household").observe(time.perf_counter() - started)

    return crash_on_error("household", household)


def _queue_outputs(outbox: outputs.Outbox, results: Sequence[BatchResult]) -> None:
    for result in results:
        for output in result.outputs:
            outbox.add_output(output)


def _decode_internal(
    pipeline: Pipeline, events: Sequence[EventT], outbox: outputs.Outbox, offsets: dict[int, int]
) -> list[HouseholdMessage]:
    """Messages of the internal topic; one that does not decode goes to the dead-letter topic.

    `offsets` receives each message's offset by `id(message)`, for the dead letter of a refused one.
    """
    messages = []
    for event in events:
        try:
            message = HOUSEHOLD_MESSAGE.validate_json(event.value)
        except ValidationError as exc:
            _dead_letter_internal(pipeline, event, "internal", exc, outbox)
            continue
        offsets[id(message)] = event.message.offset
        messages.append(message)
    return messages


def _dead_letter_refused(
    pipeline: Pipeline,
    accepted: AcceptedEvent,
    refusal: Refusal,
    partition: int,
    offset: int,
    outbox: outputs.Outbox,
) -> None:
    """A valid event the household stage refused, to its source's dead-letter topic, counted."""
    source = accepted.event.source
    origin = Origin(
        source=source,
        topic=pipeline.names.events_by_household,
        partition=partition,
        offset=offset,
        key=accepted.household_key.encode(),
        received_at=datetime.now(UTC),  # recorded on the dead letter only
    )
    pipeline.metrics.events_dead_lettered.labels(source, refusal.reason_class).inc()
    if refusal.reason_class == "household_limit":
        pipeline.metrics.household_limit.labels(source, refusal.limit or "open_debts").inc()
    if refusal.reason_class == "conflicting_duplicate":
        pipeline.metrics.conflicts.labels("event_id").inc()
    outbox.add_intake(refused_letter(accepted, refusal.reason_class, refusal.message, origin))


def _dead_letter_internal(
    pipeline: Pipeline, event: EventT, source: str, exc: ValidationError, outbox: outputs.Outbox
) -> None:
    origin = Origin(
        source=source,
        topic=event.message.topic,
        partition=event.message.partition,
        offset=event.message.offset,
        key=event.key,
        received_at=datetime.now(UTC),  # recorded on the dead letter only
    )
    pipeline.metrics.events_dead_lettered.labels(source, "invalid").inc()
    outbox.add_intake(dead_letter(event.value, origin, exc))


def _clock(pipeline: Pipeline) -> Callable[[], Awaitable[None]]:
    """Leader-only: a tick into every partition of the clock topic, so idle partitions advance too."""

    async def tick() -> None:
        clock = pipeline.topic(pipeline.names.clock)
        # The one place the wall clock enters: recorded on a topic, so a replay
        # of the topics sees exactly the same times.
        tick = ClockTick(at=datetime.now(UTC)).model_dump_json().encode()
        for partition in range(pipeline.settings.partitions):
            await clock.send(key=CLOCK_KEY, value=tick, partition=partition)

    return tick
