"""Consumer tuning Faust does not expose: the fetch wait of its aiokafka consumer."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

_original = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_fetch_wait_ms = 1500


def lower_fetch_wait(fetch_max_wait_ms: int) -> None:
    """Make Faust's worker consumer wait at most this long for a fetch (it hard-codes 1500 ms)."""
    global _fetch_wait_ms
    _fetch_wait_ms = fetch_max_wait_ms
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def _create_worker_consumer(self: Any, transport: Any) -> Any:
    consumer = _original(self, transport)
    # aiokafka reads this attribute when it builds its fetcher in start().
    consumer._fetch_max_wait_ms = _fetch_wait_ms
    return consumer
