"""A partition's true end: one past the last record really there, whatever the broker reports.

The development broker (Tansu) reports a partition's end as the base offset of its last
record batch plus one: with five records in that last batch it says 1, not 5 (measured,
README "What the development broker cannot show"). `true_ends` reads past the reported
ends and raises them to the last record. On Apache Kafka the reported end is already
right, and the check costs one fetch per partition.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.security import PLAINTEXT, KafkaSecurity

log = logging.getLogger(__name__)

_QUIET_POLLS = 3


async def true_ends(
    bootstrap: str, ends: Mapping[Any, int | None], *, security: KafkaSecurity = PLAINTEXT
) -> dict[Any, int | None]:
    """The reported ends, raised to one past the last record actually there."""
    corrected = dict(ends)
    wanted = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end}
    if not wanted:
        return corrected
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **security.client_kwargs()
    )
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
