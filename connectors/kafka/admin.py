"""Creating topics ahead of producers, so they exist with the configured partition count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=n, num_partitions=partitions, replication_factor=replication_factor)
            for n in names
            if n not in existing
        ]
        if missing:
            # Another process may create them in between: fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def bootstrap_of(broker_url: str) -> str:
    """'kafka://h1:9092;kafka://h2:9092' -> 'h1:9092,h2:9092'.

    >>> bootstrap_of("kafka://127.0.0.1:9092")
    '127.0.0.1:9092'
    """
    return ",".join(part.removeprefix("kafka://") for part in broker_url.split(";"))
