"""A plain Kafka consumer group read in batches, committed by the caller after its work is durable.

The read-model sink uses this instead of a Faust agent: a sink keeps no table and
needs none of Faust's per-message machinery (two tasks and a queue hop per record,
which cost it more than its SQL; see README "Performance"). Offsets are committed only
through `commit(batch)`, after the caller's write: delivery is at-least-once, and a
batch that was fetched but not committed (crash, stop, rebalance) is fetched again by
whichever member owns the partition next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from connectors.kafka.security import PLAINTEXT, KafkaSecurity, start_client

log = logging.getLogger(__name__)

__all__ = ["BatchConsumer", "ConsumerOptions"]


@dataclass(frozen=True)
class ConsumerOptions:
    """Group membership and fetch sizes (seconds and counts, as in the settings)."""

    max_records: int = 2000
    fetch_max_wait_ms: int = 100
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 1.0
    # A batch may wait on the database for as long as it is down: the consumer must not be
    # thrown out of the group meanwhile (its heartbeats continue on their own task).
    max_poll_interval_s: float = 3600.0


class BatchConsumer:
    """`start`, `next_batch`, `commit(batch)`, `lag`, `stop`: one consumer group over some topics."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        options: ConsumerOptions | None = None,
        *,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        o = options or ConsumerOptions()
        self._bootstrap, self._security = bootstrap, security
        self._topics = tuple(topics)
        self._max_records = o.max_records
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=o.max_records,
            fetch_max_wait_ms=o.fetch_max_wait_ms,
            session_timeout_ms=int(o.session_timeout_s * 1000),
            heartbeat_interval_ms=int(o.heartbeat_interval_s * 1000),
            max_poll_interval_ms=int(o.max_poll_interval_s * 1000),
            **security.client_kwargs(),
        )

    async def start(self) -> None:
        """Connect and subscribe (the group join completes on the first fetches)."""
        await start_client(self._consumer, self._bootstrap, self._security)
        self._consumer.subscribe(list(self._topics))

    async def stop(self) -> None:
        """Leave the group without committing anything more."""
        await self._consumer.stop()

    async def next_batch(self, timeout_s: float) -> list[ConsumerRecord[bytes, bytes]]:
        """Up to max_records records, partition by partition in offset order; [] after the timeout."""
        fetched = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=self._max_records
        )
        return [record for records in fetched.values() for record in records]

    async def commit(self, batch: Sequence[ConsumerRecord[bytes, bytes]]) -> bool:
        """Commit past every record of a processed batch; False when the group took the partitions away.

        Then the records go to their new owner and are processed again, which the
        caller's idempotent writes absorb; nothing is lost either way.
        """
        offsets: dict[TopicPartition, int] = {}
        for record in batch:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        owned = self._consumer.assignment()
        offsets = {tp: n for tp, n in offsets.items() if tp in owned}
        if not offsets:
            return not batch  # nothing to commit is fine; a batch of revoked partitions is not
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("commit refused after a rebalance; the new owner re-reads: %r", exc)
            return False
        except KafkaError as exc:
            # Broker unavailable or similar: uncommitted offsets are read again later, never lost.
            log.warning("commit failed; the records will be read again: %r", exc)
            return False
        return True

    async def lag(self) -> dict[TopicPartition, int]:
        """End offset (as of the last fetch) minus position, for every assigned partition."""
        lags: dict[TopicPartition, int] = {}
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is not None:
                lags[tp] = max(0, end - await self._consumer.position(tp))
        return lags
