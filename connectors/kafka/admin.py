"""Creating topics ahead of producers, so they exist with the configured partition count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from connectors.kafka.security import PLAINTEXT, KafkaSecurity, start_client


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int = 1,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are.

    The first connection of a worker or command: a TLS or SASL mistake fails here with
    KafkaSecurityError, one line naming the setting.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_kwargs())
    await start_client(admin, bootstrap, security)
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
