"""Helpers for batch agents: batches, per-partition grouping, crash-not-skip."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NoReturn

import faust
from faust.types import EventT

log = logging.getLogger(__name__)


def batches(stream: faust.StreamT[Any], max_events: int, within_s: float) -> AsyncIterator[list[EventT]]:
    """Faust's `take_events`: up to `max_events` events, or what arrived within `within_s`."""
    taken: AsyncIterator[list[EventT]] = stream.take_events(  # type: ignore[attr-defined]  # missing from StreamT stubs
        max_events, within_s
    )
    return taken


def by_partition(events: Sequence[EventT]) -> dict[tuple[str, int], list[EventT]]:
    groups: dict[tuple[str, int], list[EventT]] = {}
    for event in events:
        groups.setdefault((event.message.topic, event.message.partition), []).append(event)
    return groups


def crash_on_error(
    name: str, body: Callable[[faust.StreamT[Any]], Awaitable[None]]
) -> Callable[[faust.StreamT[Any]], Awaitable[None]]:
    async def agent(stream: faust.StreamT[Any]) -> None:
        try:
            await body(stream)
        except asyncio.CancelledError:
            raise
        except BaseException:
            # An unknown error must not be logged and skipped: Faust would ack the
            # batch on the way out.
            exit_hard(f"agent {name}")

    return agent


def exit_hard(what: str) -> NoReturn:
    """Exit at once (code 70) so nothing more is committed; the restart processes the batch again."""
    log.critical("%s failed; exiting so the batch is re-processed", what, exc_info=True)
    logging.shutdown()
    os._exit(70)
