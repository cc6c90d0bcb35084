"""The pipeline: everything the agents, views and sink of one worker share, typed and built once.

`streams.bootstrap.create_app` builds it; every register function receives it. It holds
no behaviour beyond addressing topics and partitions, so any module can take it as an
argument without importing the bootstrap (which would close an import cycle).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import faust

from connectors.kafka.partitions import partition_of_household
from connectors.readmodel import ReadModel
from signals.routing import RoutingTable
from streams.worker.metrics import Metrics
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

__all__ = ["Pipeline", "ReadModelSlot"]


@dataclass
class ReadModelSlot:
    """The read model once the worker has opened and migrated it; `reachable` from the last ping."""

    model: ReadModel | None = None
    reachable: bool = False
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def open_with(self, read_model: ReadModel) -> None:
        """Publish the opened read model to everything waiting for it."""
        self.model = read_model
        self.reachable = True
        self.opened.set()

    async def ready(self) -> ReadModel:
        """The read model, waiting until it is open."""
        await self.opened.wait()
        assert self.model is not None  # set together with the event
        return self.model


@dataclass
class Pipeline:
    """Everything the agents and views share, built once per process by the bootstrap."""

    settings: Settings
    names: TopicNames
    routing: RoutingTable
    metrics: Metrics
    app: faust.App
    read_model: ReadModelSlot = field(default_factory=ReadModelSlot)
    _topics: dict[str, Any] = field(default_factory=dict)

    def topic(self, name: str) -> Any:
        """The raw-bytes topic object for a name, made once."""
        if name not in self._topics:
            self._topics[name] = self.app.topic(
                name, partitions=self.settings.partitions, key_serializer="raw", value_serializer="raw"
            )
        return self._topics[name]

    def partition_of(self, household_key: str) -> int:
        """Partition of a household on the internal topic (Kafka's default murmur2 partitioner)."""
        return partition_of_household(household_key, self.settings.partitions)
