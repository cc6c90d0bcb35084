"""Table recovery reads each changelog to its true end, not to the end the broker reports.

Faust restores a table by reading its changelog partitions up to their reported end
offsets. The development broker (Tansu) reports a partition's end as the base offset of
its last record batch plus one: with five states in that last batch it says 1, not 5
(measured, README "What the development broker cannot show"), and recovery silently
dropped those states. After SIGTERM and a restart, the households whose state was lost
never fired their deadlines again (tests/integration/test_reliability.py). The records
past the reported end are read here and the end is corrected. On Apache Kafka the
reported end is already right, and this check only costs one fetch per changelog
partition at recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

Highwaters = Callable[..., Awaitable[Mapping[Any, int | None]]]
_QUIET_POLLS = 3


async def true_ends(bootstrap: str, ends: Mapping[Any, int | None]) -> dict[Any, int | None]:
    """The reported ends, raised to one past the last record actually there."""
    corrected = dict(ends)
    wanted = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end}
    if not wanted:
        return corrected
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp, original in wanted.items():
            consumer.seek(tp, max(0, (ends[original] or 0) - 1))
        quiet = 0
        while quiet < _QUIET_POLLS:
            fetched = await consumer.getmany(timeout_ms=100)
            if not fetched:
                quiet += 1
                continue
            quiet = 0
            for tp, records in fetched.items():
                original = wanted[tp]
                last = records[-1].offset + 1
                if last > (corrected[original] or 0):
                    corrected[original] = last
    finally:
        await consumer.stop()
    for original, end in corrected.items():
        if end != ends[original]:
            log.warning(
                "changelog %s: broker reported end %s, records reach %s", original, ends[original], end
            )
    return corrected


def read_changelogs_to_their_true_end(consumer: Any, bootstrap: str) -> None:
    """Wrap the Faust consumer's `highwaters` (what recovery reads to) with `true_ends`."""
    reported: Highwaters = consumer.highwaters

    async def highwaters(*partitions: Any) -> Mapping[Any, int | None]:
        return await true_ends(bootstrap, await reported(*partitions))

    consumer.highwaters = highwaters
