"""Consumer lag per partition: end offset minus committed offset, recorded on every worker.

Each worker reports only the partitions assigned to it; dashboards and alerts take
`max by (topic, partition)` over workers. Label sets of revoked partitions are removed,
so a worker never keeps exporting the lag of a partition another worker now owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping, Set
from typing import Any

import faust
from faust.types import TP
from faust.types.transports import ConsumerT
from prometheus_client import Gauge

from streams.faust_fixes.committed import committed_offsets
from streams.worker.pipeline import Pipeline

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 10.0
# Well below the interval: a round that hangs (broker gone, rebalance) is dropped
# instead of delaying the next one; the gauges keep their last values meanwhile.
ROUND_TIMEOUT_S = 5.0


def register_lag(app: faust.App, pipeline: Pipeline) -> None:
    """Record vroegsignaal_consumer_lag_messages every LAG_INTERVAL_S, and forget revoked partitions."""
    gauge = pipeline.metrics.consumer_lag
    # Only our own topics: Faust's changelog topics are read during recovery only (they
    # have no committed offset) and its leader topic never carries messages.
    topics = frozenset(pipeline.names.everything)

    # Not on_leader: every worker owns different partitions and must report its own.
    @app.timer(LAG_INTERVAL_S)
    async def record_consumer_lag() -> None:
        if app.rebalancing:
            return  # assignment and offsets are in flux; the next round sees the new owner
        try:
            await asyncio.wait_for(record_once(app.consumer, gauge, topics), ROUND_TIMEOUT_S)
        except Exception as exc:
            # A metric must never take the worker down: a Faust timer that raises
            # crashes the app. The next round tries again.
            log.warning("consumer lag not recorded this round: %r", exc)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub wants a sync signature
    async def _forget_revoked(sender: Any, revoked: Set[TP], **_: Any) -> None:
        remove_series(gauge, ((tp.topic, str(tp.partition)) for tp in revoked))


async def record_once(consumer: ConsumerT, gauge: Gauge, topics: Set[str]) -> None:
    """Set the gauge for every assigned partition of `topics` that is still assigned afterwards."""
    owned = {tp for tp in consumer.assignment() if tp.topic in topics}
    if not owned:
        return
    lags = await consumer_lag(consumer, owned)
    # A rebalance may have revoked partitions while we awaited the broker; setting
    # them now would resurrect the label sets the revoke handler just removed.
    still_owned = consumer.assignment()
    for tp, lag in lags.items():
        if tp in still_owned:
            gauge.labels(tp.topic, str(tp.partition)).set(lag)


async def consumer_lag(consumer: ConsumerT, tps: Set[TP]) -> dict[TP, int]:
    """End offset minus committed offset (or position when nothing is committed yet), per partition."""
    # highwaters() asks the broker (ListOffsets, on the consumer's own thread, so the
    # event loop only awaits). highwater(tp) is cheaper but only as fresh as the last
    # fetch, and Faust stops fetching a partition whose buffer is full: exactly when
    # the lag matters, it would stand still.
    ends: Mapping[TP, int] = await consumer.highwaters(*tps)
    lags: dict[TP, int] = {}
    for tp in tps:
        end = ends.get(tp)
        done = await _read_up_to(consumer, tp)
        if end is not None and done is not None:
            # Committed can pass the end we read a moment ago when messages arrive and
            # are processed in between; that is no lag, not negative lag.
            lags[tp] = max(0, end - done)
    return lags


async def _read_up_to(consumer: ConsumerT, tp: TP) -> int | None:
    """The next offset the group would read after a restart: committed, else the position."""
    # Faust's own record, no broker round trip (streams/faust_fixes/committed.py).
    offset = committed_offsets(consumer).get(tp)
    if offset is not None:
        return offset
    return await consumer.position(tp)


def remove_series(gauge: Gauge, label_sets: Iterable[tuple[str, ...]]) -> None:
    """Remove label sets from a gauge; one that was never set is no error."""
    for labels in label_sets:
        # Older prometheus_client releases (pyproject allows them) raise KeyError for it.
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)
