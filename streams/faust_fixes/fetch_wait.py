"""The fetch wait of Faust's worker consumer, which Faust hard-codes to 1500 ms.

Targets faust-streaming 0.15 (`AIOKafkaConsumerThread._create_worker_consumer` passes
`fetch_max_wait_ms=1500` and exposes no setting).

Why: with 1500 ms, a partition with little traffic holds every fetch of its consumer for
1.5 s, which is most of the latency at low load (README "Performance"). The consumer's
own attribute is set on the one consumer thread of this app, so other apps in the same
process (tests, the replay) keep their own value.

Shown by: tests/streams/test_faust_fixes.py (the worker consumer's wait is the setting,
per app; an app without the fix gets Faust's 1500 ms).
"""

from __future__ import annotations

from typing import Any

__all__ = ["lower_fetch_wait"]


def lower_fetch_wait(consumer: Any, fetch_max_wait_ms: int) -> None:
    """Make this Faust consumer's aiokafka consumer wait at most `fetch_max_wait_ms` per fetch."""
    thread = consumer._thread  # noqa: SLF001  # Faust's consumer thread builds the aiokafka consumer
    create = thread._create_worker_consumer  # noqa: SLF001  # the one place Faust builds it

    def create_with_fetch_wait(transport: Any) -> Any:
        kafka_consumer = create(transport)
        # aiokafka reads this attribute when it builds its fetcher in start().
        kafka_consumer._fetch_max_wait_ms = fetch_max_wait_ms  # noqa: SLF001  # no public setter
        return kafka_consumer

    thread._create_worker_consumer = create_with_fetch_wait  # noqa: SLF001  # this app's thread only
