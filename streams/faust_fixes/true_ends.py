"""Faust's table recovery reads each changelog to its true end, not to the end the broker reports.

Targets faust-streaming 0.15 (`Consumer.highwaters`, read by `faust.tables.recovery`).

Why: Faust restores a table by reading its changelog partitions up to their reported end
offsets, and the development broker reports too low an end (connectors/kafka/true_ends.py).
Recovery silently dropped the states of each changelog's last record batch: after
SIGTERM and a restart those households never fired their deadlines again.

Shown by: tests/integration/test_true_ends.py (the broker's reported end) and
tests/integration/test_reliability.py (SIGTERM under load, restart continues exactly).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from connectors.kafka.security import KafkaSecurity
from connectors.kafka.true_ends import true_ends

Highwaters = Callable[..., Awaitable[Mapping[Any, int | None]]]


def read_changelogs_to_their_true_end(consumer: Any, bootstrap: str, security: KafkaSecurity) -> None:
    """Wrap the Faust consumer's `highwaters` (what recovery reads to) with `true_ends`."""
    reported: Highwaters = consumer.highwaters

    async def highwaters(*partitions: Any) -> Mapping[Any, int | None]:
        return await true_ends(bootstrap, await reported(*partitions), security=security)

    consumer.highwaters = highwaters
