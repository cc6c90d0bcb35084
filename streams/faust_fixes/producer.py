"""Faust's own Kafka producer, used for record batches, and its buffer bound raised.

Targets faust-streaming 0.15 (`Producer._ensure_producer`, `Producer.buffer.max_messages`).

Why: Faust's `send` has no batch API, and one `send` per record costs a future, a
partitioner call and Faust's sensors per record; the Outbox appends to one Kafka record
batch per partition and sends that (BROKER-NOTES.md), over the same connection Faust
starts before and stops after the agents. Table writes queue in Faust's producer buffer,
whose bound of 100 stalled the stream every 100 records; a batch writes up to one state
per household, so the bound follows the batch size.

Shown by: tests/integration/test_pipeline.py (every output of a run reaches its topic,
in order per partition) and the bench (`make bench`) for the stall.
"""

from __future__ import annotations

from typing import Any

import faust

__all__ = ["kafka_producer", "raise_buffer_bound"]


def kafka_producer(app: faust.App) -> Any:
    """The started aiokafka producer behind `app.producer`."""
    faust_producer: Any = app.producer
    return faust_producer._ensure_producer()  # noqa: SLF001  # no public accessor in Faust  # no public accessor in Faust


def raise_buffer_bound(app: faust.App, max_messages: int) -> None:
    """Let Faust's producer buffer hold `max_messages` before it makes the stream wait."""
    faust_producer: Any = app.producer
    faust_producer.buffer.max_messages = max_messages
