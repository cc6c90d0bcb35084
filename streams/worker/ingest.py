"""The ingest stage without Faust: raw inbound records in, intake results and forwarded ticks out.

The ingest agent (streams/worker/agents.py) groups a batch per topic partition and hands
each group to `IngestProcessor.process`; this module validates and keys
each event (signals.intake), drops what this worker saw recently, moves the partition's
clock on ticks, and says what to send and count. It touches no Kafka and no metric, so
tests drive it with plain records and a dict for the clock table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import AcceptedEvent, ClockTick
from signals.intake import IntakeLimits, Origin, accept, dead_letter
from streams.worker.dedup import RecentIds, raw_fingerprint
from streams.worker.tables import read_time
from streams.worker.topics import TopicNames

__all__ = ["InboundRecord", "IngestProcessor", "IngestResult"]

CLOCK_KEY = b"__clock__"


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One consumed message of an inbound or clock topic."""

    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class IngestResult:
    """What one topic partition's records become: results to send, ticks to forward, counts."""

    intake: list[tuple[str, AcceptedEvent | DeadLetter]] = field(default_factory=list)
    ticks: list[bytes] = field(default_factory=list)
    consumed: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)


class IngestProcessor:
    """Validates, keys and de-duplicates inbound records; forwards clock ticks."""

    def __init__(
        self,
        *,
        names: TopicNames,
        limits: IntakeLimits,
        clock_times: MutableMapping[str, bytes],
        recent: RecentIds | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._names = names
        self._limits = limits
        self._clock_times = clock_times
        self._recent = recent or RecentIds()
        # The wall clock is recorded on dead letters only; no rule reads it.
        self._now = now

    def process(self, topic: str, partition: int, records: Sequence[InboundRecord]) -> IngestResult:
        """The intake of one topic partition's records, in order."""
        if topic == self._names.clock:
            return self._forward_ticks(topic, partition, records)
        result = IngestResult()
        source = self._names.source_of(topic)
        # Future-dated means ahead of the clock: ticks of this partition number.
        clock_time = read_time(self._clock_times, str(partition))
        for record in records:
            result.consumed[source] += 1
            accepted = accept(
                record.value,
                origin=self._origin(source, topic, partition, record),
                stream_time=clock_time,
                limits=self._limits,
            )
            # Only an identical re-send is dropped here; the same id with other bytes goes on to be judged.
            fingerprint = raw_fingerprint(record.value)
            recent = self._recent
            if isinstance(accepted, AcceptedEvent) and recent.seen(accepted.event.dedup_key, fingerprint):
                result.duplicates[source] += 1
                continue
            result.intake.append((source, accepted))
        return result

    def _forward_ticks(self, topic: str, partition: int, records: Sequence[InboundRecord]) -> IngestResult:
        """A tick moves this partition's clock and goes on to the same household partition."""
        result = IngestResult()
        latest = read_time(self._clock_times, str(partition))
        for record in records:
            try:
                tick = ClockTick.model_validate_json(record.value or b"")
            except ValidationError as exc:
                # A bad tick must not stop the pipeline (a poison message would crash-loop it).
                origin = self._origin("clock", topic, partition, record)
                result.intake.append(("clock", dead_letter(record.value, origin, exc)))
                continue
            latest = tick.at if latest is None or tick.at > latest else latest
            result.ticks.append(record.value or b"")
        if latest is not None:
            self._clock_times[str(partition)] = latest.isoformat().encode()
        return result

    def _origin(self, source: str, topic: str, partition: int, record: InboundRecord) -> Origin:
        return Origin(
            source=source,
            topic=topic,
            partition=partition,
            offset=record.offset,
            key=record.key,
            received_at=self._now(),
        )
